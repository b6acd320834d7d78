"""Verity's memory: a copy a platform made is recognised, what its original carried and what a
journalist said of it come back, and the archive's copies are found (service.memory)."""

import json
import math

import numpy as np
import pytest

from detector import Settings, analyze
from detector.fingerprint import FrameCode
from detector.report import Evidence
from service.cli import main
from service.memory import CodeIndex, StoreMemory, codes_of
from service.scan import scan
from service.store import Store
from tests.scenes import captioned, cropped, scene, smaller, write

FAST = Settings(disabled_checks=["visible_watermark", "invisible_watermark"])


@pytest.fixture
def memory(store_url, tmp_path):
    """A memory over a fresh store in SQLite, and in PostgreSQL where .ci/run started one."""
    store = Store(store_url)
    yield StoreMemory(store, tmp_path / "fingerprints.faiss")
    store.close()


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    """A 12 s camera pan, the copies platforms make of it, and a different clip."""
    folder = tmp_path_factory.mktemp("footage")
    frames = scene(11, seconds=12, size=(640, 360))
    middle = len(frames) // 2
    return {
        "original": write(folder / "original.mp4", frames),
        "re-encoded 270p CRF 35": write(folder / "small.mp4", smaller(frames, 270), crf=35),
        "cropped 10 % a side": write(folder / "crop.mp4", cropped(frames)),
        "logo and caption": write(folder / "caption.mp4", captioned(frames)),
        "3 s excerpt": write(folder / "excerpt.mp4", frames[middle - 37 : middle + 38]),
        "twice as fast": write(folder / "fast.mp4", frames[::2]),
        "different clip": write(folder / "other.mp4", scene(12, seconds=12, size=(640, 360))),
    }


def fingerprint(report) -> Evidence:
    return next(e for e in report.evidence if e.check == "fingerprint")


def test_every_platform_copy_matches_its_original_and_a_different_clip_does_not(memory, footage):
    original = analyze(footage["original"], FAST, memory=memory)
    assert fingerprint(original).finding == "no_match"
    memory.remember(original, "check", "original.mp4")
    for name, path in footage.items():
        found = fingerprint(analyze(path, FAST, memory=memory))
        if name == "different clip":
            assert found.finding == "no_match", name
        else:
            assert found.finding == "seen_before", name
            assert found.details["matches"][0]["names"] == ["original.mp4"], name


def test_what_the_original_carried_and_the_desks_verdict_come_back(memory, footage):
    original = analyze(footage["original"], FAST)
    signed = Evidence(
        check="c2pa",
        status="ok",
        finding="ai_declared",
        log_lr=math.log(1000),
        summary="A valid C2PA manifest signed by OpenAI declares AI generation.",
    )
    original.evidence.append(signed)
    memory.remember(original, "api", "sora.mp4", link="/v1/analyses/abc")
    copy = analyze(footage["cropped 10 % a side"], FAST, memory=memory)
    found = fingerprint(copy)
    assert found.finding == "recovered_provenance" and found.log_lr > 0
    assert found.details["matches"][0]["link"] == "/v1/analyses/abc"
    assert found.details["matches"][0]["provenance"][0]["finding"] == "ai_declared"

    memory.mark(original.media.sha256, "fabricated", "signed by OpenAI", "desk")
    found = fingerprint(analyze(footage["3 s excerpt"], FAST, memory=memory))
    assert found.finding == "desk_verdict" and "signed by OpenAI" in found.summary
    with pytest.raises(KeyError):
        memory.mark("0" * 64, "fabricated")


def test_the_index_file_is_reused_and_one_of_another_database_is_not(memory, tmp_path):
    rng = np.random.default_rng(0)
    codes = [FrameCode(0.0, "full", rng.bytes(32)) for _ in range(3)]
    assert memory.recall(codes, "x") == []  # builds the (empty) index
    memory.codes.add([1, 2], [codes[0].code, codes[1].code])
    memory.codes.save(tmp_path / "fingerprints.faiss")
    reopened = StoreMemory(memory.store, tmp_path / "fingerprints.faiss")
    assert reopened.codes.size == 0  # the file holds rows this database does not


