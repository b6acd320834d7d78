"""Fetching a video from a URL on a journalist's behalf, without becoming a way into the
newsroom's own network (server-side request forgery).

- http and https only, no credentials in the URL;
- the host is resolved once, every address it resolves to is checked, and the connection
  goes to the checked address (TLS still verifies the certificate for the host name), so a
  second DNS answer cannot swap in an internal address (DNS rebinding);
- loopback, private, link-local (where cloud metadata services live), multicast, reserved,
  shared and unspecified ranges are refused, IPv4 and IPv6 alike, IPv4-mapped IPv6 included,
  unless ``VERITY_FETCH_ALLOW_HOSTS`` names the host or its network;
- every redirect is checked the same way; a size cap and an overall time limit apply;
- what arrived is judged by its bytes. An HTML page is searched for its video (``og:video``,
  ``<video src>``, ``<source src>``) and that is fetched instead, once.
"""

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from detector.sniff import HEAD_BYTES

from .intake import Received, Rejected, Sink

MAX_REDIRECTS = 5
MAX_PAGE_BYTES = 2 * 1024 * 1024
STREAMING_MANIFESTS = (".m3u8", ".mpd")
_REDIRECTS = {301, 302, 303, 307, 308}
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchRefused(Rejected):
    """The URL is not one the service will fetch, or fetching it failed."""

    def __init__(self, reason: str, status: int = 422):
        super().__init__(status, reason)


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    timeout_s: float
    allow_hosts: tuple[str, ...] = ()

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in {h.lower() for h in self.allow_hosts}

    def allows_address(self, address: Address) -> bool:
        for entry in self.allow_hosts:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:  # a host name, not a network
                continue
        return False


async def fetch_video(url: str, policy: FetchPolicy, tmp_dir) -> Received:
    """Download the video at ``url`` (or the one its page embeds) into a temporary file."""
    deadline = time.monotonic() + policy.timeout_s
    try:
        async with asyncio.timeout(policy.timeout_s):
            return await _fetch(url, policy, tmp_dir, deadline)
    except TimeoutError:
        raise FetchRefused(f"fetching took longer than {policy.timeout_s:g} s") from None


async def _fetch(url: str, policy: FetchPolicy, tmp_dir, deadline: float) -> Received:
    followed_page = False
    async with httpx.AsyncClient(trust_env=False, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            request = await checked_request(client, url, policy)
            timeout = httpx.Timeout(max(deadline - time.monotonic(), 0.1))
            async with client.stream(
                "GET", request.url, headers=request.headers, extensions=request.extensions,
                timeout=timeout,
            ) as response:  # fmt: skip
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise FetchRefused(f"the server answered {response.status_code}")
                sink = Sink(tmp_dir, policy.max_bytes)
                try:
                    is_page = None  # decided once the first bytes are in
                    async for chunk in response.aiter_bytes():
                        sink.write(chunk)
                        if is_page is None and sink.size >= HEAD_BYTES:
                            is_page = _looks_like_page(sink)
                        if is_page and sink.size > MAX_PAGE_BYTES:
                            raise FetchRefused("the page is too large to search for a video")
                    if not followed_page and _looks_like_page(sink):
                        sink.file.close()
                        page = sink.path.read_bytes()
                        sink.discard()
                        url = _video_in_page(page, url)
                        followed_page = True
                        continue
                    return sink.finish(_name_from(url))
                except BaseException:
                    sink.discard()
                    raise
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")


async def checked_request(client: httpx.AsyncClient, url: str, policy: FetchPolicy):
    """A request for ``url`` aimed at the checked address of its host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchRefused("only http and https URLs can be fetched")
    if parts.username or parts.password:
        raise FetchRefused("URLs with a user name or password are not fetched")
    host = parts.hostname
    if not host:
        raise FetchRefused("the URL has no host")
    if parts.path.lower().endswith(STREAMING_MANIFESTS):
        raise FetchRefused(
            "this is a streaming playlist, not a video file: download the video and upload it"
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = await resolve(host, port, policy)
    authority = f"[{address}]" if address.version == 6 else str(address)
    target = parts._replace(netloc=f"{authority}:{port}").geturl()
    headers = {"Host": parts.netloc.rsplit("@", 1)[-1], "User-Agent": "Verity (newsroom check)"}
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return client.build_request("GET", target, headers=headers, extensions=extensions)


async def resolve(host: str, port: int, policy: FetchPolicy) -> Address:
    """The one address to connect to; every address the host has must pass the policy."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise FetchRefused(f"the host {host!r} could not be resolved") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not policy.allows_host(host):
        for address in addresses:
            reason = refused_range(address)
            if reason and not policy.allows_address(address):
                raise FetchRefused(f"{host} resolves to {address}, {reason}: not fetched")
    return addresses[0]


def refused_range(address: Address) -> str | None:
    """Why an address is off limits, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address (where cloud metadata services live)"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for hit, reason in checks if hit), None)


def _looks_like_page(sink: Sink) -> bool:
    return sink.sniffed().kind == "html"


def _video_in_page(page: bytes, page_url: str) -> str:
    finder = _VideoFinder()
    finder.feed(page.decode("utf-8", "replace"))
    for candidate in finder.candidates():
        if candidate.startswith(("blob:", "data:")):
            continue
        return urljoin(page_url, candidate)
    raise FetchRefused(
        "the page names no video (og:video, <video src> or <source src>); if it plays one "
        "through a script or behind a login, download the video and upload it"
    )


class _VideoFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v for k, v in attrs if v}
        if tag == "meta":
            prop = values.get("property") or values.get("name") or ""
            if prop.startswith("og:video") and "content" in values:
                self.meta.setdefault(prop, values["content"])
        elif tag in ("video", "source") and "src" in values:
            self.sources.append(values["src"])

    def candidates(self) -> list[str]:
        order = ("og:video:secure_url", "og:video:url", "og:video")
        return [self.meta[k] for k in order if k in self.meta] + self.sources


def _name_from(url: str) -> str:
    return unquote(PurePosixPath(urlsplit(url).path).name) or "download"
