"""The service's cost over calling the detector directly, and its throughput.

The same distinct clips are analysed three ways, in one run: ``detector.analyze`` in this
process, one after another; then submitted to the API (a real redis-server, Celery workers
and ``verity serve``) with 1 and with 2 workers, timed from the first upload to the last
finished job. Prints the overhead ratio (target <= 1.2) and jobs per minute.

Run: .venv/bin/python benchmarks/service_overhead.py [--clips 12]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from clips import FOLDER

sys.path.insert(0, str(Path(__file__).parents[1]))

from detector import Settings, analyze
from detector.synth import make_clip
from tests.service.conftest import free_port
from tests.service.servers import ApiServer, RedisServer, started_worker, wait_for


def _clips(count: int) -> list[Path]:
    folder = FOLDER / f"service_{count}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"clip{i:03}.mp4"
        if not path.exists():
            make_clip(path, seconds=4, fps=25, size=(640, 360), seed=1000 + i)
        paths.append(path)
    return paths


def _through_service(clips: list[Path], workers: int, threads: int, warm: Path) -> float:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        redis = RedisServer(tmp / "redis").start()
        env = {
            **os.environ,
            "VERITY_DATA_DIR": str(tmp / "data"),
            "VERITY_BROKER_URL": redis.url,
            "VERITY_THREADS": str(threads),
        }
        processes = []
        try:
            key = subprocess.run(
                [sys.executable, "-m", "service.cli", "keys", "create", "bench"],
                env=env, capture_output=True, text=True, check=True,
            ).stdout.splitlines()[-1]  # fmt: skip
            api = ApiServer(env, tmp / "api.log", free_port())
            processes.append(api)
            processes += [started_worker(env, tmp / f"w{i}.log") for i in range(workers)]
            client = httpx.Client(
                base_url=api.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
            )
            # each pool process loads its OCR models on its first job: not part of the cost
            for i in range(workers):
                _wait(client, [_submit(client, warm if i == 0 else clips[-1])])
            started = time.perf_counter()
            ids = [_submit(client, clip) for clip in clips[:-1]]
            _wait(client, ids)
            return time.perf_counter() - started
        finally:
            for process in processes:
                process.stop()
            redis.stop()


def _submit(client: httpx.Client, path: Path) -> str:
    with open(path, "rb") as f:
        response = client.post("/v1/analyses", files={"file": (path.name, f)})
    response.raise_for_status()
    return response.json()["id"]


def _wait(client: httpx.Client, ids: list[str]) -> None:
    # The history list carries no reports, so polling it costs the machine almost nothing.
    def done():
        listed = client.get("/v1/analyses", params={"limit": 200}).json()["analyses"]
        states = {a["id"]: a["state"] for a in listed}
        assert "failed" not in states.values()
        return all(states.get(i) == "done" for i in ids)

    wait_for(done, 600, "the jobs", every=0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=12)
    args = parser.parse_args()
    clips = _clips(args.clips + 1)  # the last one warms the second worker
    warm = make_clip(FOLDER / "service_warm.mp4", seconds=1, fps=10, size=(320, 240), seed=7)
    measured = clips[:-1]

    analyze(warm, Settings())
    started = time.perf_counter()
    for clip in measured:
        analyze(clip, Settings())
    direct = time.perf_counter() - started

    rows = [("detector.analyze, in process", 1, direct)]
    rows.append(("API + Redis + Celery", 1, _through_service(clips, 1, 0, warm)))
    rows.append(("API + Redis + Celery", 2, _through_service(clips, 2, 1, warm)))
    print(f"{len(measured)} distinct clips, 4 s 640x360 H.264, every check on\n")
    print(f"{'path':<30} {'workers':>7} {'seconds':>8} {'jobs/min':>9} {'vs direct':>10}")
    for label, workers, seconds in rows:
        print(
            f"{label:<30} {workers:>7} {seconds:>8.2f} {len(measured) / seconds * 60:>9.1f}"
            f" {seconds / direct:>9.2f}x"
        )


if __name__ == "__main__":
    main()
