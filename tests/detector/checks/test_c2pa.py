"""The C2PA check on clips the tests sign themselves, and on the shared C2PA fixtures."""

import csv
import time

import av
import pytest

from detector import Settings, analyze
from detector.checks.c2pa import C2paCheck, may_hold_manifest
from tests.c2pa_signing import TestCA, manifest, sign
from tests.conftest import SHARED_DATA


@pytest.fixture(scope="module")
def ca():
    return TestCA()


@pytest.fixture
def trusting(ca, tmp_path) -> Settings:
    """Settings whose only trust anchor is the test CA."""
    return Settings(c2pa_trust_anchors=[ca.write(tmp_path)])


def _signed(clip, ca, name="ai.mp4", source_type="trainedAlgorithmicMedia", generator="Sora"):
    source = clip(f"src-{name}", seconds=1, size=(96, 64))
    definition = manifest(generator, "c2pa.created", source_type)
    return sign(source, source.with_name(name), ca.issue(), definition)


def _flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("name", ["ai.mp4", "ai.mov"])
def test_ai_declared_with_a_trusted_signer_is_decisive(clip, ca, trusting, name):
    report = analyze(_signed(clip, ca, name), trusting)
    e = next(e for e in report.evidence if e.check == "c2pa")
    assert (e.finding, e.details["credential"]) == ("ai_declared", "trusted")
    assert e.generators == {"sora": 0.95}
    assert "Newsroom Test Signer" in e.summary and "generative AI" in e.summary
    assert report.verdict == "likely_fabricated"
    assert report.fabrication_likelihood > 0.99


def test_untrusted_signer_weighs_less_and_says_so(clip, ca, trusting):
    path = _signed(clip, ca)
    untrusted = C2paCheck(Settings()).inspect(path)
    trusted = C2paCheck(trusting).inspect(path)
    assert (untrusted.finding, untrusted.details["credential"]) == ("ai_declared", "untrusted")
    assert "not on any configured trust list" in untrusted.summary
    assert 0 < untrusted.log_lr < trusted.log_lr


def test_capture_declared_with_a_trusted_signer_counts_against_fabrication(clip, ca, trusting):
    report = analyze(_signed(clip, ca, "cam.mp4", "digitalCapture", "Newsroom Camera"), trusting)
    e = next(e for e in report.evidence if e.check == "c2pa")
    assert e.finding == "capture_declared" and e.log_lr < -4
    assert report.verdict == "no_evidence_of_fabrication"


def test_edited_child_keeps_its_generated_parent(clip, ca, trusting):
    parent = _signed(clip, ca, "parent.mp4")
    child_source = clip("edit-src.mp4", seconds=1, size=(96, 64), seed=3)
    child = sign(
        child_source,
        child_source.with_name("child.mp4"),
        ca.issue("Editing Suite"),
        manifest("Editing Suite", None),
        parent=parent,
    )
    e = C2paCheck(trusting).inspect(child)
    assert e.finding == "ai_declared"
    assert "in an ingredient it was made from" in e.summary
    assert e.details["ingredient_chain"][0]["digital_source_types"] == ["trainedAlgorithmicMedia"]


def test_no_declaration_says_what_the_manifest_records(clip, ca, trusting):
    made = _signed(clip, ca, "plain.mp4", "digitalCreation", "Some Exporter")  # made by hand
    e = C2paCheck(trusting).inspect(made)
    assert e.finding == "no_declaration" and e.log_lr == 0
    assert "Some Exporter" in e.summary and "c2pa.created" in e.summary


def test_byte_flipped_in_mdat_is_tampered(clip, ca, trusting):
    path = _signed(clip, ca)
    _flip(path, path.read_bytes().index(b"mdat") + 200)
    e = C2paCheck(trusting).inspect(path)
    assert e.finding == "tampered" and e.log_lr == 0
    assert "assertion.bmffHash.mismatch" in e.summary
    assert "altered after signing" in e.summary


def test_byte_flipped_in_moov_is_tampered(clip, ca, trusting):
    path = _signed(clip, ca)
    _flip(path, path.read_bytes().index(b"mvhd") + 8)  # the creation time: still decodable
    assert C2paCheck(trusting).inspect(path).finding == "tampered"
    assert analyze(path, trusting).verdict == "inconclusive"


def test_truncated_signed_file_is_tampered(clip, ca, trusting):
    path = _signed(clip, ca)
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    assert C2paCheck(trusting).inspect(path).finding == "tampered"


