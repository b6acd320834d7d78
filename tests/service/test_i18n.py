"""Reports and pages in English and Simplified Chinese: every marked string translated, the
language chosen by --lang / VERITY_LANG, Accept-Language or the page's switch, and the same
Report (one with every finding kind) rendered in both languages, terminal and HTML. The
renderings are saved in test-artifacts/i18n/."""

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from markupsafe import escape
from rich.console import Console

from detector.generators import generators
from detector.phrase import join, phrase
from service.console import print_report
from service.html_report import render_html
from service.i18n import LOCALE_DIR, UnknownLanguage, Words, language, negotiate
from tests.every_finding import FONT, every_finding

ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "i18n"
KEYWORDS = {**DEFAULT_KEYWORDS, "phrase": None, "N_": None}
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([a-z_]+\)[sdf]|%%")


def extracted() -> dict[str, str]:
    """Every string the code, templates and scripts mark, as `make messages` extracts it:
    message -> where it was found."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {}
    for filename, line, message, _, _ in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, f"{filename}:{line}")
    return found


@pytest.fixture(scope="module")
def marked() -> dict[str, str]:
    return extracted()


@pytest.fixture(scope="module")
def chinese():
    with open(LOCALE_DIR / "zh" / "LC_MESSAGES" / "verity.po", "rb") as f:
        return read_po(f, locale="zh")


def test_every_marked_string_has_a_chinese_translation(marked, chinese):
    missing = [
        f"{where}: {text!r}"
        for text, where in sorted(marked.items(), key=lambda kv: kv[1])
        if not (entry := chinese.get(text)) or not entry.string or entry.fuzzy
    ]
    assert not missing, "untranslated (run `make messages`, then translate):\n" + "\n".join(missing)


def test_translations_keep_every_placeholder(chinese):
    broken = [
        m.id
        for m in chinese
        if m.id and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]
    assert not broken


def test_the_committed_template_is_current(marked):
    with open(LOCALE_DIR / "verity.pot", "rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    assert template == set(marked), "run `make messages`"


def test_the_check_itself_fails_on_a_new_string(tmp_path, chinese):
    """The untranslated-string check can fail: a template with a new marked string."""
    (tmp_path / "babel.cfg").write_text("[jinja2: **.html]\nextensions = jinja2.ext.i18n\n")
    (tmp_path / "page.html").write_text('{{ _("A sentence nobody translated") }}')
    with open(tmp_path / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = [m for _, _, m, _, _ in extract_from_dir(tmp_path, method_map, options_map)]
    assert found == ["A sentence nobody translated"]
    assert chinese.get(found[0]) is None


@pytest.mark.parametrize(
    ("spelled", "code"),
    [("zh", "zh"), ("zh-CN", "zh"), ("zh_Hans", "zh"), ("ZH", "zh"), ("en-GB", "en"), ("", "en")],
)
def test_language_codes_as_people_write_them(spelled, code):
    assert language(spelled) == code


def test_an_unknown_language_is_a_clear_error():
    with pytest.raises(UnknownLanguage, match="en, zh"):
        language("fr")


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,zh-TW;q=0.5", "zh"),
        ("fr, de", "en"),
        ("zh;q=0, en;q=0.1", "en"),
        ("en;q=0.2, zh;q=0.7", "zh"),
        ("", "en"),
        (None, "en"),
        ("zh;q=abc", "en"),
    ],
)
def test_accept_language_picks_the_best_language_verity_has(header, code):
    assert negotiate(header) == code


def test_a_phrase_is_translated_clause_by_clause():
    said = phrase(
        "{what} stays at the {where} from {start:.1f} s to {end:.1f} s but names no known "
        "generator; it counts for nothing, since news footage carries channel logos too.",
        what=phrase('Text "{text}"', text="CCTV"),
        where=phrase("top left"),
        start=0.0,
        end=4.25,
    )
    assert str(said).startswith('Text "CCTV" stays at the top left from 0.0 s to 4.2 s')
    chinese = Words("zh").say(said, "")
    assert chinese.startswith("0.0 秒到 4.2 秒之间，画面左上角一直有文字“CCTV”")
    assert (
        Words("zh").say(join([phrase("created {created}", created="x")] * 3), "").count("；") == 2
    )
    assert Words("zh").say(None, "an old report") == "an old report"


# ---- one Report with every finding kind, in both languages ---------------------------------

needs_font = pytest.mark.skipif(
    not FONT.exists(), reason="Debian's fonts-noto-cjk draws the mark (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def full_report(tmp_path_factory):
    _, _, report = every_finding(tmp_path_factory.mktemp("every-finding"))
    return report


def _terminal(report, words) -> str:
    console = Console(record=True, width=120, file=io.StringIO())
    print_report(report, console, "every-finding.mp4", words)
    return console.export_text()


@needs_font
def test_the_fixture_has_every_finding_kind(full_report):
    found = {(e.check, e.finding) for e in full_report.evidence}
    assert found == {
        ("c2pa", "ai_declared"),
        ("embedded_labels", "ai_declared"),
        ("invisible_watermark", "watermark_found"),
        ("visible_watermark", "watermark_found"),
        ("metadata", "generator_hints"),
        ("classifier", "generated_look"),
        ("faces", "face_manipulated"),
        ("fingerprint", "desk_verdict"),
    }


@needs_font
def test_the_classifier_names_the_generator_it_is_most_like_as_people_say_it(full_report):
    (classifier,) = [e for e in full_report.evidence if e.check == "classifier"]
    known = generators()
    assert classifier.generators and set(classifier.generators) <= set(known)
    top = max(classifier.generators, key=classifier.generators.get)
    assert f"most like {known[top].name};" in classifier.summary


@needs_font
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_report_reads_in_each_language(full_report, lang):
    words = Words(lang)
    terminal = _terminal(full_report, words)
    html = render_html(full_report, words=words)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"report-{lang}.txt").write_text(terminal, encoding="utf-8")
    (ARTIFACTS / f"report-{lang}.html").write_text(html, encoding="utf-8")
    for e in full_report.evidence:
        said = words.say(e.summary_phrase, e.summary)
        assert " ".join(said.split()) in " ".join(terminal.split())
        assert str(escape(said)) in html
    if lang == "zh":
        assert '<html lang="zh-Hans">' in html
        assert "很可能是伪造的" in terminal and "很可能是伪造的" in html
        for e in full_report.evidence:  # no English sentence left
            assert e.summary not in terminal and str(escape(e.summary)) not in html
        body = re.sub(r"<pre>.*?</pre>", " ", html.split("<body>", 1)[1], flags=re.S)  # JSON
        text = re.sub(r"<[^>]+>", " ", body)
        english = re.findall(r"\b[a-z]{4,} [a-z]{4,} [a-z]{4,}\b", text)
        assert not english, english
    else:
        assert '<html lang="en">' in html and "Likely fabricated" in terminal
