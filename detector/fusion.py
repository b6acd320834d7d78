"""Combine the evidence of every check into one fabrication likelihood and a verdict.

posterior log-odds = prior log-odds + sum over checks of clip(log_lr, -cap, +cap)

Every constant that encodes a judgement lives here, with where the number comes from.
"""

import math
from dataclasses import dataclass

from .report import Evidence, GeneratorScore, Segment, Verdict

# Prior odds of 1:1. A clip reaches a verification desk because someone doubts it; we claim no
# base rate of fabrication, so with no evidence the likelihood is 50 % and the verdict
# "inconclusive". That is the honest answer when nothing was found either way.
PRIOR_LOG_ODDS = 0.0

# The most each check may move the log-odds, either way. Caps keep one weak signal from deciding:
# packaging facts (metadata) can never push a clip out of "inconclusive" alone (USERS.md: "a real
# video called fabricated because of how it was packaged must never happen"); declared provenance
# can, because the producer states it.
CAPS = {
    # Encoder tags, camera keys and output profiles are easy to strip, forge or share with real
    # cameras: at most a factor of 2 (ln 2 = 0.69).
    "metadata": math.log(2),
    # A TC260 / IPTC label that declares AI generation is written by the producing service; it
    # can be forged, but rarely is on real footage: up to a factor of 50.
    "embedded_labels": math.log(50),
    # A valid C2PA manifest declaring generated media, checked against trust anchors.
    "c2pa": math.log(1000),
    # A decoded generator watermark (DWT-DCT payload): chance matches are computed, not guessed.
    "invisible_watermark": math.log(1000),
    # A visible brand mark can be painted on or cropped off: good evidence, not decisive.
    "visible_watermark": math.log(20),
    # The classifier's calibrated probability. Its weight follows its measurements: the check
    # clips its log_lr to the likelihood ratio the model earned at its 1 % false-positive
    # threshold in cross-validation over generator families it never saw (the card's
    # calibration.max_log_lr). This cap is the ceiling over any card, 20:1: a learned model is
    # never decisive alone the way declared provenance is.
    "classifier": math.log(20),
    # The faces model, under the same rule: its card's earned ratio, never above 20:1.
    "faces": math.log(20),
    # What a fingerprint match brings back: provenance an earlier copy carried (at most
    # RECOVERED_CAP) and a journalist's verdict (DESK_VERDICT_LOG_LR), together.
    "fingerprint": math.log(1000),
}
DEFAULT_CAP = math.log(2)  # a check not named above is treated as weak until it is given a cap
# Learned models read the same pixels and fail on the same unfamiliar footage, so together they
# count for no more than one may alone: their summed log-likelihood ratios are held to this.
LEARNED = ("classifier", "faces")
LEARNED_CAP = math.log(20)

# ---- Evidence weights: the log-likelihood ratio each finding carries, before the caps above ----

# Container metadata hints. Camera keys are what a phone writes and generators do not; a
# generator's own encoder tag, profile or workflow is what its pipeline writes and cameras rarely
# do. None is more than weak, and the "metadata" cap holds their sum to ln 2.
CAMERA_LOG_LR = -math.log(1.5)
CAPTURE_HINT_LOG_LR = -math.log(1.2)  # GPS, phone OS version: what capture apps record
ENCODER_LOG_LR = math.log(1.8)
GENERATOR_NAME_LOG_LR = math.log(1.8)  # a generator named in the file's own tags
PROFILE_LOG_LR = math.log(1.3)  # size, fps and duration fit a generator's output
COMFYUI_LOG_LR = math.log(1.8)  # a generative-media tool's workflow travels in the file

# Embedded labels. A TC260 label is written by the producing service (GB 45438-2025 obliges it):
# "1" declares generation, "2" and "3" are a propagating platform's "possibly" and "suspected".
TC260_LABEL_LOG_LR = {"1": math.log(30), "2": math.log(5), "3": math.log(3)}
TC260_UNKNOWN_LABEL_LOG_LR = math.log(3)  # an AIGC entry is there, its value is not one we know
IPTC_AI_LOG_LR = math.log(30)
IPTC_CAPTURE_LOG_LR = -math.log(1.5)  # unsigned XMP saying "camera" is trivial to write

# A decoded invisible watermark: the payload's bits match far beyond chance (the check requires a
# corrected chance below one in a million), so it is decisive up to the check's cap.
WATERMARK_FOUND_LOG_LR = math.log(1000)

# A generator's visible brand mark (or a Chinese "AI生成" label) read on the frames: it is stamped
# by the service, but can be painted onto real footage or cropped away, so well below provenance.
VISIBLE_MARK_LOG_LR = math.log(20)

