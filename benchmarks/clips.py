"""The clips benchmarks share, encoded once into .verity/bench."""

from pathlib import Path

from detector.synth import make_clip

FOLDER = Path(__file__).resolve().parents[1] / ".verity" / "bench"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "clips"
# a 2 s 256x256 GIF from a generator's gallery, when the shared data is present
SHARED_GIF = SHARED / "ai" / "animatediff" / "animatediff_model_06_03.gif"


def clip_1080p(seconds: int = 60, folder: Path = FOLDER) -> Path:
    """A ``seconds``-long 1920x1080 H.264 clip at 25 fps with a keyframe every 250 frames."""
    path = folder / f"bench_{seconds}s_1080p.mp4"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        print(f"encoding {path} once (takes a minute)...")
        make_clip(path, seconds=seconds, fps=25, size=(1920, 1080), gop=250, crf=23)
    return path


def clip_720p(seconds: int = 20, folder: Path = FOLDER) -> Path:
    """A ``seconds``-long 1280x720 H.264 clip at 25 fps with a keyframe every 50 frames."""
    path = folder / f"bench_{seconds}s_720p.mp4"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        make_clip(path, seconds=seconds, fps=25, size=(1280, 720), gop=50, crf=23)
    return path


def gif_256(folder: Path = FOLDER) -> Path:
    """A 2 s 256x256 animated GIF: a generator's own from the shared data, else a drawn one."""
    if SHARED_GIF.exists():
        return SHARED_GIF
    path = folder / "bench_2s_256.gif"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        make_clip(path, seconds=2, fps=12, size=(256, 256))
    return path


def face_1080p(seconds: int = 60, sound: bool = True, folder: Path = FOLDER) -> Path:
    """A ``seconds``-long 1920x1080 clip at 25 fps of a drawn talking head (tests/scenes.py),
    its face about 300 pixels wide, with a murmur that swells as the mouth opens (``sound``)."""
    import sys

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' drawn face
    from tests.h264 import write_h264
    from tests.scenes import talking_face

    path = folder / f"bench_{seconds}s_1080p_face{'_sound' if sound else ''}.mp4"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        print(f"encoding {path} once (takes a few minutes)...")
        rate = 16_000
        t = np.arange(seconds * rate) / rate
        noise = np.random.default_rng(0).standard_normal(len(t)) * 0.2
        murmur = (0.5 + 0.5 * np.sin(8 * t)) * noise if sound else None
        frames = talking_face(seconds, fps=25, size=(1920, 1080), face=300)
        write_h264(path, frames, fps=25, crf=23, sound=murmur, rate=rate)
    return path
