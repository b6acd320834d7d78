"""Visible generator marks: the brand text that generators stamp on their output ("KLING AI",
"可灵AI", "Hailuo AI", "即梦AI", "Veo", "Sora", ...) and the Chinese "AI生成" labels of
GB 45438-2025, read with OCR on a few whole frames.

What counts as a mark is ``marks.py``'s rule and the registry's data: the mark's own words as
whole tokens, never a name inside a longer word ("VEOLIA" on a sponsor board is not Veo's mark).
Where the registry knows a mark's place and size, a mark read elsewhere or larger is not named.
A mark that is an ordinary word (Sora, Veo, Runway, Luma) is named only in its distinctive form,
or at its place and size in most of the frames read. Marks along the top and bottom edges, where
services stamp them, may be read with one wrong character when they are long; marks elsewhere
must be read exactly, since scene text is common there.

A brand mark is good evidence but can be painted onto real footage or cropped away, so it weighs
less than provenance. Text that stays in place along an edge but is no generator's mark, and
colour emblems without text (Runway Gen-2's dots, found by ``emblems``), are reported as
unidentified overlays and weigh nothing: news footage carries channel logos too.
"""

import math
from dataclasses import dataclass, field

from ..emblems import find_emblems
from ..frames import Frame, FrameSpec
from ..fusion import VISIBLE_MARK_LOG_LR
from ..generators import Mark, generators
from ..marks import AI_LABEL_CN, MarkMatch, has_companion, matches
from ..ocr import TextBox, read_text
from ..phrase import phrase
from ..registry import Check, Media, Needs, register_check
from ..report import Evidence

OCR_FRAMES = 3  # first, middle and last of the sampled frames
EMBLEM = "colour emblem without text"
EDGE_SHARE = 0.2  # the top and bottom fifth of the frame, where marks are stamped
# An ordinary-word mark at its place must be read in this share of the frames read (and in two
# at least): a sponsor board in one shot is not a generator's mark through the clip.
MOST_FRAMES = 2 / 3
# A distinctive companion (Sora 2's "@name") counts within this many of the mark's heights.
COMPANION_REACH = 3
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


@dataclass
class Sighting:
    brand: str  # registry key, or "" for text that is no generator's mark
    label: str  # the mark as registered, or the text read
    text: str
    box: tuple[int, int, int, int]
    times: list[float] = field(default_factory=list)
    where: str = ""
    # an ordinary-word mark at its place and size: named only if read in most frames
    pending: bool = False
    # text that resembles a generator's mark but is not named: which, and why not
    resembles: str = ""
    why_not: str = ""


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
                _add(sightings, box, boxes, frame.time_s, frame.rgb.shape)
        _settle(sightings, len(frames))

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


def _add(
    sightings: list[Sighting], box: TextBox, lines: list[TextBox], time_s: float, shape
) -> None:
    """Record one line of text read at ``time_s``: a generator's mark, an ordinary-word mark
    waiting for more frames, or (along the edges) text that may be an overlay."""
    at_edge = _at_edge(box.box, shape)
    brand, label, pending, resembles, why_not = "", box.text, False, "", ""
    for found in matches(box.text, fuzzy=at_edge):
        verdict = _judge(found, box, lines, shape)
        if verdict in (NAMED, PENDING):
            brand, label, pending = found.brand, found.mark.text, verdict == PENDING
            break
        resembles, why_not = found.brand, verdict
    if not brand and not at_edge:
        return  # scene text in the middle of the picture
    for s in sightings:
        if s.brand == brand and (brand or _overlap(s.box, box.box) > 0.5):
            if time_s not in s.times:
                s.times.append(time_s)
            s.pending = s.pending and pending
            return
    sightings.append(
        Sighting(
            brand, label, box.text, box.box, [time_s], _where(box.box, shape),
            pending, resembles, why_not,
        )
    )  # fmt: skip


NAMED, PENDING = "named", "pending"


def _judge(found: MarkMatch, box: TextBox, lines: list[TextBox], shape) -> str:
    """NAMED, PENDING (an ordinary word at its place: named if read in most frames) or why the
    text is not the generator's mark."""
    mark = found.mark
    problem = _misplaced(mark, box.box, shape)
    if found.brand == AI_LABEL_CN or (not mark.common_word and not problem):
        return NAMED
    if not mark.common_word:
        return problem
    if _companion_near(mark, box, lines):
        return NAMED
    if mark.place and not problem:
        return PENDING
    return problem or "an ordinary word, read without its distinctive form or place"


def _misplaced(mark: Mark, box, shape) -> str:
    """Why a mark read at ``box`` is not where, or not the size, its generator prints it ("":
    it is, or the registry does not know)."""
    if mark.place and _where(box, shape) not in mark.place:
        return f"read at the {_where(box, shape)}, not where the mark is stamped"
    if mark.max_height and box[3] > mark.max_height * shape[0]:
        return "larger than the mark is printed"
    return ""


def _companion_near(mark: Mark, box: TextBox, lines: list[TextBox]) -> bool:
    """True when a line within COMPANION_REACH of the mark's heights is its companion."""
    x, y, w, h = box.box
    reach = COMPANION_REACH * max(h, 1)
    near = [
        line.text
        for line in lines
        if line is not box
        and abs(line.box[1] - y) <= reach
        and line.box[0] < x + w + reach
        and line.box[0] + line.box[2] > x - reach
    ]
    return has_companion(mark, near)


def _settle(sightings: list[Sighting], frames_read: int) -> None:
    """An ordinary-word mark at its place is named when read in most frames; otherwise it is
    text like any other (an overlay if it stays along an edge)."""
    needed = max(2, math.ceil(MOST_FRAMES * frames_read))
    for s in sightings:
        if s.pending and len(s.times) < needed:
            s.resembles, s.brand, s.label = s.brand, "", s.text
            s.why_not = f"an ordinary word, read in {len(s.times)} of {frames_read} frames"
        s.pending = False


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
    described = {
        "brand": s.brand,
        "mark": s.label,
        "text": s.text,
        "box": list(s.box),
        "where": s.where,
        "seen_at_s": sorted(round(t, 3) for t in s.times),
    }
    if s.resembles:  # what the desk may wonder about: "VEOLIA" is not Veo's mark
        described.update(resembles=s.resembles, not_named_because=s.why_not)
    return described
