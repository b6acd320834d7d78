"""The faces check on the staged sources' face rows (talking heads, lip-sync, face swaps), when
a staged manifest is named by VERITY_STAGED_SOURCES (see ../shared/data/sources/README.md; CI
does not have them)."""

import collections
import json
import os
from pathlib import Path

import pytest

from detector import Settings, analyze
from detector.registry import check_names

STAGED = os.environ.get("VERITY_STAGED_SOURCES")


@pytest.mark.skipif(not STAGED, reason="VERITY_STAGED_SOURCES names no staged manifest")
def test_the_faces_check_finds_and_judges_the_staged_face_rows(capsys):
    manifest = Path(STAGED)
    rows = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("manipulation")]
    only_faces = Settings(disabled_checks=[n for n in check_names() if n != "faces"], threads=2)
    findings = collections.Counter()
    for row in rows:
        (faces,) = analyze(manifest.parent / row["path"], only_faces).evidence
        findings[(row["manipulation"], faces.finding)] += 1
        if faces.finding != "no_face":
            assert faces.details["regions"] and len(faces.segments) == faces.details["faces"]
    with capsys.disabled():
        print(f"\nfaces check on {len(rows)} staged face rows: {dict(findings)}")
    found = sum(n for (_, finding), n in findings.items() if finding != "no_face")
    assert len(rows) >= 60 and found >= 0.9 * len(rows)  # the detector's recall was 0.97
