import json
import math
import uuid

import pytest
from PIL import Image

from detector import analyze
from detector.synth import frame_at

XMP_UUID = uuid.UUID("be7acfcb-97a9-42e8-9c71-999491e3afac").bytes


def _evidence(report):
    return next(e for e in report.evidence if e.check == "embedded_labels")


def _xmp(body: str) -> str:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f"<rdf:Description {body}/></rdf:RDF></x:xmpmeta>"
    )


def _append_xmp_box(path, packet: str) -> None:
    payload = XMP_UUID + packet.encode()
    with open(path, "ab") as f:
        f.write((8 + len(payload)).to_bytes(4, "big") + b"uuid" + payload)


def _webp_with_xmp(path, packet: str):
    frames = [Image.fromarray(frame_at(i, 64, 48)) for i in range(6)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, xmp=packet.encode())
    return path


def test_tc260_label_in_mp4_keys_is_strong_evidence(clip):
    label = {"Label": "1", "ContentProducer": "001191110108MA01Kling", "ProduceID": "p-42"}
    report = analyze(clip("aigc.mp4", metadata={"AIGC": json.dumps(label)}))
    e = _evidence(report)
    assert e.finding == "ai_declared"
    assert e.log_lr == pytest.approx(math.log(30))
    assert e.details["label"]["ContentProducer"] == "001191110108MA01Kling"
    assert "001191110108MA01Kling" in e.summary
    assert report.verdict == "likely_fabricated"


def test_tc260_label_wrapped_in_an_aigc_object_is_read(clip):
    label = {"AIGC": {"Label": "2", "ContentProducer": "x"}}
    e = _evidence(analyze(clip("aigc.mov", metadata={"AIGC": json.dumps(label)})))
    assert e.finding == "ai_label"
    assert "possibly" in e.summary


def test_tc260_label_in_xmp_is_read(clip):
    path = clip("xmp.mp4")
    value = json.dumps({"Label": "1", "ContentProducer": "Jimeng"}).replace('"', "&quot;")
    namespace = 'xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"'
    _append_xmp_box(path, _xmp(f'{namespace} TC260:AIGC="{value}"'))
    e = _evidence(analyze(path))
    assert e.finding == "ai_declared"
    assert "jimeng" in e.generators


def _iptc_webp(path, source_type: str):
    packet = _xmp(
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/'
        f'{source_type}"'
    )
    return _webp_with_xmp(path, packet)


def test_iptc_trained_algorithmic_media_is_declared_ai(tmp_path):
    e = _evidence(analyze(_iptc_webp(tmp_path / "gen.webp", "trainedAlgorithmicMedia")))
    assert e.finding == "ai_declared"
    assert "trainedAlgorithmicMedia" in e.summary


def test_iptc_digital_capture_weighs_little(tmp_path):
    e = _evidence(analyze(_iptc_webp(tmp_path / "cam.webp", "digitalCapture")))
    assert e.finding == "capture_declared"
    assert -1 < e.log_lr < 0


def test_no_label_is_absent_and_says_nothing(clip):
    e = _evidence(analyze(clip("plain.mp4")))
    assert (e.finding, e.log_lr) == ("absent", 0.0)


def test_malformed_label_json_is_reported_not_crashed(clip):
    e = _evidence(analyze(clip("bad.mp4", metadata={"AIGC": "{not json"})))
    assert e.status == "ok"
    assert e.details["label"] == {"unparsed": "{not json"}
