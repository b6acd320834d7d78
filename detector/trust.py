"""C2PA trust configuration: the PEM files settings name, turned into c2pa-python settings."""

from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .settings import Settings

TRUST_FOLDER = "trust"  # under data_dir, where `verity trust update` writes


def anchor_files(settings: Settings) -> list[Path]:
    """The trust anchor PEM files in force: those named in settings, else the downloaded ones."""
    if settings.c2pa_trust_anchors:
        return list(settings.c2pa_trust_anchors)
    return sorted((settings.data_dir / TRUST_FOLDER).glob("*.pem"))


def c2pa_settings(settings: Settings) -> dict[str, Any]:
    """The c2pa-python settings for reading: trust from our files, no network unless enabled."""
    eku = settings.c2pa_trust_config
    config = _trust_config(
        _stamped(anchor_files(settings)),
        _stamped(settings.c2pa_allowed_certs),
        _stamped([eku])[0] if eku else None,
    )
    return {
        **config,
        "verify": {
            "verify_after_reading": True,
            "verify_trust": True,
            "remote_manifest_fetch": settings.c2pa_remote_manifests,
            "ocsp_fetch": settings.c2pa_ocsp,
        },
    }


Stamped = tuple[Path, int]  # a path and its modification time: a changed file is read again


def _stamped(paths: list[Path]) -> tuple[Stamped, ...]:
    try:
        return tuple((Path(p), Path(p).stat().st_mtime_ns) for p in paths)
    except OSError as e:
        raise ConfigError(f"{e.filename}: cannot read trust file: {e.strerror}") from e


@lru_cache(maxsize=8)
def _trust_config(
    anchors: tuple[Stamped, ...], allowed: tuple[Stamped, ...], eku: Stamped | None
) -> dict[str, Any]:
    trust: dict[str, str] = {}
    if anchors:
        trust["trust_anchors"] = "".join(_read_pem(p) for p, _ in anchors)
    if allowed:
        trust["allowed_list"] = "".join(_read_pem(p) for p, _ in allowed)
    if eku is not None:
        trust["trust_config"] = _read(eku[0])
    return {"trust": trust} if trust else {}


def _read_pem(path: Path) -> str:
    text = _read(path)
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ConfigError(f"{path}: holds no PEM certificate")
    return text if text.endswith("\n") else text + "\n"


def _read(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read trust file: {e.strerror or e}") from e
