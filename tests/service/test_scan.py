"""``verity scan`` over an archive the test builds: counts, resuming, duplicates, signals."""

import codecs
import contextlib
import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from detector import Settings
from detector.probe import file_sha256
from detector.settings import usable_cores, worker_cores
from detector.synth import make_clip
from service.i18n import Words
from service.scan import ScanError, scan

from .conftest import free_port

FAST = Settings(disabled_checks=["visible_watermark", "invisible_watermark"])
FORMATS = [".mp4", ".mkv", ".webm", ".avi", ".gif", ".264"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A few hundred files in nested folders; returns (root, expected counts)."""
    root = tmp_path_factory.mktemp("archive")
    clips = []
    for i in range(36):
        folder = root / f"year{2023 + i % 3}" / f"month{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        clips.append(
            make_clip(
                folder / f"clip{i}{FORMATS[i % len(FORMATS)]}",
                seconds=0.6,
                fps=10,
                size=(64, 48),
                seed=i,
            )
        )
    for i, clip in enumerate(clips[:30]):  # the same bytes under other names and folders
        copy = root / "copies" / f"dup{i}{clip.suffix}"
        copy.parent.mkdir(exist_ok=True)
        shutil.copy(clip, copy)
    broken = root / "broken"
    broken.mkdir()
    for i in range(20):  # truncated MP4s: the index at the end is lost
        whole = make_clip(
            broken / f"whole{i}.mp4", seconds=0.6, fps=10, size=(64, 48), seed=100 + i
        )
        (broken / f"cut{i}.mp4").write_bytes(whole.read_bytes()[:600])
        whole.unlink()
    other = root / "documents" / "deep" / "er"
    other.mkdir(parents=True)
    for i in range(150):
        kind = i % 3
        name = ["notes{}.txt", "report{}.pdf", "noise{}.mp4"][kind].format(i)
        body = [b"minutes of the meeting\n" * 20, b"%PDF-1.5\n" + bytes(200), os.urandom(2000)][
            kind
        ]
        (other / name).write_bytes(body)
    (root / "<b>odd name<i>.mp4").write_bytes(clips[0].read_bytes())
    return root, {"done": 36 + 30 + 1, "failed": 20, "skipped": 150, "distinct": 36}


def _jsonl(out):
    return [json.loads(line) for line in (out / "reports.jsonl").read_text().splitlines()]


def test_scan_counts_every_kind_of_file(archive, tmp_path):
    root, expected = archive
    counts = scan([root], tmp_path / "out", workers=2, resume=False, settings=FAST)
    assert {k: counts.get(k, 0) for k in ("done", "failed", "skipped")} == {
        k: expected[k] for k in ("done", "failed", "skipped")
    }
    rows = _jsonl(tmp_path / "out")
    assert len(rows) == expected["done"] + expected["failed"]
    assert len({r["path"] for r in rows}) == len(rows)
    failed = [r for r in rows if "error" in r]
    assert len(failed) == 20 and all("cannot be read" in r["error"] for r in failed)


def test_identical_bytes_are_analysed_once(archive, tmp_path):
    root, expected = archive
    scan([root], tmp_path / "out", workers=2, resume=False, settings=FAST)
    db = sqlite3.connect(tmp_path / "out" / "state.sqlite")
    assert db.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == expected["distinct"]
    by_hash = {}
    for row in _jsonl(tmp_path / "out"):
        if "report" in row:
            sha = row["report"]["media"]["sha256"]
            assert sha == file_sha256(Path(row["path"]))  # hashed once, by the scan
            by_hash.setdefault(sha, []).append(row["path"])
    assert sum(len(paths) > 1 for paths in by_hash.values()) == 30


def test_outputs_summarise_and_escape(archive, tmp_path):
    root, _ = archive
    out = tmp_path / "out"
    scan([root], out, workers=1, resume=False, settings=FAST)
    raw = (out / "summary.csv").read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)  # spreadsheets then read it as UTF-8
    summary = raw.decode("utf-8-sig").splitlines()
    assert summary[0] == "path,sha256,verdict,likelihood,generator,strongest_evidence,error"
    index = (out / "index.html").read_text()
    assert "&lt;b&gt;odd name&lt;i&gt;.mp4" in index and "<b>odd name" not in index
    assert len(list((out / "reports").glob("*.html"))) == 36


def test_a_second_run_does_nothing_again(archive, tmp_path):
    root, expected = archive
    out = tmp_path / "out"
    scan([root], out, workers=2, resume=False, settings=FAST)
    events = []
    counts = scan(
        [root],
        out,
        workers=2,
        resume=True,
        settings=FAST,
        progress=lambda event, c: events.append(dict(c)),
    )
    assert events[-1]["already"] == sum(expected[k] for k in ("done", "failed", "skipped"))
    assert events[-1]["done"] == events[-1]["failed"] == 0
    assert counts["done"] == expected["done"]
    assert len(_jsonl(out)) == expected["done"] + expected["failed"]


def test_a_previous_scan_is_not_overwritten_without_resume(archive, tmp_path):
    root, _ = archive
    scan([root / "copies"], tmp_path / "out", workers=1, resume=False, settings=FAST)
    with pytest.raises(ScanError, match="--resume"):
        scan([root / "copies"], tmp_path / "out", workers=1, resume=False, settings=FAST)


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(ScanError, match="no such file"):
        scan([tmp_path / "nope"], tmp_path / "out", workers=1, resume=False, settings=FAST)


# Where a scan can be interrupted (service.lifecycle.pause_here), and the signal sent there.
PHASES = [
    ("start", signal.SIGINT),  # before the sources are walked
    ("pool", signal.SIGTERM),  # the worker pool made, nothing submitted
    ("work", signal.SIGINT),  # one file recorded, others in flight
    ("work", signal.SIGTERM),
    ("outputs", signal.SIGINT),  # every file analysed, the outputs not yet written
    ("exit", signal.SIGTERM),  # outputs written, the interpreter shutting down
]


@pytest.mark.parametrize(("phase", "signum"), PHASES, ids=[f"{p}-{s.name}" for p, s in PHASES])
def test_a_scan_interrupted_in_any_phase_exits_128_plus_signal_and_resumes(
    small_archive, tmp_path, phase, signum
):
    """The scan is held at the phase (VERITY_PAUSE_AT) until the signal comes: no timing."""
    out = tmp_path / "out"
    env = {**os.environ, "VERITY_DISABLED_CHECKS": json.dumps(FAST.disabled_checks)}
    command = [sys.executable, "-m", "service", "scan", str(small_archive), "--out", str(out)]
    with started(command, {**env, "VERITY_PAUSE_AT": phase}) as first:
        for line in first.stderr:  # ends if the scan exits without pausing
            if f"paused at {phase}" in line:
                break
        first.send_signal(signum)
        assert first.wait(timeout=300) == 128 + signum
    resumed = subprocess.run(
        [*command, "--resume"], env=env, capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr
    rows = _jsonl(out)
    assert sorted(Path(r["path"]).name for r in rows) == sorted(
        ["clip0.mp4", "clip1.mp4", "clip2.mp4", "copy of clip0.mp4", "cut.mp4"]
    )  # every video once (the PDF is skipped), nothing lost or doubled


@contextlib.contextmanager
def started(command: list[str], env: dict[str, str]):
    """The command in a process group of its own, its standard error readable as text; the
    group is killed on the way out, whatever the test concluded."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        process.stderr.close()


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory):
    """A few clips, a copy, a broken MP4 and a document: every outcome, quickly."""
    root = tmp_path_factory.mktemp("small")
    for i in range(3):
        make_clip(root / f"clip{i}.mp4", seconds=0.6, fps=10, size=(64, 48), seed=300 + i)
    shutil.copy(root / "clip0.mp4", root / "copy of clip0.mp4")
    (root / "cut.mp4").write_bytes((root / "clip1.mp4").read_bytes()[:600])
    (root / "notes.pdf").write_bytes(b"%PDF-1.5\n" + bytes(100))
    return root


