"""The clips benchmarks share, encoded once into .verity/bench."""

from pathlib import Path

from detector.synth import make_clip

FOLDER = Path(__file__).resolve().parents[1] / ".verity" / "bench"


def clip_1080p(seconds: int = 60, folder: Path = FOLDER) -> Path:
    """A ``seconds``-long 1920x1080 H.264 clip at 25 fps with a keyframe every 250 frames."""
    path = folder / f"bench_{seconds}s_1080p.mp4"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        print(f"encoding {path} once (takes a minute)...")
        make_clip(path, seconds=seconds, fps=25, size=(1920, 1080), gop=250, crf=23)
    return path
