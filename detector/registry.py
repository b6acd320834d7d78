"""The check registry: ``@register_check("name")`` adds a check, settings can switch it off."""

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from .frames import Frames, FrameSpec
from .memory import Memory
from .phrase import Phrase
from .report import Evidence, MediaInfo
from .settings import Settings

_CHECKS: dict[str, type["Check"]] = {}


@dataclass(frozen=True)
class Needs:
    """What a check reads: the file's bytes, the container tags, decoded frames."""

    file: bool = False
    tags: bool = False
    frames: FrameSpec | None = None


@dataclass
class Media:
    """One video as every check sees it: probed once, frames decoded once."""

    path: Path
    info: MediaInfo
    frames: Frames
    memory: Memory | None = None  # earlier analyses, when the caller keeps them


class Check:
    """Base of every check. Subclasses set ``needs`` and implement ``run``."""

    name: ClassVar[str]
    needs: ClassVar[Needs] = Needs()

    def __init__(self, settings: Settings):
        self.settings = settings

    def run(self, media: Media) -> Evidence:
        raise NotImplementedError

    def evidence(
        self, finding: str, summary: Phrase, log_lr: float = 0.0, **fields: Any
    ) -> Evidence:
        """Evidence from this check with status ``ok``; ``fields`` fill the rest."""
        fields.setdefault("status", "ok")
        return Evidence.said(self.name, finding, summary, log_lr=log_lr, **fields)

    def not_run(self, finding: str, reason: Phrase) -> Evidence:
        """Evidence that the check could not run on this video (status ``not_applicable``),
        its reason kept as a limitation of the Report."""
        return Evidence.said(
            self.name, finding, reason, limitations=[reason], status="not_applicable"
        )


def register_check(name: str):
    """Class decorator that registers a check under ``name``."""

    def add(cls: type[Check]) -> type[Check]:
        if name in _CHECKS:
            raise ValueError(f"a check named {name!r} is registered already")
        cls.name = name
        _CHECKS[name] = cls
        return cls

    return add


def check_names() -> list[str]:
    """Every registered check, in registration order."""
    _load_builtin_checks()
    return list(_CHECKS)


def create_checks(settings: Settings) -> list[Check]:
    """Instances of every registered check that the settings leave switched on, those of
    ``settings.check_modules`` included."""
    _load_builtin_checks()
    for module in settings.check_modules:
        importlib.import_module(module)  # registers its checks, once per process
    return [cls(settings) for name, cls in _CHECKS.items() if name not in settings.disabled_checks]


def _load_builtin_checks() -> None:
    from . import checks  # noqa: F401  (importing the package registers its checks)