def _by_name(out) -> dict[str, tuple]:
    """What a scan concluded for each file, without times that differ between runs, nor what
    the fingerprint check found: that depends on what the analysing side remembers (a service
    its own store, a local scan the data folder's), not on the file."""
    concluded = {}
    for row in _jsonl(out):
        name = Path(row["path"]).name
        if "error" in row:
            concluded[name] = ("failed",)
        else:
            report = row["report"]
            findings = sorted(
                (e["check"], e["finding"])
                for e in report["evidence"]
                if e["check"] != "fingerprint"
            )
            concluded[name] = (report["verdict"], report["fabrication_likelihood"], findings)
    return concluded


@pytest.mark.slow
def test_a_scan_via_a_live_service_gives_the_same_reports_as_a_local_scan(small_archive, tmp_path):
    from .servers import Cluster

    env = {"VERITY_DISABLED_CHECKS": json.dumps(FAST.disabled_checks)}
    cluster = Cluster(tmp_path / "cluster", **env)
    try:
        cluster.start_api()
        cluster.worker("w1")
        key = cluster.headers["Authorization"].split()[1]
        via = subprocess.run(
            [sys.executable, "-m", "service", "scan", str(small_archive),
             "--out", str(tmp_path / "via"), "--via", cluster.api.url, "--key", key],
            env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        cluster.close()
    assert via.returncode == 0, via.stderr
    counts = scan([small_archive], tmp_path / "local", workers=1, resume=False, settings=FAST)
    assert counts == {"done": 4, "failed": 1, "skipped": 1}
    assert "4 done" in via.stdout and "1 failed" in via.stdout and "1 skipped" in via.stdout
    assert _by_name(tmp_path / "via") == _by_name(tmp_path / "local")


def test_a_scan_via_a_service_that_refuses_the_key_stops_with_a_reason(small_archive, api):
    from service.scan.remote import RemoteAnalyser

    class Refusing(RemoteAnalyser):
        def _client(self):  # the in-process API stands in for a remote one
            return api.client.__class__(api.client.app, headers=self.headers)

    with pytest.raises(ScanError, match="refused the API key"):
        scan(
            [small_archive],
            api.settings.data_dir / "out",
            workers=1,
            resume=False,
            settings=FAST,
            via=Refusing("http://testserver", "vk_wrong"),
        )


def test_a_scan_reads_an_s3_prefix(s3, small_archive, tmp_path):
    server, bucket = s3
    client = boto3.client("s3", endpoint_url=server)
    for path in sorted(small_archive.iterdir()):
        client.upload_file(str(path), bucket, f"archive/2024/{path.name}")
    client.put_object(Bucket=bucket, Key="elsewhere/clip.mp4", Body=b"not in the prefix")
    out = tmp_path / "out"
    counts = scan([f"s3://{bucket}/archive/"], out, 1, False, FAST, s3_endpoint_url=server)
    assert counts == {"done": 4, "failed": 1, "skipped": 1}
    paths = {row["path"] for row in _jsonl(out)}
    assert f"s3://{bucket}/archive/2024/clip0.mp4" in paths
    assert not list((out / "tmp").glob("*"))  # downloads are deleted once analysed
    again = scan([f"s3://{bucket}/archive/"], out, 1, True, FAST, s3_endpoint_url=server)
    assert again == counts  # a rerun finds everything done


def test_an_unreachable_bucket_stops_the_scan_before_it_starts(tmp_path, monkeypatch):
    from .conftest import CREDENTIALS

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ScanError, match="cannot be reached"):
        scan(["s3://nowhere/x"], tmp_path / "out", 1, False, FAST,
             s3_endpoint_url=f"http://127.0.0.1:{free_port()}")  # fmt: skip


