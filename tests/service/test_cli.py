"""``verity check`` as a user runs it: output, exit codes, JSON and HTML reports, bad input."""

import json
import subprocess
import sys

import jsonschema
import pytest

from detector.report import Report, report_schema
from service.cli import main
from service.html_report import picture_times


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_prints_verdict_evidence_and_exits_0(clip, capsys):
    code, out, err = run(capsys, "check", str(clip("c.mp4")))
    assert code == 0
    assert "Inconclusive (" in out  # a synthetic clip: nothing decisive either way
    assert "Container metadata" in out and "AI labels in the metadata" in out
    assert "Classifier" in out
    assert err == ""


def test_check_speaks_chinese_with_lang_or_verity_lang(clip, capsys, monkeypatch):
    path = str(clip("c.mp4"))
    code, out, _ = run(capsys, "check", "--lang", "zh", path)
    assert code == 0
    assert "无法定论 (" in out and "容器元数据" in out and "Container metadata" not in out
    monkeypatch.setenv("VERITY_LANG", "zh-CN")
    code, out_env, _ = run(capsys, "check", path)
    assert code == 0 and "容器元数据" in out_env
    code, out_en, _ = run(capsys, "check", "--lang", "en", path)
    assert code == 0 and "Container metadata" in out_en


def test_an_unknown_language_exits_2_before_any_analysis(clip, capsys):
    code, out, err = run(capsys, "check", "--lang", "fr", str(clip("c.mp4")))
    assert code == 2 and out == ""
    assert "unknown language 'fr'" in err


def test_json_output_is_a_schema_valid_report(clip, capsys):
    code, out, _ = run(capsys, "check", "--json", str(clip("c.webm")))
    assert code == 0
    jsonschema.validate(json.loads(out), report_schema())


def test_several_files_give_one_json_line_each(clip, capsys):
    code, out, _ = run(capsys, "check", "--json", str(clip("a.mp4")), str(clip("b.gif")))
    assert code == 0
    names = [json.loads(line)["media"]["file_name"] for line in out.splitlines()]
    assert names == ["a.mp4", "b.gif"]


def _pdf(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_bytes(b"%PDF-1.5\n" + b"x" * 100)
    return path


def _truncated(clip):
    path = clip("cut.mp4", seconds=2)
    path.write_bytes(path.read_bytes()[:3000])
    return path


def _huge_gif(tmp_path):
    from PIL import Image

    path = tmp_path / "huge.gif"
    Image.new("P", (4, 4)).save(path, save_all=True, append_images=[Image.new("P", (4, 4))])
    data = bytearray(path.read_bytes())
    data[6:10] = (16384).to_bytes(2, "little") * 2
    path.write_bytes(bytes(data))
    return path


def _zero_byte(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp_path, clip: _zero_byte(tmp_path), "empty"),
        (lambda tmp_path, clip: _truncated(clip), "cannot be read"),
        (lambda tmp_path, clip: _pdf(tmp_path), "PDF"),
        (lambda tmp_path, clip: _huge_gif(tmp_path), "over the limit"),
        (lambda tmp_path, clip: clip("long.mp4", pts_ms=[0, 40, 36_000_000]), "duration"),
        (lambda tmp_path, clip: tmp_path, "directory"),
        (lambda tmp_path, clip: tmp_path / "missing.mp4", "no such file"),
    ],
    ids=[
        "zero-byte",
        "truncated-mp4",
        "pdf-as-mp4",
        "16k-frame",
        "ten-hours",
        "directory",
        "missing",
    ],
)
def test_bad_input_exits_2_with_a_one_line_reason(tmp_path, clip, capsys, make, reason):
    path = make(tmp_path, clip)
    code, out, err = run(capsys, "check", str(path))
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert reason in err and str(path) in err
    assert "Traceback" not in err


def test_exit_code_is_the_worst_of_several_files(clip, tmp_path, capsys):
    code, out, err = run(capsys, "check", str(clip("good.mp4")), str(_zero_byte(tmp_path)))
    assert code == 2
    assert "good.mp4" in out and "empty" in err


