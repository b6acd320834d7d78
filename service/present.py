"""Words and numbers shared by every way a Report is shown (terminal, HTML, web page, scan
summary), in the reader's language (``Words``)."""

from detector.fusion import capped
from detector.generators import generators
from detector.report import Evidence, Report, Verdict

from .i18n import N_, Words

VERDICT_WORDS = {
    Verdict.LIKELY_FABRICATED: N_("Likely fabricated"),
    Verdict.INCONCLUSIVE: N_("Inconclusive"),
    Verdict.NO_EVIDENCE_OF_FABRICATION: N_("No evidence of fabrication"),
}

VERDICT_MEANING = {
    Verdict.LIKELY_FABRICATED: N_(
        "The evidence below points to an AI video generator. Read it before you quote the number."
    ),
    Verdict.INCONCLUSIVE: N_(
        "Verity found nothing decisive either way. This is not a sign that the video is "
        "authentic: generated clips often carry no marks at all."
    ),
    Verdict.NO_EVIDENCE_OF_FABRICATION: N_(
        "The checks found no sign of generation and some sign of a real capture. That is not "
        "proof of authenticity."
    ),
}

CHECK_NAMES = {
    "c2pa": N_("Content Credentials (C2PA)"),
    "embedded_labels": N_("AI labels in the metadata"),
    "invisible_watermark": N_("Invisible watermark"),
    "visible_watermark": N_("Visible marks"),
    "metadata": N_("Container metadata"),
    "classifier": N_("Classifier"),
    "faces": N_("Faces"),
    "fingerprint": N_("Seen before (fingerprint)"),
}

STRENGTHS = {
    "not counted": N_("not counted"),
    "neutral": N_("neutral"),
    ("strong", True): N_("strong, towards fabrication"),
    ("moderate", True): N_("moderate, towards fabrication"),
    ("weak", True): N_("weak, towards fabrication"),
    ("strong", False): N_("strong, against fabrication"),
    ("moderate", False): N_("moderate, against fabrication"),
    ("weak", False): N_("weak, against fabrication"),
}


def verdict_words(verdict: Verdict | str, words: Words) -> str:
    return words._(VERDICT_WORDS[Verdict(verdict)])


def verdict_meaning(verdict: Verdict, words: Words) -> str:
    return words._(VERDICT_MEANING[verdict])


def check_name(check: str, words: Words) -> str:
    """A check's name for readers; a check added by a plugin keeps its registry name."""
    return words._(CHECK_NAMES[check]) if check in CHECK_NAMES else check


def strength(evidence: Evidence, words: Words) -> str:
    """How much a piece of evidence moved the verdict, in words."""
    weight = capped(evidence)
    if evidence.status != "ok":
        key = "not counted"
    elif abs(weight) < 0.05:
        key = "neutral"
    else:
        size = "strong" if abs(weight) >= 2.5 else "moderate" if abs(weight) >= 1 else "weak"
        key = (size, weight > 0)
    return words._(STRENGTHS[key])


def summary(evidence: Evidence, words: Words) -> str:
    return words.say(evidence.summary_phrase, evidence.summary)


def percent(likelihood: float) -> str:
    return f"{likelihood * 100:.0f} %"


def headline(report: Report, words: Words) -> str:
    verdict = verdict_words(report.verdict, words)
    return f"{verdict} ({percent(report.fabrication_likelihood)})"


def generator_name(key: str, words: Words) -> str:
    """A registry key as people say it ("jimeng" -> "Jimeng / Seedance", in Chinese 即梦)."""
    known = generators().get(key)
    if not known:
        return key
    return known.name_zh if words.lang == "zh" and known.name_zh else known.name


def strongest(report: Report) -> Evidence | None:
    """The evidence that moved the verdict most, if any moved it."""
    weighty = [e for e in report.evidence if capped(e) != 0]
    return max(weighty, key=lambda e: abs(capped(e)), default=None)
