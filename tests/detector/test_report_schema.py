import json
from pathlib import Path

from detector.report import report_schema

SCHEMA_FILE = Path(__file__).parents[2] / "schema" / "report.schema.json"


def test_committed_schema_matches_the_report_model():
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == report_schema(), (
        "schema/report.schema.json is stale: run "
        "`verity schema > schema/report.schema.json` and bump SCHEMA_VERSION "
        "if the change is not backwards compatible"
    )
