"""Verity's detector: look at one video and return a Report of how likely it was fabricated."""

from .errors import (
    ConfigError,
    CorruptMedia,
    DecodeTimeout,
    MediaError,
    MediaTooLarge,
    MediaUnreadable,
    ModelError,
    NotAVideo,
    UnsupportedMedia,
    VerityError,
)
from .pipeline import analyze, analyze_keeping_stills
from .report import Evidence, Report, Verdict
from .settings import Settings, get_settings

__all__ = [
    "ConfigError",
    "CorruptMedia",
    "DecodeTimeout",
    "Evidence",
    "MediaError",
    "MediaTooLarge",
    "MediaUnreadable",
    "ModelError",
    "NotAVideo",
    "Report",
    "Settings",
    "UnsupportedMedia",
    "Verdict",
    "VerityError",
    "analyze",
    "analyze_keeping_stills",
    "get_settings",
]
