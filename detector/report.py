"""The Report an analysis returns, and the Evidence each check contributes to it.

The JSON schema of ``Report`` is versioned: ``schema/report.schema.json`` holds it and a test fails
when it goes stale. Regenerate it with ``verity schema > schema/report.schema.json``.
"""

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .phrase import Phrase

SCHEMA_VERSION = "1.1"  # 1.1: phrases beside the English sentences

try:
    VERITY_VERSION = version("verity")
except PackageNotFoundError:  # running from a source tree that was never installed
    VERITY_VERSION = "0+unknown"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Verdict(StrEnum):
    """The band a likelihood falls in. There is deliberately no "authentic"."""

    LIKELY_FABRICATED = "likely_fabricated"
    INCONCLUSIVE = "inconclusive"
    NO_EVIDENCE_OF_FABRICATION = "no_evidence_of_fabrication"


class Segment(_Model):
    """A stretch of the video with the score a check gave it (0 = looks real, 1 = generated)."""

    start_s: float
    end_s: float
    score: float = Field(ge=0, le=1)


class Evidence(_Model):
    """What one check found. ``log_lr`` is ln P(evidence | fabricated) / P(evidence | authentic)."""

    check: str
    status: Literal["ok", "not_applicable", "error"]
    finding: str = Field(description="short machine code, e.g. ai_declared, absent, no_signal")
    log_lr: float = 0.0
    summary: str = Field(description="one sentence a journalist can read (English)")
    summary_phrase: Phrase | None = Field(
        None, description="the summary as a template and its values, to render in any language"
    )
    details: dict[str, Any] = Field(default_factory=dict)
    generators: dict[str, float] = Field(default_factory=dict)
    segments: list[Segment] = Field(default_factory=list)
    limitations: list[str] = Field(
        default_factory=list, description="what this check could not see, for the Report"
    )
    limitation_phrases: list[Phrase] = Field(default_factory=list)

    @classmethod
    def said(
        cls, check: str, finding: str, summary: Phrase, limitations: Sequence[Phrase] = (), **fields
    ) -> "Evidence":
        """Evidence whose summary and limitations are phrases, kept with their English text."""
        return cls(
            check=check,
            finding=finding,
            summary=str(summary),
            summary_phrase=summary,
            limitations=[str(p) for p in limitations],
            limitation_phrases=list(limitations),
            **fields,
        )


class ModelInfo(_Model):
    name: str
    version: str
    sha256: str


class MediaInfo(_Model):
    """What the container says about the file, read before anything is decoded."""

    file_name: str
    sha256: str
    bytes: int
    container: str
    codec: str
    width: int = Field(description="display width, after rotation")
    height: int = Field(description="display height, after rotation")
    rotation: int = Field(0, description="degrees the stored frames are turned for display")
    fps: float | None = None
    fps_assumed: bool = Field(False, description="the file stores no frame rate; fps is a guess")
    variable_frame_rate: bool = False
    duration_s: float | None = None
    frame_count: int | None = None
    has_audio: bool = False
    tags: dict[str, str] = Field(default_factory=dict)


class Window(_Model):
    start_s: float
    end_s: float
    frames: int


class Sampling(_Model):
    """Which part of the video the frame checks saw."""

    span_start_s: float
    span_end_s: float
    frames_decoded: int
    key_frames_s: list[float] = Field(default_factory=list)
    windows: list[Window] = Field(default_factory=list)


class GeneratorScore(_Model):
    name: str
    probability: float = Field(ge=0, le=1)


class Limitation(_Model):
    code: str = Field(description="e.g. check_disabled, partial_decode, check_failed")
    message: str
    phrase: Phrase | None = None

    @classmethod
    def said(cls, code: str, phrase: Phrase) -> "Limitation":
        return cls(code=code, message=str(phrase), phrase=phrase)


class Report(_Model):
    schema_version: str = SCHEMA_VERSION
    verity_version: str = VERITY_VERSION
    analysed_at: datetime
    model: ModelInfo | None = None
    media: MediaInfo
    fabrication_likelihood: float = Field(ge=0, le=1)
    verdict: Verdict
    evidence: list[Evidence]
    generators: list[GeneratorScore] = Field(default_factory=list)
    timeline: list[Segment] = Field(default_factory=list)
    sampling: Sampling
    limitations: list[Limitation] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)


def report_schema() -> dict[str, Any]:
    """The JSON schema of the Report, as committed in ``schema/report.schema.json``."""
    schema = Report.model_json_schema()
    schema["$id"] = f"https://verity.invalid/schema/report-{SCHEMA_VERSION}.json"
    return schema
