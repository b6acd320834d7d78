"""Words and numbers shared by every way a Report is shown (terminal, HTML, web page)."""

from detector.fusion import capped
from detector.generators import generators
from detector.report import Evidence, Report, Verdict

VERDICT_WORDS = {
    Verdict.LIKELY_FABRICATED: "Likely fabricated",
    Verdict.INCONCLUSIVE: "Inconclusive",
    Verdict.NO_EVIDENCE_OF_FABRICATION: "No evidence of fabrication",
}

VERDICT_MEANING = {
    Verdict.LIKELY_FABRICATED: "The evidence below points to an AI video generator. Read it "
    "before you quote the number.",
    Verdict.INCONCLUSIVE: "Verity found nothing decisive either way. This is not a sign that the "
    "video is authentic: generated clips often carry no marks at all.",
    Verdict.NO_EVIDENCE_OF_FABRICATION: "The checks found no sign of generation and some sign of "
    "a real capture. That is not proof of authenticity.",
}


def strength(evidence: Evidence) -> str:
    """How much a piece of evidence moved the verdict, in words."""
    weight = capped(evidence)
    if evidence.status != "ok":
        return "not counted"
    if abs(weight) < 0.05:
        return "neutral"
    direction = "towards fabrication" if weight > 0 else "against fabrication"
    size = "strong" if abs(weight) >= 2.5 else "moderate" if abs(weight) >= 1 else "weak"
    return f"{size}, {direction}"


def percent(likelihood: float) -> str:
    return f"{likelihood * 100:.0f} %"


def headline(report: Report) -> str:
    return f"{VERDICT_WORDS[report.verdict]} ({percent(report.fabrication_likelihood)})"


def generator_name(key: str) -> str:
    """A registry key as people say it ("jimeng" -> "Jimeng / Seedance")."""
    known = generators().get(key)
    return known.name if known else key
