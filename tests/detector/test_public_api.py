import ast
from pathlib import Path

import detector

ROOT = Path(__file__).parents[2]


def test_detector_exposes_a_handful_of_names():
    assert sorted(detector.__all__) == [
        "ConfigError",
        "CorruptMedia",
        "DecodeTimeout",
        "Evidence",
        "MediaError",
        "MediaTooLarge",
        "MediaUnreadable",
        "ModelError",
        "NotAVideo",
        "Report",
        "Settings",
        "UnsupportedMedia",
        "Verdict",
        "VerityError",
        "analyze",
        "analyze_keeping_stills",
        "get_settings",
    ]


def test_every_media_error_is_a_verity_error():
    for name in (
        "CorruptMedia",
        "DecodeTimeout",
        "MediaTooLarge",
        "MediaUnreadable",
        "NotAVideo",
        "UnsupportedMedia",
    ):
        assert issubclass(getattr(detector, name), detector.MediaError)
    assert issubclass(detector.MediaError, detector.VerityError)


def _imports(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_detector_imports_neither_service_nor_training_nor_torch():
    assert not _imports("detector") & {"service", "training", "torch", "timm", "torchvision"}


def test_service_entry_points_do_not_decode_media_themselves():
    assert not _imports("service") & {"av", "onnxruntime", "torch", "timm", "training"}
