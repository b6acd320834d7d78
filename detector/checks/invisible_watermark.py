"""Invisible generator watermarks: the DWT-DCT payloads that open generators' reference code
embeds in every frame (Stable Video Diffusion and SDXL, Stable Diffusion 1.x and 2.x, FLUX).

Bits are voted over every block of the key frames; a payload counts as found when so many of its
bits match that chance cannot explain it, after correcting for the number of payloads, readings
and looks tried. Every frame carries the whole payload, so more frames only firm up a vote: the
key frames are read one at a time, and reading stops once the vote is decided, found or showing
no hint after MIN_FRAMES.
"""

import math

from ..dwtdct import MIN_PIXELS, READINGS, Tally, frame_scores
from ..frames import FrameSpec
from ..fusion import WATERMARK_FOUND_LOG_LR
from ..generators import watermark_payloads
from ..phrase import phrase
from ..registry import Check, Media, Needs, register_check
from ..report import Evidence

# A payload is reported when the chance of matching so many bits, times the number of
# (payload, reading, look) tries, is below this. Chosen so that no real clip of the shared data
# reports one (see the closing note of the watermark issue); the embedded test clip scores far
# below it.
FALSE_ALARM = 1e-6
MAX_FRAMES = 12  # the key frames the plan decodes first; windows are never read
MIN_FRAMES = 4
# After MIN_FRAMES, a vote whose best payload is this likely by chance alone (before any
# correction) shows no hint of a mark, and more frames will not make one.
NO_HINT = 0.05
LIMIT = phrase(
    "Invisible watermarks do not survive strong compression, resizing or cropping (at H.264 "
    "CRF 20 with x264's default tuning the SVD payload is already erased), so their absence "
    "says nothing."
)


@register_check("invisible_watermark")
class InvisibleWatermarkCheck(Check):
    needs = Needs(frames=FrameSpec(stills=MAX_FRAMES))

    def run(self, media: Media) -> Evidence:
        frames = media.frames.stills[:MAX_FRAMES]
        if not frames or frames[0].rgb.shape[0] * frames[0].rgb.shape[1] < MIN_PIXELS:
            return self.evidence(
                "not_applicable",
                phrase(
                    "The frames are smaller than 256x256 pixels, where these watermarks are "
                    "never embedded."
                ),
                status="not_applicable",
            )
        payloads = watermark_payloads()
        # every (payload, reading) pair is tried at every look, one look after each frame
        tries = len(payloads) * len(READINGS) * MAX_FRAMES
        tallies = [Tally({len(bits) for bits in payloads}) for _ in READINGS]
        read = 0
        for frame in _order(frames):
            for tally, scores in zip(tallies, frame_scores(frame.rgb), strict=True):
                tally.add(scores)
            read += 1
            best = _best(tallies, payloads)
            found = [r for r in best if r["p_chance"] * tries < FALSE_ALARM]
            if found or (read >= MIN_FRAMES and min(r["p_chance"] for r in best) > NO_HINT):
                break  # decided either way
        details = {"frames": read, "tries": tries, "payloads": best}
        if not found:
            return self.evidence(
                "absent",
                phrase(
                    "No known invisible generator watermark was decoded from {frames} frames "
                    "(payloads of SVD/SDXL, Stable Diffusion 1.x and 2.x, FLUX).",
                    frames=read,
                ),
                details=details,
                limitations=[LIMIT],
            )
        top = found[0]
        return self.evidence(
            "watermark_found",
            phrase(
                "The invisible watermark of {names} was decoded: {matched} of {bits} bits match "
                "over {frames} frames (chance {chance:.0e}).",
                names=top["names"],
                matched=top["matched"],
                bits=top["bits"],
                frames=read,
                chance=top["p_chance"],
            ),
            WATERMARK_FOUND_LOG_LR,
            details=details,
            generators={key: 0.9 for r in found for key in r["generators"]},
        )


def _order(frames: list) -> list:
    """Frames spread over the clip first (first, last, middle, ...), so that a payload embedded
    in only part of it is met early, and distinct frames only."""
    seen: dict[int, object] = {}
    for frame in frames:
        seen.setdefault(id(frame), frame)
    unique = list(seen.values())
    order, step = [], len(unique)
    while step >= 1:
        order += [unique[i] for i in range(0, len(unique), step) if unique[i] not in order]
        step //= 2
    return order


def _best(tallies: list[Tally], payloads: dict) -> list[dict]:
    """Per payload, its best reading so far, most significant first."""
    results = []
    for reading, tally in zip(READINGS, tallies, strict=True):
        for bits, owners in payloads.items():
            means = tally.means(len(bits))
            matched = sum(int(m > 0) == b for m, b in zip(means, bits, strict=True))
            results.append(
                {
                    "payload": "".join(map(str, bits)),
                    "generators": [g.key for g in owners],
                    "names": " / ".join(g.name for g in owners),
                    "reading": reading.name,
                    "matched": matched,
                    "bits": len(bits),
                    "p_chance": _tail(matched, len(bits)),
                }
            )
    best: dict[str, dict] = {}
    for r in sorted(results, key=lambda r: r["p_chance"]):
        best.setdefault(r["payload"], r)
    return list(best.values())


def _tail(matched: int, n: int) -> float:
    """P(at least ``matched`` of ``n`` fair coin flips agree)."""
    return sum(math.comb(n, k) for k in range(matched, n + 1)) / 2**n
