"""Every registered check, against the same clips: a new check is covered the day it lands."""

import pytest

from detector.decode import decode_plan
from detector.frames import FrameSpec, plan_frames
from detector.probe import probe
from detector.registry import Media, check_names, create_checks
from detector.report import Evidence
from detector.settings import Settings

FIXTURES = ["c.mp4", "c.webm", "c.avi", "c.gif", "c.webp", "c.264", "c.mkv"]


def _media(path, spec: FrameSpec) -> Media:
    settings = Settings()
    probed = probe(path, settings)
    frames = decode_plan(probed, plan_frames(probed, spec, 500), settings)
    return Media(probed.path, probed.info, frames)


@pytest.mark.parametrize("name", check_names())
@pytest.mark.parametrize("fixture", FIXTURES)
def test_every_check_returns_valid_evidence_on_every_container(clip, name, fixture):
    check = next(c for c in create_checks(Settings()) if c.name == name)
    spec = check.needs.frames or FrameSpec(stills=2)
    evidence = check.run(_media(clip(fixture, seconds=1.5, fps=10, size=(96, 64)), spec))
    assert isinstance(evidence, Evidence)
    assert evidence.check == name
    assert evidence.status in ("ok", "not_applicable")
    assert evidence.summary.strip()


def test_disabled_checks_are_not_created():
    names = [c.name for c in create_checks(Settings(disabled_checks=["metadata"]))]
    assert "metadata" not in names and "embedded_labels" in names


def test_builtin_checks_are_registered():
    assert {"metadata", "embedded_labels"} <= set(check_names())
