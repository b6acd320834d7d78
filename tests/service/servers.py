"""Real servers for the service tests: Redis, Verity workers and the API as processes."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import redis

from service.store import Store

from .conftest import free_port, require_program


def wait_for(condition, timeout: float, what: str, every: float = 0.05):
    """Poll ``condition`` until it returns something true; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


class RedisServer:
    """redis-server on a free port, persisting to an append-only file so it survives restarts."""

    def __init__(self, folder: Path):
        self.program = require_program("redis-server")
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                self.program,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.folder),
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--save", "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        wait_for(lambda: _pings(client), 20, "redis-server to answer")
        client.close()
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # saves the append-only file and exits
            try:
                self.process.wait(timeout=20)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


class VerityProcess:
    """``verity worker`` or ``verity serve`` in its own process group."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.log_path = log
        self.log = open(log, "ab")  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service", *args],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def children(self) -> list[int]:
        return children_of(self.pid)

    def kill(self) -> None:
        """kill -9 the whole process group: the worker and its pool processes."""
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def stop(self) -> None:
        """SIGTERM to the group; once its leader has ended (or after 30 s), SIGKILL whatever
        of the group is left, so that nothing outlives the test."""
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait()
        self.log.close()


class ApiServer(VerityProcess):
    def __init__(self, env: dict[str, str], log: Path, port: int, embedded_worker=False):
        worker = [] if embedded_worker else ["--no-worker"]
        super().__init__(["serve", *worker, "--port", str(port)], env, log)
        self.url = f"http://127.0.0.1:{port}"
        wait_for(self._healthy, 60, "the API to answer", every=0.2)

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the API exited with {self.process.returncode}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False


def started_worker(env: dict[str, str], log: Path, concurrency: int = 1) -> VerityProcess:
    """A worker with ``concurrency`` pool processes, once it consumes the queue."""
    command = ["worker", "--concurrency", str(concurrency), "--loglevel", "INFO"]
    worker = VerityProcess(command, env, log)
    wait_for(lambda: b" ready." in log.read_bytes(), 60, "the worker to be ready", every=0.2)
    return worker


class Cluster:
    """redis-server, the API and workers as processes, sharing one data folder."""

    def __init__(self, tmp_path, stale_after_s: float = 30, **env):
        self.tmp = tmp_path
        self.redis = RedisServer(tmp_path / "redis").start()
        self.env = {
            **os.environ,
            "VERITY_DATA_DIR": str(tmp_path / "data"),
            "VERITY_BROKER_URL": self.redis.url,
            "VERITY_JOB_STALE_AFTER_S": str(stale_after_s),
            **env,
        }
        self.processes: list[VerityProcess] = []
        self.api: ApiServer | None = None
        # a deployment (a broker server) upgrades its job store first, as an operator would
        subprocess.run([sys.executable, "-m", "service", "db", "upgrade"], env=self.env, check=True)
        self.headers = {"Authorization": f"Bearer {self.new_key('desk')}"}

    def new_key(self, name: str) -> str:
        """A key made the way an operator makes one: the last line `verity keys create` prints."""
        created = subprocess.run(
            [sys.executable, "-m", "service", "keys", "create", name],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return created.stdout.splitlines()[-1]

    def start_api(self) -> ApiServer:
        self.api = ApiServer(self.env, self.tmp / "api.log", free_port())
        self.processes.append(self.api)
        return self.api

    def worker(self, name: str, concurrency: int = 1) -> VerityProcess:
        worker = started_worker(self.env, self.tmp / f"{name}.log", concurrency)
        self.processes.append(worker)
        return worker

    def send(self, path, api=None, headers=None, timeout: float = 30) -> httpx.Response:
        """POST the file to the API (or to another replica), with the cluster's key (or
        ``headers``)."""
        with open(path, "rb") as f:
            return httpx.post(
                f"{(api or self.api).url}/v1/analyses",
                headers=headers or self.headers,
                files={"file": (path.name, f)},
                timeout=timeout,
            )

    def upload(self, path, headers=None) -> dict:
        """The accepted job."""
        response = self.send(path, headers=headers)
        assert response.status_code == 202, response.text
        return response.json()

    def job(self, job_id: str) -> dict:
        return httpx.get(
            f"{self.api.url}/v1/analyses/{job_id}", headers=self.headers, timeout=10
        ).json()

    def wait_done(self, job_ids, timeout=120) -> list[dict]:
        def settled():
            jobs = [self.job(i) for i in job_ids]
            return jobs if all(j["state"] in ("done", "failed") for j in jobs) else None

        return wait_for(settled, timeout, f"jobs {job_ids} to finish", every=0.3)

    def store(self) -> Store:
        return Store(f"sqlite:///{self.tmp / 'data' / 'verity.sqlite'}")

    def close(self) -> None:
        for process in self.processes:
            process.stop()
        self.redis.stop()
