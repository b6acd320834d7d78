"""A clip on which every check finds something, and its Report: C2PA Content Credentials
declaring AI generation (signed by a test CA the settings trust), a TC260 AI label, an SVD
invisible watermark, a visible Kling mark, a ComfyUI workflow in the metadata, a fingerprint
match with an original a journalist marked fabricated, a drawn face, and a classifier and a faces
model whose cards put their thresholds just under their scores for the clip, so that they flag
it (the same networks as shipped, cards changed in copies). The rendering tests show this
Report in every language."""

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from detector import Evidence, Report, Settings, analyze
from detector.checks.faces import DEFAULT_FACE_MODEL
from detector.generators import generators
from detector.memory import DeskVerdict, Recalled
from detector.model import DEFAULT_MODEL, ModelCard, card_path
from detector.registry import check_names
from detector.synth import frame_at
from tests.c2pa_signing import TestCA, manifest, sign
from tests.h264 import write_h264
from tests.imwatermark_encoder import embed
from tests.scenes import talking_face

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
WIDTH, HEIGHT = 640, 360


def _frame(i: int, face: np.ndarray) -> np.ndarray:
    head = np.zeros((HEIGHT, WIDTH), np.uint8)
    cv2.ellipse(head, (WIDTH // 2, HEIGHT // 2), (70, 100), 0, 0, 360, 1, -1)
    background = np.where(head[..., None] == 1, face, frame_at(i, WIDTH, HEIGHT))
    rgb = embed(background, list(generators()["svd"].watermark))
    image = Image.fromarray(rgb)
    draw = ImageDraw.Draw(image)
    draw.text((WIDTH - 190, HEIGHT - 50), "KLING AI", font=ImageFont.truetype(str(FONT), 30))
    return np.asarray(image)


def flagging_model(clip: Path, folder: Path, check: str = "classifier") -> Path:
    """The shipped network of ``check`` (the classifier or the faces model) with a card whose
    thresholds sit just under its score for ``clip``, so that it flags the clip whatever the
    shipped model makes of it, and the timeline's line is drawn among the bars."""
    shipped = DEFAULT_MODEL if check == "classifier" else DEFAULT_FACE_MODEL
    onnx = folder / shipped.name
    shutil.copyfile(shipped, onnx)
    card = ModelCard.model_validate_json(card_path(shipped).read_text())
    setting = "model_path" if check == "classifier" else "face_model_path"
    only_it = Settings(**{setting: onnx}, disabled_checks=[n for n in check_names() if n != check])
    for threshold in (0.0, None):
        if threshold is None:  # second pass: under the clip's probability
            evidence = analyze(clip, only_it).evidence[0]
            threshold = max(round(evidence.details["probability"] - 0.05, 3), 0.0)
        calibration = card.calibration.model_copy(
            update={"thresholds": {"0.01": threshold, "0.05": threshold}}
        )
        card_path(onnx).write_text(
            card.model_copy(update={"calibration": calibration}).model_dump_json()
        )
    return onnx


def every_finding_clip(folder: Path) -> tuple[Path, Settings]:
    """The clip, and the settings that analyse it (trust anchor, flagging model)."""
    folder.mkdir(parents=True, exist_ok=True)
    label = {"AIGC": {"Label": "1", "ContentProducer": "Kling", "ProduceID": "test-1"}}
    metadata = {"AIGC": json.dumps(label), "comfyui:workflow": "{}", "comfyui:models": "wan2.1"}
    source = write_h264(
        folder / "source.mp4",
        (
            _frame(i, face)
            for i, face in enumerate(talking_face(2, fps=10, size=(WIDTH, HEIGHT), face=60))
        ),
        fps=10,
        crf=16,
        preset="medium",
        tune="grain",
        metadata=metadata,
    )
    ca = TestCA()
    definition = manifest("Kling AI 2.1", "c2pa.created", "trainedAlgorithmicMedia")
    clip = sign(source, folder / "every-finding.mp4", ca.issue(), definition)
    settings = Settings(
        c2pa_trust_anchors=[ca.write(folder)],
        model_path=flagging_model(clip, folder),
        face_model_path=flagging_model(clip, folder, "faces"),
        threads=2,
    )
    return clip, settings


class Remembered:
    """A memory in which the clip's original was analysed, carrying ``provenance``, and marked
    fabricated by a journalist."""

    def __init__(self, provenance: list[Evidence]):
        self.provenance = [e.model_dump(mode="json") for e in provenance]

    def recall(self, codes, sha256):
        at = datetime(2026, 12, 6, 9, 12, tzinfo=UTC)
        said = DeskVerdict(verdict="fabricated", note="traced to a Kling account", by="desk", at=at)
        return [
            Recalled(
                sha256="a" * 64,
                analysed_at=at,
                verdict="likely_fabricated",
                likelihood=0.99,
                names=["kling-original.mp4"],
                distance=4,
                frames_matched=6,
                frames=7,
                provenance=self.provenance,
                desk_verdicts=[said],
            )
        ]


def every_finding(folder: Path) -> tuple[Path, Settings, Report]:
    """The clip, its settings and its Report (its original's mark remembered)."""
    clip, settings = every_finding_clip(folder)
    first = analyze(clip, settings)
    marks = [e for e in first.evidence if e.check == "visible_watermark"]
    return clip, settings, analyze(clip, settings, memory=Remembered(marks))