def test_the_summary_in_chinese_opens_cleanly_with_chinese_file_names(tmp_path):
    folder = tmp_path / "档案"
    folder.mkdir()
    make_clip(folder / "洪水现场.mp4", seconds=2, fps=10, size=(160, 120), seed=7)
    (folder / "损坏.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 40)
    out = tmp_path / "out"
    scan([folder], out, workers=1, resume=False, settings=FAST, words=Words("zh"))
    with open(out / "summary.csv", newline="", encoding="utf-8-sig") as f:
        rows = {Path(r["path"]).name: r for r in csv.DictReader(f)}
    assert set(rows) == {"洪水现场.mp4", "损坏.mp4"}
    done = rows["洪水现场.mp4"]
    assert done["verdict"] in ("inconclusive", "no_evidence_of_fabrication", "likely_fabricated")
    assert rows["损坏.mp4"]["error"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-Hans">' in index and "伪造可能性" in index  # the histogram's axis
    assert "洪水现场.mp4" in index and "失败" in index
    percent = f"{float(done['likelihood']) * 100:.0f} %"
    assert f'data-value="{done["likelihood"]}">{percent}</td>' in index
    picture = f"reports/{done['sha256'][:12]}.jpg"
    assert f'src="{picture}"' in index and (out / picture).read_bytes()[:2] == b"\xff\xd8"
    page = f"reports/{done['sha256'][:12]}.zh.html"
    assert f'href="{page}"' in index
    assert "关键帧" in (out / page).read_text(encoding="utf-8")  # the report shows key frames


def test_each_worker_keeps_to_its_own_share_of_the_cores():
    assert worker_cores(0, 2, [0, 1]) == {0} and worker_cores(1, 2, [0, 1]) == {1}
    assert worker_cores(1, 2, [4, 5, 6, 7]) == {6, 7}
    assert worker_cores(3, 2, [0, 1]) == {1}  # numbered past the pool's size: still a share
    assert worker_cores(0, 1, [0, 1]) is None  # alone: every core
    assert worker_cores(0, 3, [0, 1]) is None  # too few cores to go round: the OS shares them


@pytest.mark.skipif(len(usable_cores()) < 2, reason="needs two cores")
def test_two_workers_analyse_on_cores_of_their_own(tmp_path):
    root = tmp_path / "clips"
    root.mkdir()
    for i in range(6):
        make_clip(root / f"c{i}.mp4", seconds=0.6, fps=10, size=(64, 48), seed=400 + i)
    settings = FAST.model_copy(update={"check_modules": ["tests.service.cores_check"]})
    scan([root], tmp_path / "out", workers=2, resume=False, settings=settings)
    seen = {}
    for report in _jsonl(tmp_path / "out"):
        (said,) = [e["details"] for e in report["report"]["evidence"] if e["check"] == "test_cores"]
        seen[said["pid"]] = (tuple(said["cores"]), said["threads"])
    share = len(usable_cores()) // 2
    assert all(len(c) == share and threads == share for c, threads in seen.values())
    if len(seen) == 2:  # both workers took files: their cores do not overlap
        (a, _), (b, _) = seen.values()
        assert not set(a) & set(b)
