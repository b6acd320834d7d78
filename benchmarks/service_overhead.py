"""The service's cost over calling the detector directly, and its throughput.

The same distinct clips are analysed three ways, in one run: ``detector.analyze`` in this
process, one after another; then submitted to the API (a real redis-server, the API and
``verity worker``) with 1 and with 2 pool processes, timed from the first upload to the last
finished job. Prints the overhead ratio (target <= 1.2) and jobs per minute.

Run: .venv/bin/python benchmarks/service_overhead.py [--clips 12]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx
from clips import FOLDER

sys.path.insert(0, str(Path(__file__).parents[1]))

from detector import Settings, analyze
from detector.synth import make_clip
from service.lifecycle import run
from tests.service.servers import Cluster, wait_for


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


def _through_service(clips: list[Path], processes: int, warm: Path) -> float:
    """Seconds from the first upload to the last finished job, through the API and one
    ``verity worker --concurrency processes`` (whose pool processes share the cores out)."""
    with tempfile.TemporaryDirectory() as folder:
        cluster = Cluster(Path(folder))  # redis-server, the job store upgraded, a key
        try:
            cluster.start_api()
            cluster.worker("w", concurrency=processes)
            client = httpx.Client(base_url=cluster.api.url, headers=cluster.headers, timeout=60)
            # each pool process loads its OCR models on its first job: not part of the cost
            warming = [warm, clips[-1]][:processes]
            _wait(client, [_submit(client, clip) for clip in warming])
            started = time.perf_counter()
            ids = [_submit(client, clip) for clip in clips[:-1]]
            _wait(client, ids)
            return time.perf_counter() - started
        finally:
            cluster.close()


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
    rows.append(("API + Redis + Celery", 1, _through_service(clips, 1, warm)))
    rows.append(("API + Redis + Celery", 2, _through_service(clips, 2, warm)))
    print(f"{len(measured)} distinct clips, 4 s 640x360 H.264, every check on\n")
    print(f"{'path':<30} {'processes':>9} {'seconds':>8} {'jobs/min':>9} {'vs direct':>10}")
    for label, processes, seconds in rows:
        print(
            f"{label:<30} {processes:>9} {seconds:>8.2f} {len(measured) / seconds * 60:>9.1f}"
            f" {seconds / direct:>9.2f}x"
        )


if __name__ == "__main__":
    sys.exit(run(main))  # Ctrl-C: 130, SIGTERM: 143, and whatever it started is stopped
