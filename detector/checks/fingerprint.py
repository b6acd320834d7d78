"""The ``fingerprint`` check: the video's perceptual fingerprint (``detector.fingerprint``),
looked up in the memory of earlier analyses the caller hands ``analyze``.

What a match brings back: that the content was seen before (a fact for the desk, weight 0); the
decisive provenance its earlier copy carried and this copy may have lost (a manifest, a label, a
watermark, a mark), weighed by fusion as recovered; and what a journalist marked it
(``fusion.DESK_VERDICT_LOG_LR``). The fingerprint itself is kept in ``details.fingerprint`` so
whoever stores the Report can remember it.
"""

from datetime import datetime

from .. import fusion
from ..fingerprint import ALGORITHM, fingerprint
from ..memory import Recalled
from ..phrase import Phrase, join, phrase
from ..registry import Check, Media, Needs, register_check
from ..report import Evidence


@register_check("fingerprint")
class Fingerprint(Check):
    needs = Needs()  # the key frames every analysis decodes, and the classifier's windows

    def run(self, media: Media) -> Evidence:
        codes = fingerprint(media.frames)
        kept = {"fingerprint": {"algorithm": ALGORITHM, "codes": [c.to_json() for c in codes]}}
        if not codes:
            return self.evidence(
                "no_fingerprint",
                phrase("No frame had enough detail to fingerprint; nothing was looked up."),
                details=kept,
            )
        if media.memory is None:
            return self.evidence(
                "not_looked_up",
                phrase(
                    "Fingerprinted {frames} frames; no record of earlier analyses was consulted.",
                    frames=len({c.time_s for c in codes}),
                ),
                details=kept,
            )
        matches = media.memory.recall(codes, media.info.sha256)
        if not matches:
            return self.evidence(
                "no_match",
                phrase("No earlier analysis matches this video."),
                details=kept,
            )
        return self._matched(matches, kept)

    def _matched(self, matches: list[Recalled], kept: dict) -> Evidence:
        details = {**kept, "matches": [m.model_dump(mode="json") for m in matches]}
        desk = [v for m in matches for v in m.desk_verdicts]
        recovered = [p for m in matches for p in m.provenance]
        strongest = _recovered(recovered)
        recovered_log_lr = strongest["log_lr"] if strongest else 0.0
        if strongest:
            details["recovered"] = strongest
        seen = _seen(matches)
        if recovered:
            seen = phrase(
                "{seen} That copy carried: {what} (recovered: this copy may have lost it).",
                seen=seen,
                what=join([_provenance_phrase(p) for p in recovered]),
            )
        if desk:
            latest = max(desk, key=lambda v: v.at)
            agreed = all(v.verdict == latest.verdict for v in desk)
            log_lr = fusion.desk_verdict_log_lr(latest.verdict) if agreed else 0.0
            said = phrase(
                "{seen} A journalist marked it confirmed {verdict} on {when}{note}.",
                seen=seen,
                verdict=_label(latest.verdict),
                when=_when(latest.at),
                note=phrase(": “{note}”", note=latest.note) if latest.note else "",
            )
            if not agreed:
                said = phrase(
                    "{said} Journalists disagree about it: their marks count for nothing.",
                    said=said,
                )
            return self.evidence("desk_verdict", said, log_lr + recovered_log_lr, details=details)
        if recovered:
            return self.evidence("recovered_provenance", seen, recovered_log_lr, details=details)
        return self.evidence("seen_before", seen, details=details)


def _recovered(recovered: list[dict]) -> dict | None:
    """The strongest recovered provenance (its check, and its log_lr capped by what the
    matcher's false matches allow), or None."""
    if not recovered:
        return None
    strongest = max(recovered, key=lambda p: abs(p["log_lr"]))
    cap = fusion.RECOVERED_CAP
    return {"check": strongest["check"], "log_lr": max(-cap, min(cap, strongest["log_lr"]))}


def _seen(matches: list[Recalled]) -> Phrase:
    first = matches[0]
    return phrase(
        "Seen before: earlier analyses matching this content: {count} (closest: {name}, "
        "{when}, {matched} of {frames} frames within {bits} bits); verdict then: {verdict}.",
        count=len(matches),
        name=first.names[0] if first.names else first.sha256[:12],
        when=_when(first.analysed_at),
        matched=first.frames_matched,
        frames=first.frames,
        bits=first.distance,
        verdict=_verdict(first.verdict),
    )


def _provenance_phrase(p: dict) -> Phrase:
    """The earlier copy's own sentence (an imported one may be English only)."""
    said = p.get("summary_phrase")
    return Phrase.model_validate(said) if said else Phrase(text=p.get("summary", ""))


def _label(verdict: str) -> Phrase:
    return phrase("fabricated") if verdict == "fabricated" else phrase("authentic")


def _verdict(verdict: str) -> Phrase:
    return {
        "likely_fabricated": phrase("likely fabricated"),
        "no_evidence_of_fabrication": phrase("no evidence of fabrication"),
    }.get(verdict, phrase("inconclusive"))


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")
