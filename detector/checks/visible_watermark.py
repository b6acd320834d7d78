"""Visible generator marks: the brand text that generators stamp on their output ("KLING AI",
"可灵AI", "Hailuo AI", "即梦AI", "Veo", "Sora", ...) and the Chinese "AI生成" labels of
GB 45438-2025, read with OCR on a few whole frames. Marks along the top and bottom edges, where
services stamp them, may be read with one wrong character; marks elsewhere in the frame (Sora
2's bouncing logo) must be read exactly, since scene text is common there.

A brand mark is good evidence but can be painted onto real footage or cropped away, so it weighs
less than provenance. Text that stays in place along an edge but names no generator, and colour
emblems without text (Runway Gen-2's dots, found by ``emblems``), are reported as unidentified
overlays and weigh nothing: news footage carries channel logos too.
"""

from dataclasses import dataclass, field

from ..emblems import find_emblems
from ..frames import Frame, FrameSpec
from ..fusion import VISIBLE_MARK_LOG_LR
from ..generators import generators
from ..ocr import TextBox, normalise, read_text
from ..phrase import phrase
from ..registry import Check, Media, Needs, register_check
from ..report import Evidence

OCR_FRAMES = 3  # first, middle and last of the sampled frames
EMBLEM = "colour emblem without text"
EDGE_SHARE = 0.2  # the top and bottom fifth of the frame, where marks are stamped
FUZZY_MIN_LENGTH = 6  # marks this long may differ from the text by one character
# where a mark sits (_where's words), as the summaries say it
WHERE = {
    "top left": phrase("top left"),
    "top centre": phrase("top centre"),
    "top right": phrase("top right"),
    "middle left": phrase("middle left"),
    "middle centre": phrase("middle centre"),
    "middle right": phrase("middle right"),
    "bottom left": phrase("bottom left"),
    "bottom centre": phrase("bottom centre"),
    "bottom right": phrase("bottom right"),
}
CN_AI = ("AI", "人工智能")
CN_MADE = ("生成", "合成")


@dataclass
class Sighting:
    brand: str  # registry key, or "" for text naming no generator
    label: str  # the mark as registered, or the text read
    text: str
    box: tuple[int, int, int, int]
    times: list[float] = field(default_factory=list)
    where: str = ""


@register_check("visible_watermark")
class VisibleWatermarkCheck(Check):
    needs = Needs(frames=FrameSpec(stills=8))

    def run(self, media: Media) -> Evidence:
        frames = _spread(media.frames.stills, OCR_FRAMES)
        if not frames:
            return self.evidence(
                "not_applicable", phrase("No frames to read."), status="not_applicable"
            )
        sightings: list[Sighting] = []
        read = read_text([f.rgb for f in frames], self.settings.threads)
        for frame, boxes in zip(frames, read, strict=True):
            for box in boxes:
                _add(sightings, box, frame.time_s, frame.rgb.shape)

        marks = [s for s in sightings if s.brand]
        overlays = [s for s in sightings if not s.brand and len(s.times) >= 2]
        overlays += _emblems(media.frames.stills)
        details = {
            "frames_read_s": [round(f.time_s, 3) for f in frames],
            "marks": [_describe(s) for s in marks],
            "overlays": [_describe(s) for s in overlays],
        }
        if marks:
            top = max(marks, key=lambda s: len(s.times))
            name = generators()[top.brand].name if top.brand in generators() else top.label
            return self.evidence(
                "watermark_found",
                phrase(
                    'The "{mark}" mark of {name} is visible at the {where} from {start:.1f} s to '
                    '{end:.1f} s (read as "{text}"). A visible mark can be painted onto real '
                    "footage or cropped away, so it is good but not decisive evidence.",
                    mark=top.label,
                    name=name,
                    where=WHERE[top.where],
                    start=min(top.times),
                    end=max(top.times),
                    text=top.text,
                ),
                VISIBLE_MARK_LOG_LR,
                details=details,
                generators={s.brand: 0.8 for s in marks if s.brand in generators()},
            )
        if overlays:
            top = max(overlays, key=lambda s: len(s.times))
            what = (
                phrase('Text "{text}"', text=top.text)
                if top.text
                else phrase("A colour emblem without text")
            )
            return self.evidence(
                "unidentified_overlay",
                phrase(
                    "{what} stays at the {where} from {start:.1f} s to {end:.1f} s but names no "
                    "known generator; it counts for nothing, since news footage carries channel "
                    "logos too.",
                    what=what,
                    where=WHERE[top.where],
                    start=min(top.times),
                    end=max(top.times),
                ),
                details=details,
            )
        return self.evidence(
            "absent",
            phrase(
                "No generator mark or AI label was read along the frame edges; marks are often "
                "cropped away, so their absence says nothing."
            ),
            details=details,
        )


