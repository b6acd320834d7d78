"""What counts as a generator's visible mark in a line of text read off a frame.

A mark is named only when the text read *is* the mark, as the generator prints it: its words as
whole tokens, with word boundaries on both sides in Latin and CJK script alike ("VEOLIA" is not
"Veo", "Klingon" is not "Kling", "海螺湾" is not "海螺AI"). Only long marks (FUZZY_MIN_LENGTH
letters or more) may be read with one character wrong inside them, and only over whole tokens.
A mark that is an ordinary word or name (the registry's ``common_word``: Sora, Veo, Runway,
Luma) needs more than its text: its distinctive form (``companion``: Sora 2's "@creator" beside
it), or the place and size the generator stamps it at through most of the clip, which the check
judges.

The registry (``generators.toml``, ``marks``) says per mark what counts, so a new generator's
mark is a data change. The Chinese AI labels of GB 45438-2025 ("AI生成", "人工智能合成") are
matched here too.
"""

import re
import unicodedata
from dataclasses import dataclass

from .generators import Mark, generators

FUZZY_MIN_LENGTH = 6  # marks this long may differ from the text by one character
AI_LABEL_CN = "ai_label_cn"
AI_LABEL_CN_MARK = Mark(text="AI-generated label (GB 45438-2025)")
# the label's words, side by side: "AI生成", "由人工智能合成"
_AI_LABEL = re.compile(r"(AI|人工智能)(生成|合成)")
# A token is a run of Latin letters, of digits or of CJK characters; anything else separates.
_TOKEN = re.compile(r"[A-Z]+|[0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@dataclass(frozen=True)
class MarkMatch:
    brand: str  # registry key, or AI_LABEL_CN
    mark: Mark


def fold(text: str) -> str:
    """Fold look-alikes so marks compare: full-width to ASCII, "Al" read for "AI", upper case.
    Spaces stay: they are word boundaries."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"A[l|1](?=$|[\s\d.\u4e00-\u9fff]|[A-Z])", "AI", text)  # "KLING Al", "Al生成"
    text = re.sub(r"(?<=[a-zA-Z])Al(?=$|\s)", "AI", text)  # "KlingAl"
    return text.upper()


def tokens(text: str) -> list[str]:
    """The folded text's tokens: "KLING AI 1.6 PRO" -> KLING, AI, 1, 6, PRO."""
    return _TOKEN.findall(fold(text))


def matches(text: str, fuzzy: bool = True) -> list[MarkMatch]:
    """Every registered mark the text shows as whole tokens (exactly, or one character off for
    long marks when ``fuzzy``), and the Chinese AI label; the mark's place, size and form are
    the caller's to judge."""
    read = tokens(text)
    found = [
        MarkMatch(key, mark)
        for key, generator in generators().items()
        for mark in generator.visible_marks
        if _shows(read, "".join(tokens(mark.text)), fuzzy)
    ]
    if not found and _AI_LABEL.search("".join(read)):
        found.append(MarkMatch(AI_LABEL_CN, AI_LABEL_CN_MARK))
    return found


def has_companion(mark: Mark, texts: list[str]) -> bool:
    """True when another line read in the same frame is the mark's distinctive companion."""
    if not mark.companion:
        return False
    pattern = re.compile(mark.companion)
    return any(pattern.search(unicodedata.normalize("NFKC", t).strip()) for t in texts)


def _shows(read: list[str], wanted: str, fuzzy: bool) -> bool:
    """True when consecutive whole tokens of ``read``, joined (OCR drops spaces: "KLINGAI"),
    are ``wanted``, or one edit from it when it is long and ``fuzzy``."""
    fuzzy = fuzzy and len(wanted) >= FUZZY_MIN_LENGTH
    for start in range(len(read)):
        joined = ""
        for token in read[start:]:
            joined += token
            if joined == wanted or (fuzzy and _misread(wanted, joined)):
                return True
            if len(joined) > len(wanted) + 1:
                break
    return False


def _misread(mark: str, read: str) -> bool:
    """One character misread, dropped or added inside the mark; its first and last characters
    read right, so that a longer word ("KLINGAIR") is not the mark one character off."""
    return read[0] == mark[0] and read[-1] == mark[-1] and _within_one_edit(mark, read)


def _within_one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] <= 1
