"""The generator registry (``generators.toml``): names, aliases, marks, claims and profiles."""

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

REGISTRY_FILE = Path(__file__).with_name("generators.toml")
FPS_TOLERANCE = 0.6  # 24.39 fps WebPs (40.96 ms frames) still count as 24 fps


@dataclass(frozen=True)
class Profile:
    width: int
    height: int
    fps: float
    min_s: float
    max_s: float

    def matches(self, width: int, height: int, fps: float | None, duration_s: float | None) -> bool:
        if sorted((width, height)) != sorted((self.width, self.height)):
            return False
        if fps is None or abs(fps - self.fps) > FPS_TOLERANCE:
            return False
        return duration_s is not None and self.min_s <= duration_s <= self.max_s


@dataclass(frozen=True)
class Mark:
    """A text mark a generator stamps on its output, and what must hold for text read off a
    frame to count as it (``marks.py``, the visible-mark check)."""

    text: str  # as printed; its words must be read as whole tokens
    # an ordinary word or name (Sora, Veo, Runway): its text alone is not enough
    common_word: bool = False
    # where it is stamped ("bottom right", ...); empty: not known, or it moves
    place: tuple[str, ...] = ()
    max_height: float | None = None  # its largest height as a share of the frame's
    # a regular expression another line of the same frame matches in the mark's distinctive
    # form (Sora 2 prints the creator's "@name" beside it)
    companion: str = ""


@dataclass(frozen=True)
class Generator:
    key: str
    name: str
    vendor: str
    name_zh: str = ""  # the name Chinese readers know it by, where it has one (可灵)
    families: tuple[str, ...] = ()  # the data's generator_family names that stand for it
    aliases: tuple[str, ...] = ()
    # False where its name is an ordinary word or name (EMO, Float, Cosmos, Lumiere): text that
    # contains the name does not name the generator, only its aliases do
    named_by_name: bool = True
    visible_marks: tuple[Mark, ...] = ()
    c2pa_claim_generators: tuple[str, ...] = ()
    encoder_tags: tuple[str, ...] = ()
    profiles: tuple[Profile, ...] = field(default_factory=tuple)
    watermark: tuple[int, ...] = ()  # invisible DWT-DCT payload bits, if its code embeds one


@cache
def generators() -> dict[str, Generator]:
    """Every registered generator by key, read once from the data file."""
    with open(REGISTRY_FILE, "rb") as f:
        raw = tomllib.load(f)
    return {
        key: Generator(
            key=key,
            name=entry["name"],
            vendor=entry["vendor"],
            name_zh=entry.get("name_zh", ""),
            families=_strings(entry.get("family", ())),
            aliases=tuple(entry.get("aliases", ())),
            named_by_name=entry.get("named_by_name", True),
            visible_marks=tuple(_mark(m) for m in entry.get("marks", ())),
            c2pa_claim_generators=tuple(entry.get("c2pa_claim_generators", ())),
            encoder_tags=tuple(entry.get("encoder_tags", ())),
            profiles=tuple(Profile(**p) for p in entry.get("profiles", ())),
            watermark=_watermark_bits(entry),
        )
        for key, entry in raw.items()
    }


def _strings(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _mark(entry: dict) -> Mark:
    return Mark(**{**entry, "place": tuple(entry.get("place", ()))})


def _watermark_bits(entry: dict) -> tuple[int, ...]:
    if "watermark_text" in entry:  # imwatermark's "bytes" mode: each byte's bits, MSB first
        return tuple(int(b) for byte in entry["watermark_text"].encode() for b in f"{byte:08b}")
    return tuple(int(b) for b in entry.get("watermark_bits", ""))


def watermark_payloads() -> dict[tuple[int, ...], list[Generator]]:
    """Each distinct invisible-watermark payload and the generators that embed it."""
    payloads: dict[tuple[int, ...], list[Generator]] = {}
    for g in generators().values():
        if g.watermark:
            payloads.setdefault(g.watermark, []).append(g)
    return payloads


def key_for_family(family: str) -> str:
    """The registry key of the generator a data set's family name stands for ("hunyuanvideo"
    -> "hunyuan"): the generator with that key or that ``family``; the family name itself when
    the registry has none, so every check names one generator by one key."""
    known = generators()
    if family in known:
        return family
    return next((g.key for g in known.values() if family in g.families), family)


def find_by_text(text: str) -> list[Generator]:
    """Generators whose name (where ``named_by_name``) or alias occurs in ``text``
    (case-insensitive)."""
    lowered = text.lower()
    return [
        g
        for g in generators().values()
        if any(
            _names(alias, lowered)
            for alias in ((g.name.lower(),) if g.named_by_name else ()) + g.aliases
        )
    ]


def _names(alias: str, text: str) -> bool:
    # Latin aliases must stand as words ("sora" is not in "sorano"); CJK ones have no word breaks.
    if alias.isascii():
        return re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?![a-z0-9])", text) is not None
    return alias in text


def find_by_encoder(encoder: str) -> list[Generator]:
    return [g for g in generators().values() if any(t in encoder for t in g.encoder_tags)]


def find_by_profile(
    width: int, height: int, fps: float | None, duration_s: float | None
) -> list[Generator]:
    return [
        g
        for g in generators().values()
        if any(p.matches(width, height, fps, duration_s) for p in g.profiles)
    ]


def find_by_c2pa(text: str) -> list[Generator]:
    """Generators whose C2PA claim-generator strings occur in ``text`` (case-insensitive)."""
    lowered = text.lower()
    return [
        g
        for g in generators().values()
        if any(claim.lower() in lowered for claim in g.c2pa_claim_generators)
    ]