# C2PA: the weight of each (finding, credential) pair. A manifest that declares generated media
# is written by the generating service; with a trusted signer it is decisive. The same claim from
# an untrusted signer is still a claim few would forge (it makes content look fake), but it could
# be made to discredit real footage, so it weighs less. A trusted camera declaration with matching
# hashes is strong evidence against fabrication; an untrusted one is anyone's certificate.
# Tampered, absent, unreadable and no declaration say nothing either way.
C2PA_LOG_LR = {
    ("ai_declared", "trusted"): math.log(1000),
    ("ai_declared", "expired"): math.log(100),  # no trusted timestamp proves it was valid
    ("ai_declared", "untrusted"): math.log(20),
    ("ai_declared", "revoked"): math.log(5),
    ("ai_declared", "invalid"): math.log(5),
    ("capture_declared", "trusted"): -math.log(100),
    ("capture_declared", "expired"): -math.log(3),
    ("capture_declared", "untrusted"): -math.log(1.5),
}

# Provenance is what a producer declared or stamped: the checks whose decisive findings a
# fingerprint match recovers for a copy that lost them.
PROVENANCE_CHECKS = ("c2pa", "embedded_labels", "invisible_watermark", "visible_watermark")

# Recovered provenance weighs what it weighed on the earlier copy, but no more than the matcher
# can vouch for: a match of the wrong clip would lend that clip's provenance to this one
# (benchmarks/fingerprint_robustness.py). No copy matched another clip's original in 7,936
# ordered pairs; among every pair of distinct shared clips 49 of 93,330 matched (5e-4), nearly
# all clips that share their frames (one start image animated by several generators, one
# signer before one backdrop). A match says the pictures are the same, not the file, so the cap
# is 100:1: below a trusted manifest's 1000:1, above a visible mark's 20:1.
RECOVERED_CAP = math.log(100)

# A journalist marked the matched content "confirmed fabricated" or "confirmed authentic": a
# strong statement, as strong as a generator's own label, but a human one that can be wrong, so
# it stops short of decisive provenance and leaves the other evidence in view.
DESK_VERDICT_LOG_LR = math.log(50)


def desk_verdict_log_lr(verdict: str) -> float:
    return DESK_VERDICT_LOG_LR if verdict == "fabricated" else -DESK_VERDICT_LOG_LR


def provenance(evidence: list[Evidence]) -> list[Evidence]:
    """The decisive provenance among ``evidence``: what a fingerprint match may recover."""
    return [e for e in evidence if e.check in PROVENANCE_CHECKS and e.status == "ok" and e.log_lr]


# Verdict bands on the posterior probability.
LIKELY_FABRICATED_AT = 0.85  # about 6:1 for fabrication
NO_EVIDENCE_BELOW = 0.25  # about 3:1 against: needs more than packaging to reach


@dataclass(frozen=True)
class Fused:
    likelihood: float
    verdict: Verdict
    generators: list[GeneratorScore]
    timeline: list[Segment]


def capped(evidence: Evidence) -> float:
    """The evidence's log-likelihood ratio clipped to its check's cap; 0 unless status is ok."""
    if evidence.status != "ok":
        return 0.0
    cap = CAPS.get(evidence.check, DEFAULT_CAP)
    return max(-cap, min(cap, evidence.log_lr))


def fuse(evidence: list[Evidence]) -> Fused:
    """The posterior likelihood of fabrication, its band, attribution and timeline."""
    learned = sum(capped(e) for e in evidence if e.check in LEARNED)
    learned = max(-LEARNED_CAP, min(LEARNED_CAP, learned))
    told = sum(capped(e) for e in evidence if e.check not in LEARNED)
    log_odds = PRIOR_LOG_ODDS + told + learned - _counted_twice(evidence)
    likelihood = 1 / (1 + math.exp(-log_odds))
    if likelihood >= LIKELY_FABRICATED_AT:
        verdict = Verdict.LIKELY_FABRICATED
    elif likelihood < NO_EVIDENCE_BELOW:
        verdict = Verdict.NO_EVIDENCE_OF_FABRICATION
    else:
        verdict = Verdict.INCONCLUSIVE
    return Fused(likelihood, verdict, _attribution(evidence), _timeline(evidence))


def _counted_twice(evidence: list[Evidence]) -> float:
    """Provenance a fingerprint match recovered that this copy's own check found too (its
    manifest or mark survived): counted once, by the check that saw it here."""
    for e in evidence:
        recovered = e.details.get("recovered") if e.check == "fingerprint" else None
        if e.status == "ok" and recovered:
            own = [p for p in provenance(evidence) if p.check == recovered["check"]]
            if any(p.log_lr * recovered["log_lr"] > 0 for p in own):
                without = e.model_copy(update={"log_lr": e.log_lr - recovered["log_lr"]})
                return capped(e) - capped(without)
    return 0.0


def _attribution(evidence: list[Evidence]) -> list[GeneratorScore]:
    """Each generator's strongest attribution among checks whose evidence points to fabrication."""
    best: dict[str, float] = {}
    for e in evidence:
        if e.status == "ok" and e.log_lr > 0:
            for name, p in e.generators.items():
                best[name] = max(best.get(name, 0.0), p)
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    return [GeneratorScore(name=name, probability=round(p, 4)) for name, p in ranked]


def _timeline(evidence: list[Evidence]) -> list[Segment]:
    segments = [s for e in evidence if e.status == "ok" for s in e.segments]
    return sorted(segments, key=lambda s: (s.start_s, s.end_s))
