"""How commands end: SIGINT exits 130 and SIGTERM 143 in every phase, and no process outlives
the one that started it. Phases are reached by holding the command there (VERITY_PAUSE_AT), not
by timing."""

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.processes import alive

from .conftest import free_port
from .servers import ApiServer, Cluster, children_of, wait_for

# a hang guard only: every wait below ends on an event, this is how long to wait for it at most
HANG_GUARD_S = 120


def _env(tmp_path, **more) -> dict[str, str]:
    env = {**os.environ, "VERITY_DATA_DIR": str(tmp_path / "data"), **more}
    env.pop("VERITY_BROKER_URL", None)  # embedded: no broker server
    return env


def _held(args: list[str], env: dict[str, str], phase: str) -> subprocess.Popen:
    """``verity ARGS`` in its own process group, once it says it is held at ``phase``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "service", *args],
        env={**env, "VERITY_PAUSE_AT": phase},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    for line in process.stderr:
        if f"paused at {phase}" in line:
            return process
    raise AssertionError(f"verity {args[0]} exited with {process.wait()} before {phase}")


def _end(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    process.stderr.close()


COMMANDS = [
    (["scan", "NOWHERE", "--out", "OUT"], signal.SIGINT),
    (["serve", "--port", "PORT"], signal.SIGTERM),
    (["worker"], signal.SIGINT),
    (["train", "MANIFEST"], signal.SIGTERM),
]


@pytest.mark.parametrize(("args", "signum"), COMMANDS, ids=[c[0][0] for c in COMMANDS])
def test_every_long_running_command_exits_128_plus_the_signal_during_start_up(
    tmp_path, args, signum
):
    words = {"NOWHERE": str(tmp_path), "OUT": str(tmp_path / "out"), "PORT": str(free_port())}
    words["MANIFEST"] = str(tmp_path / "manifest.jsonl")
    process = _held([words.get(a, a) for a in args], _env(tmp_path), "start")
    try:
        process.send_signal(signum)
        assert process.wait(timeout=HANG_GUARD_S) == 128 + signum
    finally:
        _end(process)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stopped_with_its_worker_starting_exits_128_plus_the_signal_and_ends_it(
    tmp_path, signum
):
    process = _held(["serve", "--port", str(free_port())], _env(tmp_path), "pool")
    try:
        (worker,) = children_of(process.pid)
        process.send_signal(signum)
        assert process.wait(timeout=HANG_GUARD_S) == 128 + signum
        assert not alive(worker)  # serve waited for it: gone before serve exited
    finally:
        _end(process)


@pytest.fixture
def serve(tmp_path):
    """``verity serve`` with its embedded worker, answering; the test may kill it."""
    server = ApiServer(_env(tmp_path), tmp_path / "serve.log", free_port(), embedded_worker=True)
    yield server
    server.stop()


def _worker_of(server) -> int:
    return wait_for(lambda: server.children(), HANG_GUARD_S, "the embedded worker")[0]


def test_serve_stopped_with_sigterm_exits_143_after_its_worker(serve):
    worker = _worker_of(serve)
    os.kill(serve.pid, signal.SIGTERM)  # serve alone, not its process group
    assert serve.process.wait(timeout=HANG_GUARD_S) == 143
    assert not alive(worker)


def test_a_worker_whose_serve_was_killed_ends_by_itself(serve):
    worker = _worker_of(serve)
    wait_for(lambda: b" ready." in serve.log_path.read_bytes(), HANG_GUARD_S, "worker ready")
    os.kill(serve.pid, signal.SIGKILL)  # no chance to stop its worker
    serve.process.wait()
    wait_for(lambda: not alive(worker), HANG_GUARD_S, "the orphaned worker to end")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_idle_worker_ends_on_a_signal_with_128_plus_it(tmp_path, signum):
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "service", "worker"],
            env=_env(tmp_path),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: b" ready." in log.read_bytes(), HANG_GUARD_S, "the worker to be ready")
        started = time.monotonic()
        worker.send_signal(signum)
        assert worker.wait(timeout=HANG_GUARD_S) == 128 + signum
        print(f"idle worker ended {time.monotonic() - started:.1f} s after {signum.name}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


@pytest.mark.slow
def test_a_busy_worker_stopped_with_sigterm_finishes_its_job_then_exits_143(tmp_path):
    from detector.synth import make_clip

    clip = make_clip(tmp_path / "slow.mp4", seconds=4, fps=25, size=(1280, 720))
    cluster = Cluster(tmp_path / "cluster")
    try:
        cluster.start_api()
        worker = cluster.worker("w1")
        job = cluster.upload(clip)
        wait_for(lambda: cluster.job(job["id"])["state"] == "running", HANG_GUARD_S, "running")
        os.kill(worker.pid, signal.SIGTERM)  # the worker's main process, as systemd would
        assert worker.process.wait(timeout=HANG_GUARD_S) == 143
        assert cluster.job(job["id"])["state"] == "done"  # finished before it exited
    finally:
        cluster.close()