def test_internal_error_exits_1_and_the_other_files_are_still_analysed(clip, capsys, monkeypatch):
    import detector

    real_analyze = detector.analyze_keeping_stills

    def flaky(path, *args, **kwargs):
        if path.name == "boom.mp4":
            raise RuntimeError("a bug")
        return real_analyze(path, *args, **kwargs)

    monkeypatch.setattr(detector, "analyze_keeping_stills", flaky)
    code, out, err = run(capsys, "check", str(clip("boom.mp4")), str(clip("fine.mp4")))
    assert code == 1
    assert "internal error" in err and "fine.mp4" in out


def test_html_report_is_self_contained_and_escapes_file_strings(clip, tmp_path, capsys):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    path = clip("evil.mov", metadata={"software": hostile, "com.apple.quicktime.model": hostile})
    target = tmp_path / "report.html"
    code, _, _ = run(capsys, "check", str(path), "--html", str(target))
    page = target.read_text(encoding="utf-8")
    assert code == 0
    assert "<script" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(" in page  # shown as text, not run
    assert page.count("data:image/jpeg;base64,") == 8  # key frames, inline, at most 8
    assert "http://" not in page and "https://" not in page  # nothing loaded from elsewhere


def test_the_html_reports_pictures_are_the_frames_the_analysis_decoded(
    clip, tmp_path, capsys, monkeypatch
):
    def decoded_again(*args, **kwargs):
        raise AssertionError("the file was decoded a second time for its pictures")

    monkeypatch.setattr("detector.thumbnails.decode_stills", decoded_again)
    target = tmp_path / "report.html"
    path = clip("c.mp4", seconds=3)
    code, out, _ = run(capsys, "check", str(path), "--json", "--html", str(target))
    assert code == 0
    report = Report.model_validate_json(out.splitlines()[0])
    shown = target.read_text().count('<img src="data:image/jpeg;base64,')
    assert shown == len(picture_times(report)) > 1


def test_html_for_several_files_goes_to_a_folder(clip, tmp_path, capsys):
    out_dir = tmp_path / "reports"
    run(capsys, "check", str(clip("a.mp4")), str(clip("b.webm")), "--html", str(out_dir))
    assert len(list(out_dir.glob("*.html"))) == 2


def test_disable_switches_a_check_off(clip, capsys):
    _, out, _ = run(capsys, "check", "--json", "--disable", "metadata", str(clip("c.mp4")))
    checks = [e["check"] for e in json.loads(out)["evidence"]]
    assert "metadata" not in checks and "embedded_labels" in checks


def test_unknown_check_name_is_refused(clip, capsys):
    code, _, err = run(capsys, "check", "--disable", "nonsense", str(clip("c.mp4")))
    assert code == 2 and "nonsense" in err


def test_demo_makes_and_analyses_its_own_clip(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VERITY_DATA_DIR", str(tmp_path))
    from detector.settings import get_settings

    get_settings.cache_clear()
    try:
        code, out, _ = run(capsys, "demo")
    finally:
        get_settings.cache_clear()
    assert code == 0
    assert (tmp_path / "demo" / "demo.mp4").exists()
    assert "iPhone 15" in out


def test_installed_console_script_runs(clip):
    verity = [sys.executable, "-m", "service"]
    done = subprocess.run(
        [*verity, "check", "--json", str(clip("c.mp4"))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["verdict"] == "inconclusive"


def test_trust_anchors_from_the_environment_reach_the_c2pa_check(
    clip, tmp_path, capsys, monkeypatch
):
    from detector.settings import get_settings
    from tests.c2pa_signing import TestCA, manifest, sign

    ca = TestCA()
    source = clip("src.mp4", seconds=1)
    signed = sign(
        source,
        tmp_path / "sora.mp4",
        ca.issue("OpenAI"),
        manifest("Sora", "c2pa.created", "trainedAlgorithmicMedia"),
    )
    monkeypatch.setenv("VERITY_C2PA_TRUST_ANCHORS", json.dumps([str(ca.write(tmp_path))]))
    get_settings.cache_clear()
    try:
        code, out, _ = run(capsys, "check", "--json", str(signed))
    finally:
        get_settings.cache_clear()
    report = json.loads(out)
    c2pa = next(e for e in report["evidence"] if e["check"] == "c2pa")
    assert code == 0
    assert (c2pa["finding"], c2pa["details"]["credential"]) == ("ai_declared", "trusted")
    assert report["verdict"] == "likely_fabricated"
    assert report["generators"][0]["name"] == "sora"