def test_past_the_exact_size_the_inverted_file_finds_the_same_neighbours(monkeypatch):
    monkeypatch.setattr(CodeIndex, "EXACT_UP_TO", 3000)
    monkeypatch.setattr(CodeIndex, "IVF_LISTS", 8)
    monkeypatch.setattr(CodeIndex, "IVF_PROBES", 8)  # every list: exact again
    rng = np.random.default_rng(1)
    codes = [rng.bytes(32) for _ in range(4000)]
    index = CodeIndex()
    index.add(list(range(1, 2001)), codes[:2000])
    assert index.exact
    index.add(list(range(2001, 4001)), codes[2000:])
    assert not index.exact and index.size == 4000
    near = bytearray(codes[3500])
    near[0] ^= 0xFF  # 8 bits off
    assert list(index.within([bytes(near)], 10)) == [(0, 3501, 8)]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_remembers_match_lists_the_copies_and_mark_is_reported(footage, capsys):
    code, _, _ = run(capsys, "check", str(footage["original"]), "--disable", "visible_watermark")
    assert code == 0
    code, out, _ = run(capsys, "check", "--json", str(footage["logo and caption"]))
    assert code == 0 and fingerprint_json(out)["finding"] == "seen_before"
    code, out, _ = run(capsys, "match", str(footage["twice as fast"]))
    assert code == 0
    assert str(footage["original"]) in out and str(footage["logo and caption"]) in out
    code, out, _ = run(
        capsys, "mark", str(footage["original"]), "fabricated", "--note", "made with Sora"
    )
    assert code == 0 and "marked fabricated" in out
    code, out, _ = run(capsys, "check", "--json", str(footage["3 s excerpt"]))
    said = fingerprint_json(out)
    assert said["finding"] == "desk_verdict" and "made with Sora" in said["summary"]
    code, out, _ = run(capsys, "check", "--json", "--no-memory", str(footage["3 s excerpt"]))
    assert fingerprint_json(out)["finding"] == "not_looked_up"


def fingerprint_json(out: str) -> dict:
    report = json.loads(out.splitlines()[-1])
    return next(e for e in report["evidence"] if e["check"] == "fingerprint")


def test_a_scan_remembers_every_file_under_its_path(footage, tmp_path, memory):
    archive = tmp_path / "archive"
    archive.mkdir()
    for name in ("original", "cropped 10 % a side"):
        (archive / footage[name].name).write_bytes(footage[name].read_bytes())
    scan([archive], tmp_path / "out", 1, False, FAST, memory=memory)
    found = memory.recall(codes_of(analyze(footage["re-encoded 270p CRF 35"], FAST)), "none")
    names = sorted(n for m in found for n in m.names)
    assert names == sorted(
        str(archive / footage[n].name) for n in ("original", "cropped 10 % a side")
    )
    assert all(m.link.endswith(".html") for m in found)


def test_the_api_marks_a_verdict_and_lists_the_matches(api, footage):
    headers = api.key("desk")
    first = api.upload(headers, footage["original"]).json()
    early = api.client.post(
        f"/v1/analyses/{first['id']}/verdict", headers=headers, json={"verdict": "fabricated"}
    )
    assert early.status_code == 409  # not analysed yet
    api.run(first["id"])
    marked = api.client.post(
        f"/v1/analyses/{first['id']}/verdict",
        headers=headers,
        json={"verdict": "fabricated", "note": "traced to a Sora account"},
    )
    assert marked.status_code == 201
    assert marked.json()["by"] == "desk" and marked.json()["sha256"] == first["sha256"]
    bad = api.client.post(
        f"/v1/analyses/{first['id']}/verdict", headers=headers, json={"verdict": "maybe"}
    )
    assert bad.status_code == 422

    copy = api.upload(headers, footage["cropped 10 % a side"]).json()
    api.run(copy["id"])
    report = api.client.get(f"/v1/analyses/{copy['id']}", headers=headers).json()["report"]
    found = next(e for e in report["evidence"] if e["check"] == "fingerprint")
    assert found["finding"] == "desk_verdict" and found["log_lr"] > 0
    assert found["details"]["matches"][0]["link"] == f"/v1/analyses/{first['id']}"

    listed = api.client.get("/v1/matches", params={"analysis": first["id"]}, headers=headers)
    assert listed.status_code == 200
    assert [m["names"] for m in listed.json()["matches"]] == [["crop.mp4"]]
    stranger = api.client.get(
        "/v1/matches", params={"analysis": first["id"]}, headers=api.key("other")
    )
    assert stranger.status_code == 404


