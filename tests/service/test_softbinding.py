"""The C2PA Soft Binding Resolution API: another tool recovers the Content Credentials of a
copy whose manifest a platform stripped, by its fingerprint or by the file itself."""

import base64
import json

import pytest

from detector import analyze
from detector.checks.c2pa import embedded_manifest_bytes
from detector.fingerprint import ALGORITHM
from service.api import analyses, softbinding
from service.memory import codes_of
from tests.c2pa_signing import TestCA, manifest, sign
from tests.scenes import scene, write

PREFIX = "/v1/softbinding"


@pytest.fixture(scope="module")
def signed_and_stripped(tmp_path_factory):
    """A generator's signed clip (with a soft-binding assertion), and a platform's copy of it:
    re-encoded smaller, its manifest gone."""
    folder = tmp_path_factory.mktemp("softbinding")
    frames = scene(21, seconds=8, size=(640, 360))
    source = write(folder / "source.mp4", frames)
    definition = manifest("Sora", "c2pa.created", "trainedAlgorithmicMedia")
    binding = {"alg": "com.example.watermark", "blocks": [{"scope": {}, "value": "AAEC"}]}
    definition["assertions"].append({"label": "c2pa.soft-binding", "data": binding})
    signed = sign(source, folder / "sora.mp4", TestCA().issue(), definition)
    stripped = write(folder / "copy.mp4", [f[::2, ::2] for f in frames], crf=30)
    return signed, stripped


@pytest.fixture
def worker_at_once(api, monkeypatch):
    """Each job is run as soon as it is sent, as an idle worker would."""
    monkeypatch.setattr(analyses, "send", lambda svc, job_id: api.run(job_id))
    return api


def test_the_c2pa_check_reports_the_manifest_id_and_its_soft_bindings(signed_and_stripped):
    signed, _ = signed_and_stripped
    found = next(e for e in analyze(signed).evidence if e.check == "c2pa")
    assert found.details["manifest_id"].startswith("urn:")
    assert found.details["soft_bindings"] == [
        {"manifest": found.details["manifest_id"], "alg": "com.example.watermark", "values": 1}
    ]


def test_a_stripped_copy_gets_its_manifest_back_by_content_and_by_binding(
    worker_at_once, signed_and_stripped
):
    api = worker_at_once
    signed, stripped = signed_and_stripped
    headers = api.key("desk")
    original = api.upload(headers, signed).json()
    assert (
        api.client.get(f"/v1/analyses/{original['id']}", headers=headers).json()["state"] == "done"
    )

    supported = api.client.get(f"{PREFIX}/services/supportedAlgorithms", headers=headers).json()
    assert supported == {"watermarks": [], "fingerprints": [{"alg": ALGORITHM}]}

    by_content = api.client.post(
        f"{PREFIX}/matches/byContent",
        headers={**headers, "Content-Type": "video/mp4"},
        content=stripped.read_bytes(),
    )
    assert by_content.status_code == 200, by_content.text
    matches = by_content.json()["matches"]
    assert len(matches) == 1 and matches[0]["manifestId"].startswith("urn:")
    assert matches[0]["endpoint"].endswith(PREFIX) and 80 <= matches[0]["similarityScore"] <= 100

    fetched = api.client.get(f"{PREFIX}/manifests/{matches[0]['manifestId']}", headers=headers)
    assert fetched.headers["content-type"] == "application/c2pa"
    assert fetched.content == embedded_manifest_bytes(signed)
    assert fetched.content[4:8] == b"jumb"

    codes = [c.code for c in codes_of(analyze(stripped)) if c.region == "full"]
    value = base64.b64encode(b"".join(codes)).decode()
    got = api.client.get(
        f"{PREFIX}/matches/byBinding", params={"alg": ALGORITHM, "value": value}, headers=headers
    )
    assert [m["manifestId"] for m in got.json()["matches"]] == [matches[0]["manifestId"]]
    posted = api.client.post(
        f"{PREFIX}/matches/byBinding", json={"alg": ALGORITHM, "value": value}, headers=headers
    )
    assert posted.json() == got.json()


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"alg": "io.iscc.v0", "value": "AAAA"}, 400),
        ({"alg": ALGORITHM, "value": "not base64!"}, 400),
        ({"alg": ALGORITHM, "value": base64.b64encode(b"short").decode()}, 400),
    ],
    ids=["other algorithm", "not base64", "not whole codes"],
)
def test_a_binding_it_cannot_read_is_400(api, params, status):
    response = api.client.get(f"{PREFIX}/matches/byBinding", params=params, headers=api.key("d"))
    assert response.status_code == status and "detail" in response.json()


def test_keys_are_required_and_unknown_manifests_are_404(api):
    assert api.client.get(f"{PREFIX}/services/supportedAlgorithms").status_code == 401
    missing = api.client.get(f"{PREFIX}/manifests/urn:uuid:nothing", headers=api.key("d"))
    assert missing.status_code == 404


def test_by_content_says_when_the_analysis_is_still_running(api, monkeypatch, clip):
    monkeypatch.setattr(softbinding, "CONTENT_WAIT_S", 1)  # no worker runs in this test
    response = api.client.post(
        f"{PREFIX}/matches/byContent",
        headers={**api.key("desk"), "Content-Type": "video/mp4"},
        content=clip("a.mp4").read_bytes(),
    )
    assert response.status_code == 503 and response.headers["retry-after"]
    not_video = api.client.post(
        f"{PREFIX}/matches/byContent",
        headers={**api.key("other"), "Content-Type": "application/pdf"},
        content=b"%PDF-1.7\n" + b"0" * 100,
    )
    assert not_video.status_code == 415
    assert json.loads(not_video.text)["detail"]
