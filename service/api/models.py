"""The API's request and response bodies."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from detector.memory import DeskVerdict, Recalled
from detector.report import Report


class UrlSubmission(BaseModel):
    url: str = Field(max_length=4096, description="a video file, or a page that embeds one")


class AnalysisOut(BaseModel):
    id: str
    state: Literal["queued", "running", "done", "failed"]
    progress: float = Field(ge=0, le=1)
    filename: str
    size: int
    sha256: str
    source_url: str | None = None
    reused: bool = Field(description="answered from the stored report of the same bytes")
    created_at: datetime
    finished_at: datetime | None = None
    report: Report | None = None
    error: str | None = None


class AnalysisList(BaseModel):
    analyses: list[AnalysisOut]


class Problem(BaseModel):
    detail: str


class VerdictIn(BaseModel):
    verdict: Literal["fabricated", "authentic"] = Field(
        description="what the desk confirmed about this content"
    )
    note: str = Field("", max_length=2000, description="what the verdict rests on")


class VerdictOut(DeskVerdict):
    sha256: str


class MatchList(BaseModel):
    sha256: str = Field(description="the content the matches are of")
    matches: list[Recalled]


def problem(description: str) -> dict:
    """An error response documented as JSON, whatever the route's own media type."""
    return {
        "description": description,
        "content": {"application/json": {"schema": Problem.model_json_schema()}},
    }
