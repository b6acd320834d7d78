"""What the ``fingerprint`` check asks of a memory of earlier analyses, and what it gets back.

The detector holds no database: whoever runs ``analyze`` may hand it a ``Memory`` (the service's
is ``service.memory.StoreMemory``, over the job store). ``recall`` finds every earlier analysis
whose fingerprint matches; what those analyses found, and what a journalist said of them, comes
back as ``Recalled``.
"""

from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from .fingerprint import FrameCode

DeskLabel = Literal["fabricated", "authentic"]


class DeskVerdict(BaseModel):
    """A journalist's statement about a piece of content: confirmed fabricated or authentic."""

    verdict: DeskLabel
    note: str = ""
    by: str = ""
    at: datetime


class Recalled(BaseModel):
    """An earlier analysis of content matching this video."""

    sha256: str
    analysed_at: datetime
    verdict: str
    likelihood: float
    names: list[str] = []  # the file names or paths it was seen under
    link: str | None = None  # where its report is, when the memory knows
    distance: int  # the smallest number of differing bits between matched frames
    frames_matched: int  # this video's frames that found a match in it
    frames: int  # this video's fingerprinted frames
    # the earlier analysis's decisive provenance, as its Evidence (check, finding, log_lr,
    # summary, details): what a platform may have stripped from this copy
    provenance: list[dict[str, Any]] = []
    desk_verdicts: list[DeskVerdict] = []


class Memory(Protocol):
    def recall(self, codes: list[FrameCode], sha256: str) -> list[Recalled]:
        """Earlier analyses matching ``codes``, best first (the file ``sha256`` included when
        it was analysed before)."""
        ...