def test_an_export_imported_by_another_desk_brings_its_verdicts_and_nothing_half(
    footage, tmp_path, capsys, monkeypatch
):
    run(capsys, "check", str(footage["original"]), "--disable", "visible_watermark")
    run(capsys, "check", str(footage["different clip"]), "--disable", "visible_watermark")
    run(capsys, "mark", str(footage["original"]), "fabricated", "--note", "a Sora clip")
    shared = tmp_path / "shared.jsonl"
    code, _, err = run(capsys, "hashes", "export", str(shared), "--marked")
    assert code == 0 and "exported 1 " in err
    line = json.loads(shared.read_text())
    assert line["format"] == "verity.hashes.v1" and "names" not in line
    assert line["desk_verdicts"][0]["note"] == "a Sora clip"

    monkeypatch.setenv("VERITY_DATA_DIR", str(tmp_path / "other-desk"))
    from detector.settings import get_settings
    from service.settings import get_service_settings

    get_settings.cache_clear()
    get_service_settings.cache_clear()
    broken = tmp_path / "broken.jsonl"
    broken.write_text(shared.read_text() + '{"format": "verity.hashes.v1"}\n')
    code, _, err = run(capsys, "hashes", "import", str(broken))
    assert code == 2 and "line 2" in err and "nothing was imported" in err
    code, out, _ = run(capsys, "check", "--json", str(footage["logo and caption"]))
    assert fingerprint_json(out)["finding"] == "no_match"  # the bad file left nothing
    code, out, _ = run(capsys, "hashes", "import", str(shared))
    assert code == 0 and "imported 1 " in out
    code, out, _ = run(capsys, "check", "--json", str(footage["logo and caption"]))
    said = fingerprint_json(out)
    assert said["finding"] == "desk_verdict" and "a Sora clip" in said["summary"]
    assert ["import:shared.jsonl"] in [m["names"] for m in said["details"]["matches"]]


def test_match_says_so_when_the_fingerprint_check_is_switched_off(footage, capsys, monkeypatch):
    monkeypatch.setenv("VERITY_DISABLED_CHECKS", '["fingerprint", "classifier"]')
    from detector.settings import get_settings

    get_settings.cache_clear()
    code, _, err = run(capsys, "match", str(footage["original"]))
    assert code == 2 and "fingerprint check is switched off" in err


def test_a_stripped_copy_of_a_signed_sora_clip_recovers_openais_credentials(
    memory, shared_clips, tmp_path
):
    """The shared Sora clip signed by OpenAI, then a platform's copy made here (cropped 5 % a
    side, re-encoded, its metadata gone): the copy's Report recovers the signer's declaration
    and says what the original earned."""
    from tests.detector.checks.test_c2pa import _shared_trust
    from tests.h264 import write_h264

    (row,) = [r for r in shared_clips if r["path"].endswith("vg_onions_sora_1_t2v.mp4")]
    settings = _shared_trust().model_copy(update={"disabled_checks": FAST.disabled_checks})
    original = analyze(row["file"], settings, memory=memory)
    signed = next(e for e in original.evidence if e.check == "c2pa")
    assert signed.finding == "ai_declared" and signed.details["credential"] == "trusted"
    memory.remember(original, "check", "sora-original.mp4", media=row["file"])

    import av

    with av.open(str(row["file"])) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    copy = write_h264(tmp_path / "copy.mp4", cropped(frames, 0.05), fps=30, crf=28)
    report = analyze(copy, settings, memory=memory)
    assert next(e for e in report.evidence if e.check == "c2pa").finding == "absent"
    found = fingerprint(report)
    assert found.finding == "recovered_provenance" and found.log_lr > 0
    assert "OpenAI" in found.summary and "sora-original.mp4" in found.summary
    assert f"verdict then: {original.verdict.value.replace('_', ' ')}" in found.summary
    assert report.verdict == "likely_fabricated"  # 100:1 recovered outweighs any classifier


def test_a_report_page_counts_the_fingerprints_codes_instead_of_listing_them(footage):
    from service.html_report import render_html

    report = analyze(footage["original"], FAST)
    codes = fingerprint(report).details["fingerprint"]["codes"]
    page = render_html(report)
    assert codes[0]["hash"] not in page and f'"codes": {len(codes)}' in page
