"""The service under load, with its real processes: redis-server, the API and two workers.

200 uploads from 8 concurrent clients: clips of mixed sizes, some the same bytes under other
names (sent at the same time as their twin or later), some malformed (empty, a PDF named .mp4,
a truncated MP4, random bytes, a PNG). Prints, from one run: how every upload was answered
(accepted, or refused with its status and reason), acceptance latency p50/p95, how every accepted
job ended, jobs lost (accepted but never settled: must be 0), and analyses run more than once
for the same bytes (0 may end in a report; a failed analysis is tried again when the same bytes
come again, by design).

The per-key rate limit is raised for the run (one key sends all 200).

Run: .venv/bin/python benchmarks/service_load.py [--uploads 200] [--clients 8]
"""

import argparse
import contextlib
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' process helpers

from detector.synth import make_clip
from service.lifecycle import run
from tests.service.servers import Cluster, wait_for

SIZES = [((160, 96), 1.0), ((320, 240), 2.0), ((640, 360), 2.0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="verity-load-") as tmp:
        folder = Path(tmp)
        files = make_files(folder / "files", args.uploads)
        cluster = Cluster(folder / "cluster", VERITY_ANALYSES_PER_MINUTE="100000")
        try:
            cluster.start_api()
            cluster.worker("w1")
            cluster.worker("w2")
            started = time.monotonic()
            with ThreadPoolExecutor(args.clients) as pool:
                answers = list(pool.map(lambda f: upload(cluster, f), files))
            sent_s = time.monotonic() - started
            accepted = [a for a in answers if a["status"] == 202]
            settled = settle(cluster, [a["id"] for a in accepted])
            analyses = analysed(cluster)
        finally:
            cluster.close()
    report(files, answers, accepted, settled, analyses, sent_s, time.monotonic() - started)


def make_files(folder: Path, uploads: int) -> list[Path]:
    """About 3/4 distinct clips, 1/8 copies of them under other names, 1/8 malformed."""
    folder.mkdir(parents=True)
    rng = random.Random(0)
    malformed = max(uploads // 8, 5)
    copies = uploads // 8
    distinct = uploads - malformed - copies
    files = []
    for i in range(distinct):
        size, seconds = SIZES[i % len(SIZES)]
        files.append(make_clip(folder / f"clip{i:03}.mp4", size=size, seconds=seconds, seed=i))
    for i in range(copies):
        twin = files[rng.randrange(len(files))]
        copy = folder / f"copy{i:03}-{twin.name}"
        copy.write_bytes(twin.read_bytes())
        files.append(copy)
    whole = files[0].read_bytes()
    bad = [
        (b"", ".mp4"),
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n", ".mp4"),
        (whole[: len(whole) // 3], ".mp4"),
        (bytes(rng.randrange(256) for _ in range(50_000)), ".mov"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), ".mp4"),
    ]
    for i in range(malformed):
        data, suffix = bad[i % len(bad)]
        path = folder / f"bad{i:03}{suffix}"
        path.write_bytes(data)
        files.append(path)
    rng.shuffle(files)  # copies arrive before, with and after their twins
    return files


def upload(cluster: Cluster, path: Path) -> dict:
    started = time.monotonic()
    try:
        response = cluster.send(path, timeout=120)
    except httpx.HTTPError as e:
        return {"status": None, "reason": f"no answer: {e}", "seconds": None}
    body = (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else {}
    )
    return {
        "status": response.status_code,
        "id": body.get("id"),
        "reason": body.get("detail", ""),
        "seconds": time.monotonic() - started,
    }


def settle(cluster: Cluster, job_ids: list[str], timeout: float = 1800) -> dict[str, dict]:
    """Every accepted job's final state; those not final by ``timeout`` count as lost."""
    final: dict[str, dict] = {}

    def all_final():
        for job_id in job_ids:
            if job_id not in final:
                job = cluster.job(job_id)
                if job["state"] in ("done", "failed"):
                    final[job_id] = job
        return len(final) == len(job_ids)

    with contextlib.suppress(AssertionError):  # what did not settle is reported as lost
        wait_for(all_final, timeout, "every accepted job to settle", every=1.0)
    return final


def analysed(cluster: Cluster) -> list:
    from sqlalchemy import select

    from service.store import Analysis

    store = cluster.store()
    try:
        with store.tx() as s:
            return list(s.scalars(select(Analysis)))
    finally:
        store.close()


def report(files, answers, accepted, settled, analyses, sent_s, total_s) -> None:
    answered = [a for a in answers if a["status"] is not None]
    latencies = sorted(a["seconds"] for a in answered)
    refusals = Counter(f"{a['status']} {a['reason'][:60]}" for a in answered if a["status"] != 202)
    states = Counter(job["state"] for job in settled.values())
    reasons = Counter(
        job.get("error") or "" for job in settled.values() if job["state"] == "failed"
    )
    lost = len(accepted) - len(settled)
    rerun = Counter(a.state for a in analyses if (a.attempts or 0) > 1)
    print(f"uploads                    {len(files)} from 8 clients in {sent_s:.1f} s")
    print(f"answered                   {len(answered)} (no answer: {len(answers) - len(answered)})")
    print(f"accepted (202)             {len(accepted)}")
    for reason, n in sorted(refusals.items()):
        print(f"refused                    {n:>3} x {reason}")
    p95 = latencies[max(int(0.95 * len(latencies)) - 1, 0)]
    print(f"acceptance latency         p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms")  # fmt: skip
    print(f"jobs done                  {states['done']}")
    print(f"jobs failed                {states['failed']}")
    for reason, n in sorted(reasons.items()):
        print(f"  failed because           {n:>3} x {reason[:80]}")
    print(f"jobs lost                  {lost}")
    print(f"distinct analyses          {len(analyses)}")
    print(f"analysed more than once    {rerun['done']} ending in a report (must be 0); "
          f"{rerun['failed']} failed and tried again for a later upload of the same bytes "
          "(by design: a failure is not a stored answer)")  # fmt: skip
    print(f"all settled after          {total_s:.1f} s")


if __name__ == "__main__":
    sys.exit(run(main))  # Ctrl-C: 130, SIGTERM: 143, and whatever it started is stopped
