"""Settings, read once from the environment (prefix ``VERITY_``) through one object."""

import ctypes
import os
import signal
import sys
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

GiB = 1024**3


class Settings(BaseSettings):
    """Every knob of an analysis. ``VERITY_MAX_BYTES=...`` and so on override the defaults."""

    model_config = SettingsConfigDict(env_prefix="VERITY_", frozen=True)

    # Limits, enforced from the container's header before anything is decoded. The defaults fit
    # newsroom footage: 8K frames, three-hour recordings, files up to 4 GiB.
    max_bytes: int = Field(4 * GiB, gt=0)
    max_pixels: int = Field(7680 * 4320, gt=0, description="pixels per frame")
    max_duration_s: float = Field(3 * 3600, gt=0)
    max_frames_decoded: int = Field(2000, gt=0, description="frames decoded per analysis")
    decode_timeout_s: float = Field(120.0, gt=0, description="wall time allowed for decoding")

    # How much of the video the checks look at, spread over its whole length.
    key_frames: int = Field(6, ge=1, le=64, description="single frames every analysis decodes")

    # C2PA trust comes only from PEM files named here; none is built in. With none named, the PEM
    # files `verity trust update` wrote to ``data_dir/trust`` are used.
    c2pa_trust_anchors: list[Path] = Field(default_factory=list, description="root CA PEM files")
    c2pa_allowed_certs: list[Path] = Field(default_factory=list, description="end-entity PEMs")
    c2pa_trust_config: Path | None = Field(None, description="allowed EKU OIDs, one a line")
    # Off by default: fetching a remote manifest or an OCSP answer tells a server which file the
    # newsroom is looking at.
    c2pa_remote_manifests: bool = False
    c2pa_ocsp: bool = False

    # Threads one analysis may use for decoding, OCR, the model and the numeric libraries
    # (OpenCV, BLAS); 0 lets each library use every core. Several analysing processes on one
    # machine share the cores out between them (``shared_by``).
    threads: int = Field(0, ge=0)

    # The classifier: an ONNX model with its card beside it (NAME.onnx + NAME.json); by default
    # the one shipped in detector/models. Windows of frames it scores, spread over the video.
    model_path: Path | None = None
    model_windows: int = Field(8, ge=1, le=64)
    # The faces check's model (same contract, card ``crop: face``), by default the shipped one;
    # it looks at the faces found in the classifier's windows.
    face_model_path: Path | None = None
    # Run the model on TensorRT or CUDA where onnxruntime-gpu finds a GPU (else the CPU).
    gpu: bool = True

    disabled_checks: list[str] = Field(default_factory=list)
    # Python modules imported before checks are created, which register more checks with
    # ``register_check`` (a newsroom's own check, or a test's).
    check_modules: list[str] = Field(default_factory=list)
    data_dir: Path = Field(Path(".verity"), description="local state: demo clip, later uploads")

    def shared_by(self, processes: int) -> Self:
        """These settings for one of ``processes`` analysing side by side on this machine:
        unless ``threads`` is set, each takes its share of the cores, not every core (every
        process's libraries starting a thread per core would make them fight for the cores)."""
        if processes <= 1 or self.threads:
            return self
        return self.model_copy(update={"threads": max(len(usable_cores()) // processes, 1)})


_PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGTERM, expected_parent: int | None = None) -> None:
    """Have Linux send ``signum`` to this process when its parent (``expected_parent``, or the
    current one) dies; if it died already, send it now. Elsewhere nothing happens."""
    if not sys.platform.startswith("linux"):
        return
    parent = expected_parent or os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        return  # not allowed here: the parent's own cleanup still applies
    if os.getppid() != parent:  # it died before the request took effect
        os.kill(os.getpid(), signum)


def keep_to_own_cores(number: int, processes: int) -> None:
    """Keep this process, number ``number`` of ``processes`` analysing side by side (a scan's
    or a ``verity worker``'s pool), to its own share of the usable cores. Left to the OS, two
    analysing processes on two cores left about 8 % of the machine idle; kept apart, none, and
    a scan of 40 files took 19.4 s instead of 21.8 s (README)."""
    cores = worker_cores(number, processes, usable_cores())
    if cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cores)


def worker_cores(number: int, processes: int, cores: list[int]) -> set[int] | None:
    """The cores process ``number`` of ``processes`` keeps to: its own equal share of
    ``cores``, or None (every core) when it is alone or there are too few cores to go round."""
    share = len(cores) // processes
    if processes <= 1 or share == 0:
        return None
    return set(cores[number % processes * share :][:share])


def usable_cores() -> list[int]:
    """The cores this process may run on (a container or ``taskset`` may allow fewer than the
    machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
