"""API keys: random secrets handed out once, stored only as their SHA-256."""

import hashlib
import secrets

from .store import ApiKey, Store

PREFIX = "vk_"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(store: Store, name: str) -> tuple[ApiKey, str]:
    """A new key named ``name`` and its secret, which is not stored and cannot be shown again."""
    secret = PREFIX + secrets.token_urlsafe(32)
    return store.create_key(name, hash_secret(secret)), secret


def authenticate(store: Store, secret: str) -> ApiKey | None:
    """The live key with this secret, or None."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    return store.key_by_hash(hash_secret(secret))
