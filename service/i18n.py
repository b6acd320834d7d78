"""The languages Verity speaks to journalists: English and Simplified Chinese.

Every journalist-facing string is marked for gettext (``_`` and ``N_`` in Python, ``_`` in the
templates and scripts, ``phrase`` in the checks) and extracted with Babel into
``service/locale/verity.pot``; ``service/locale/zh/LC_MESSAGES/verity.po`` translates it
(``make messages`` re-extracts and merges, ``make catalogs`` compiles). The JSON Report stays
language-neutral: a renderer takes a ``Words`` for the reader's language and translates the
Report's phrases (detector/phrase.py) as it writes them.
"""

import gettext
import io
import json
from functools import cache
from importlib import resources
from pathlib import Path

from detector.phrase import Phrase

LANGUAGES = {"en": "English", "zh": "中文"}  # code -> the language's own name, for the switch
DEFAULT = "en"
DOMAIN = "verity"
LOCALE_DIR = Path(__file__).parent / "locale"
# what the HTML lang attribute says for each
HTML_LANG = {"en": "en", "zh": "zh-Hans"}


class UnknownLanguage(ValueError):
    """A language Verity has no catalogue for."""


def N_(text: str) -> str:
    """Marks a string for extraction where it is defined; it is translated where it is shown."""
    return text


def language(code: str | None) -> str:
    """A supported language code from a user's spelling: "zh-CN", "zh_Hans", "ZH" -> "zh".
    Empty -> the default. Raises UnknownLanguage."""
    if not code:
        return DEFAULT
    base = code.strip().replace("_", "-").split("-")[0].lower()
    if base not in LANGUAGES:
        raise UnknownLanguage(
            f"unknown language {code!r}; Verity speaks {', '.join(sorted(LANGUAGES))}"
        )
    return base


def negotiate(accept_language: str | None) -> str:
    """The best supported language for an HTTP Accept-Language header (quality values
    honoured, order kept among equals); the default when none fits."""
    ranked = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag))
    for _, _, tag in sorted(ranked):
        try:
            return language(tag)
        except UnknownLanguage:
            continue
    return DEFAULT


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English is the source: no catalogue). Uses the
    ``.mo`` that ``make catalogs`` writes; compiles the ``.po`` in memory where it is missing."""
    if lang == DEFAULT:
        return gettext.NullTranslations()
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    compiled = folder / f"{DOMAIN}.mo"
    po = folder / f"{DOMAIN}.po"
    if compiled.exists() and compiled.stat().st_mtime >= po.stat().st_mtime:
        with open(compiled, "rb") as f:
            return gettext.GNUTranslations(f)
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po, "rb") as f:
        catalog = read_po(f, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Words:
    """One language's words: ``_`` translates a marked string, ``say`` a Report's phrase."""

    def __init__(self, lang: str = DEFAULT):
        self.lang = language(lang)
        self.translations = translations(self.lang)

    def _(self, text: str) -> str:
        return self.translations.gettext(text)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def say(self, said: Phrase | None, english: str) -> str:
        """A phrase in this language; ``english`` where the Report predates phrases."""
        return said.render(self._) if said is not None else english

    @property
    def html_lang(self) -> str:
        return HTML_LANG[self.lang]

    def script_words(self, script: str) -> str:
        """JSON of the translations a static script (``static/<script>``) asks for with
        ``_("...")``, to hand to it in the page."""
        return json.dumps({k: self._(k) for k in script_messages(script)}, ensure_ascii=False)


@cache
def script_messages(script: str) -> tuple[str, ...]:
    """The strings ``static/<script>`` marks with ``_("...")``, found as Babel extracts them."""
    from babel.messages.extract import extract

    source = resources.files("service").joinpath(f"static/{script}").read_bytes()
    found = extract("javascript", io.BytesIO(source), keywords={"_": None})
    return tuple(dict.fromkeys(message for _, message, _, _ in found))
