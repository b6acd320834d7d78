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
    # The classifier's calibrated probability, never trusted beyond a factor of 20.
    "classifier": math.log(20),
}
DEFAULT_CAP = math.log(2)  # a check not named above is treated as weak until it is given a cap

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
    log_odds = PRIOR_LOG_ODDS + sum(capped(e) for e in evidence)
    likelihood = 1 / (1 + math.exp(-log_odds))
    if likelihood >= LIKELY_FABRICATED_AT:
        verdict = Verdict.LIKELY_FABRICATED
    elif likelihood < NO_EVIDENCE_BELOW:
        verdict = Verdict.NO_EVIDENCE_OF_FABRICATION
    else:
        verdict = Verdict.INCONCLUSIVE
    return Fused(likelihood, verdict, _attribution(evidence), _timeline(evidence))


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
