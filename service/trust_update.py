"""``verity trust update``: fetch the official C2PA trust lists into the data directory.

The lists are the C2PA Conformance Program's claim-signer trust list and TSA trust list,
published in the c2pa-org/conformance-public repository. They are the only thing Verity ever
downloads, and only when an operator runs this command on a machine that is online.
"""

import os
import tempfile
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from cryptography import x509

from detector.errors import VerityError

_BASE = "https://raw.githubusercontent.com/c2pa-org/conformance-public/main/trust-list/"
OFFICIAL_LISTS = [_BASE + "C2PA-TRUST-LIST.pem", _BASE + "C2PA-TSA-TRUST-LIST.pem"]
MAX_BYTES = 8 * 1024 * 1024
TIMEOUT_S = 30


class TrustListError(VerityError):
    """A trust list could not be fetched, or what came back is not a list of certificates."""


def update_trust_lists(folder: Path, urls: list[str] = OFFICIAL_LISTS) -> list[tuple[Path, int]]:
    """Download each PEM list into ``folder`` (replacing it only once it parsed); return the
    files written with how many certificates each holds."""
    # All or nothing: every list is fetched and parsed before any file is replaced.
    checked = []
    for url in urls:
        body = _fetch(url)
        checked.append((folder / Path(urlparse(url).path).name, body, _count(url, body)))
    folder.mkdir(parents=True, exist_ok=True)
    for target, body, _ in checked:
        _replace(target, body)
    return [(target, count) for target, _, count in checked]


def _fetch(url: str) -> bytes:
    if urlparse(url).scheme not in ("https", "http"):
        raise TrustListError(f"{url}: only http(s) URLs are fetched")
    request = urllib.request.Request(url, headers={"User-Agent": "verity-trust-update"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            body = response.read(MAX_BYTES + 1)
    except OSError as e:
        raise TrustListError(f"{url}: {e}") from e
    if len(body) > MAX_BYTES:
        raise TrustListError(f"{url}: larger than {MAX_BYTES:,} bytes, not a trust list")
    return body


def _count(url: str, body: bytes) -> int:
    try:
        return len(x509.load_pem_x509_certificates(body))
    except ValueError as e:
        raise TrustListError(f"{url}: not a PEM list of certificates ({e})") from e


def _replace(target: Path, body: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".download-")
    with os.fdopen(handle, "wb") as f:
        f.write(body)
    os.replace(temporary, target)
