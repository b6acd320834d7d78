"""Every clip in ../shared/data analyses into a schema-valid Report (skipped without the data)."""

import collections
import json

import jsonschema
import pytest

from detector import analyze
from detector.report import report_schema

pytestmark = pytest.mark.shared_data


def test_every_shared_clip_analyses_without_error(shared_clips, capsys):
    validator = jsonschema.Draft202012Validator(report_schema())
    failures, findings = [], collections.Counter()
    for row in shared_clips:
        try:
            report = analyze(row["file"])
            validator.validate(json.loads(report.model_dump_json()))
        except Exception as e:  # collect them all, then fail once with the list
            failures.append(f"{row['path']}: {type(e).__name__}: {e}")
            continue
        findings[(row["label"], report.verdict.value)] += 1
    with capsys.disabled():
        print(
            f"\nshared clips analysed: {len(shared_clips) - len(failures)} of {len(shared_clips)}"
            f"; verdicts by label: {dict(findings)}"
        )
    assert not failures, "\n".join(failures)


def test_shared_clips_report_their_true_frame_size(shared_clips):
    # The manifest states stored sizes; a rotated phone clip is reported as displayed.
    for row in shared_clips:
        media = analyze(row["file"]).media
        stored = (
            (media.height, media.width)
            if media.rotation in (90, 270)
            else (media.width, media.height)
        )
        assert stored == (row["width"], row["height"]), row["path"]


def test_iphone_clip_shows_its_camera(shared_clips):
    row = next(r for r in shared_clips if r["path"].endswith("mdx_with-gps_iphone6.mov"))
    metadata = next(e for e in analyze(row["file"]).evidence if e.check == "metadata")
    assert "Apple iPhone 6" in metadata.summary
    assert metadata.log_lr < 0


def test_comfyui_webps_name_their_video_model(shared_clips):
    wan = [
        r for r in shared_clips if r["path"].startswith("ai/wan/") and r["path"].endswith(".webp")
    ]
    assert wan
    for row in wan:
        metadata = next(e for e in analyze(row["file"]).evidence if e.check == "metadata")
        assert "wan" in metadata.generators, row["path"]