def _spread(frames: list[Frame], n: int) -> list[Frame]:
    if len(frames) <= n:
        return frames
    return [frames[round(i * (len(frames) - 1) / (n - 1))] for i in range(n)]


def _emblems(stills: list[Frame]) -> list[Sighting]:
    if not stills:
        return []
    shape = stills[0].rgb.shape
    same_size = [f for f in stills if f.rgb.shape == shape]
    return [
        Sighting(
            "", EMBLEM, "", e.box, [same_size[i].time_s for i in e.frames], _where(e.box, shape)
        )
        for e in find_emblems([f.rgb for f in same_size])
    ]


def _brand(text: str, exact: bool = False) -> tuple[str, str] | None:
    """The (registry key, mark) a text shows, or ("", label) for a GB 45438 AI label."""
    folded = normalise(text)
    for key, generator in generators().items():
        for mark in generator.visible_marks:
            wanted = normalise(mark)
            if wanted in folded or (
                not exact and len(wanted) >= FUZZY_MIN_LENGTH and _near(wanted, folded)
            ):
                return key, mark
    if any(a in folded for a in CN_AI) and any(m in folded for m in CN_MADE):
        return "ai_label_cn", "AI-generated label (GB 45438-2025)"
    return None


def _near(mark: str, text: str) -> bool:
    """True when some stretch of ``text`` is one edit away from ``mark``."""
    for size in (len(mark) - 1, len(mark), len(mark) + 1):
        for start in range(max(len(text) - size + 1, 0)):
            if _distance(mark, text[start : start + size]) <= 1:
                return True
    return False


def _distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _add(sightings: list[Sighting], box: TextBox, time_s: float, shape) -> None:
    at_edge = _at_edge(box.box, shape)
    found = _brand(box.text, exact=not at_edge)
    if not found and not at_edge:
        return  # scene text in the middle of the picture
    brand, label = found if found else ("", box.text)
    for s in sightings:
        if s.brand == brand and (brand or _overlap(s.box, box.box) > 0.5):
            if time_s not in s.times:
                s.times.append(time_s)
            return
    sightings.append(Sighting(brand, label, box.text, box.box, [time_s], _where(box.box, shape)))


def _at_edge(box, shape) -> bool:
    _, y, _, h = box
    height = shape[0]
    return y + h / 2 < height * EDGE_SHARE or y + h / 2 > height * (1 - EDGE_SHARE)


def _overlap(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    union = aw * ah + bw * bh - w * h
    return w * h / union if union else 0.0


def _where(box, shape) -> str:
    x, y, w, h = box
    height, width = shape[:2]
    cx, cy = (x + w / 2) / width, (y + h / 2) / height
    vertical = "top" if cy < 0.33 else "bottom" if cy > 0.67 else "middle"
    horizontal = "left" if cx < 0.33 else "right" if cx > 0.67 else "centre"
    return f"{vertical} {horizontal}" if vertical != "middle" else f"middle {horizontal}"


def _describe(s: Sighting) -> dict:
    return {
        "brand": s.brand,
        "mark": s.label,
        "text": s.text,
        "box": list(s.box),
        "where": s.where,
        "seen_at_s": sorted(round(t, 3) for t in s.times),
    }
