"""Signed-in browsers: a cookie naming the API key, signed with the service's secret.

The web page and the bookmarklet's check page use it instead of a bearer key, so no key is
ever written into a page, a URL or a bookmark. The cookie is HttpOnly and SameSite=Strict;
a revoked key ends its sessions at once, because every request looks the key up again.
"""

import base64
import hashlib
import hmac
import secrets
import time
from pathlib import Path

COOKIE = "verity_session"
LIFETIME_S = 12 * 3600


def load_secret(configured: str, data_dir: Path) -> bytes:
    """The signing secret: ``VERITY_SECRET_KEY``, or one made once and kept in data_dir
    (several API machines must share one: set the variable)."""
    if configured:
        return configured.encode()
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip().encode()


def sign(secret: bytes, key_id: str, now: float | None = None) -> str:
    expires = int((now or time.time()) + LIFETIME_S)
    payload = f"{key_id}|{expires}".encode()
    mac = hmac.new(secret, payload, hashlib.sha256).digest()
    return _b64(payload) + "." + _b64(mac)


def verify(secret: bytes, token: str, now: float | None = None) -> str | None:
    """The key id a valid, unexpired token names; None otherwise."""
    try:
        payload_part, mac_part = token.split(".", 1)
        payload = base64.urlsafe_b64decode(payload_part + "==")
        mac = base64.urlsafe_b64decode(mac_part + "==")
        key_id, expires = payload.decode().split("|")
        expired = int(expires) < (now or time.time())
    except (ValueError, UnicodeDecodeError):
        return None
    expected = hmac.new(secret, payload, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected) or expired:
        return None
    return key_id


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