def test_corrupted_signature_is_tampered(clip, ca, trusting):
    path = _signed(clip, ca)
    data = path.read_bytes()
    cbor = data.index(b"cbor", data.index(b"c2pa.signature"))
    box_end = cbor - 4 + int.from_bytes(data[cbor - 4 : cbor], "big")
    _flip(path, box_end - 10)  # inside the 64-byte ES256 signature that ends the COSE structure
    e = C2paCheck(trusting).inspect(path)
    assert e.finding == "tampered"
    codes = {c["code"] for c in e.details["validation_codes"]}
    assert "claimSignature.mismatch" in codes


def test_certificate_expired_after_signing_without_timestamp(clip, ca, trusting):
    import datetime as dt

    source = clip("src.mp4", seconds=1, size=(96, 64))
    short_lived = ca.issue(valid_for=dt.timedelta(seconds=2))
    path = sign(
        source,
        source.with_name("exp.mp4"),
        short_lived,
        manifest("Sora", "c2pa.created", "trainedAlgorithmicMedia"),
    )
    time.sleep(3)
    e = C2paCheck(trusting).inspect(path)
    assert (e.finding, e.details["credential"]) == ("ai_declared", "expired")
    assert "expired" in e.summary and e.details["signer"]["timestamp"] == "none"


def test_stream_copy_remux_loses_the_manifest(clip, ca, trusting, tmp_path):
    signed = _signed(clip, ca)
    remuxed = tmp_path / "remuxed.mp4"
    with av.open(str(signed)) as src, av.open(str(remuxed), "w") as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                dst.mux(packet)
    assert not may_hold_manifest(remuxed)
    assert C2paCheck(trusting).inspect(remuxed).finding == "absent"


def test_absent_is_found_without_the_reader(clip, monkeypatch):
    import c2pa

    monkeypatch.setattr(c2pa, "Reader", None)  # calling it would raise
    e = C2paCheck(Settings()).inspect(clip("plain.mp4"))
    assert (e.finding, e.log_lr) == ("absent", 0.0)


def test_remote_manifest_fetching_is_off_by_default():
    settings = Settings()
    assert not settings.c2pa_remote_manifests and not settings.c2pa_ocsp


# ---- the shared fixtures (skipped without ../shared/data) ----

C2PA_DATA = SHARED_DATA / "c2pa"


def _shared_trust() -> Settings:
    trust = C2PA_DATA / "trust"
    return Settings(
        c2pa_trust_anchors=[
            trust / "C2PA-TRUST-LIST.pem",
            trust / "C2PA-TSA-TRUST-LIST.pem",
            trust / "interim_anchors.pem",
        ],
        c2pa_allowed_certs=[trust / "interim_allowed.pem"],
        c2pa_trust_config=trust / "interim_store.cfg",
    )


def _expected() -> list[list[str]]:
    path = C2PA_DATA / "EXPECTED.tsv"
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return [row for row in csv.reader(f, delimiter="\t") if row and not row[0].startswith("#")]


@pytest.mark.shared_data
@pytest.mark.parametrize("row", _expected(), ids=lambda row: row[0])
def test_shared_fixture_gets_the_expected_finding(row):
    name, finding, _, credential = row[:4]
    e = C2paCheck(_shared_trust()).inspect(C2PA_DATA / name)
    assert e.finding == finding
    assert e.details.get("credential", "") == credential


@pytest.mark.shared_data
def test_shared_expected_table_is_not_empty():
    if not C2PA_DATA.exists():
        pytest.skip("shared data not found")
    assert len(_expected()) >= 40


@pytest.mark.shared_data
def test_openai_signed_sora_clips_are_ai_declared(shared_clips):
    sora = [r for r in shared_clips if r.get("c2pa_present") and r.get("generator") == "sora"]
    assert sora, "the shared data lists Sora clips with manifests"
    for row in sora:
        report = analyze(row["file"], _shared_trust())
        e = next(e for e in report.evidence if e.check == "c2pa")
        assert e.finding == "ai_declared", row["path"]
        assert "sora" in e.generators
        assert e.details["signer"]["issuer"] == "OpenAI"
        assert e.details["credential"] == "trusted"
        assert report.verdict == "likely_fabricated"


@pytest.mark.shared_data
def test_the_sdks_one_frame_videos_are_analysed_with_their_credentials():
    """c2pa-rs's bench_100kb fixtures hold one H.264 frame in MP4; the signed one's manifest
    no longer matches its bytes. Once refused as still images, now analysed end to end."""
    if not C2PA_DATA.exists():
        pytest.skip("shared data not found")
    reports = [
        analyze(C2PA_DATA / "c2pa-rs" / n) for n in ("bench_100kb.mp4", "bench_100kb-signed.mp4")
    ]
    findings = [next(e for e in r.evidence if e.check == "c2pa").finding for r in reports]
    assert findings == ["absent", "tampered"]
    assert all(r.sampling.frames_decoded == 1 for r in reports)
