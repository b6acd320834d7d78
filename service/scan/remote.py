"""``verity scan --via URL``: analyses through a running Verity service and its Celery workers,
which is how a scan grows past one machine. The service answers with the same Reports."""

import json
import time
from pathlib import Path

import httpx

from .errors import ScanError

POLL_S = 0.5
RETRIES = 5


class RemoteAnalyser:
    """Called from a scan's threads: uploads one file, waits for its job, returns
    ("done", Report JSON) or ("failed", reason) like a local worker does."""

    def __init__(self, base_url: str, key: str, timeout_s: float = 3600.0):
        if not key:
            raise ScanError("--via needs an API key: set VERITY_API_KEY or pass --key")
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {key}"}
        self.timeout_s = timeout_s

    def check(self) -> None:
        """Raise ScanError unless the service answers and accepts the key."""
        with self._client() as client:
            response = self._request(client, "GET", "/v1/analyses", params={"limit": 1})
        if response.status_code in (401, 403):
            raise ScanError(f"{self.base_url} refused the API key")
        if response.status_code != 200:
            raise ScanError(f"{self.base_url} answered {response.status_code}")

    def __call__(self, path: str, sha256: str) -> tuple[str, str, None]:
        """As a local worker's analysis: (status, Report JSON or reason, no key frames)."""
        with self._client() as client:
            job, refusal = self._upload(client, Path(path))
            if refusal:
                return "failed", refusal, None
            deadline = time.monotonic() + self.timeout_s
            while time.monotonic() < deadline:
                answer = self._request(client, "GET", f"/v1/analyses/{job['id']}").json()
                if answer["state"] == "done":
                    return "done", json.dumps(answer["report"]), None
                if answer["state"] == "failed":
                    return "failed", answer["error"], None
                time.sleep(POLL_S)
        return "failed", f"the service did not finish within {self.timeout_s:g} s", None

    def _upload(self, client: httpx.Client, path: Path) -> tuple[dict, str]:
        """The job the service made, or why it refused the file."""
        for _ in range(RETRIES):
            with open(path, "rb") as f:
                response = self._request(
                    client, "POST", "/v1/analyses", rewind=f, files={"file": (path.name, f)}
                )
            if response.status_code == 202:
                return response.json(), ""
            if response.status_code == 429:  # over the key's rate: wait as told
                time.sleep(float(response.headers.get("retry-after", "5")))
                continue
            if response.status_code in (401, 403):
                raise ScanError(f"{self.base_url} refused the API key")
            detail = response.json().get("detail", "")
            return {}, f"refused by the service ({response.status_code}): {detail}"
        return {}, "the service kept answering 429 (too many submissions)"

    def _request(
        self, client: httpx.Client, method: str, url: str, rewind=None, **options
    ) -> httpx.Response:
        """One request, retried on connection errors and 5xx (``rewind``: the file being sent,
        read again from its start); ScanError when the service stays unreachable (the scan
        stops; its state keeps what was done)."""
        for attempt in range(RETRIES):
            if rewind is not None:
                rewind.seek(0)
            try:
                response = client.request(method, url, **options)
            except httpx.TransportError as e:
                error = f"{self.base_url} cannot be reached: {type(e).__name__}"
            else:
                if response.status_code < 500:
                    return response
                error = f"{self.base_url} answered {response.status_code}"
            time.sleep(min(2**attempt, 10))
        raise ScanError(error)

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=self.headers, timeout=120)
