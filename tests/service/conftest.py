"""Fixtures for the service: an API on a throwaway data folder, keys, and real servers."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from service.api import create_app
from service.jobs import run_job
from service.keys import create_key
from service.schema import upgrade
from service.settings import ServiceSettings

POSTGRES = os.environ.get("VERITY_TEST_POSTGRES_URL")


def empty_postgres() -> None:
    """Drop every table of the test database, Alembic's version table included."""
    engine = create_engine(POSTGRES)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """A fresh job store at this schema, in SQLite, and in PostgreSQL where .ci/run started one."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    elif POSTGRES:
        url = POSTGRES
        empty_postgres()
    else:
        pytest.skip("VERITY_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    upgrade(url)
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_program(name: str) -> str:
    """The program's path; without it the test is skipped, except in CI, where it fails."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass
class Api:
    client: TestClient
    settings: ServiceSettings

    @property
    def services(self):
        return self.client.app.state.services

    def key(self, name: str) -> dict[str, str]:
        """Authorization headers for a new key."""
        _, secret = create_key(self.services.store, name)
        return {"Authorization": f"Bearer {secret}"}

    def upload(self, headers, path: Path, filename: str | None = None):
        with open(path, "rb") as f:
            return self.client.post(
                "/v1/analyses", headers=headers, files={"file": (filename or path.name, f)}
            )

    def run(self, job_id: str):
        """Do in this process what a worker does for the job."""
        svc = self.services
        return run_job(
            job_id, "test-task", svc.store, svc.blobs, self.settings, 3, timedelta(seconds=30)
        )


def service_settings(tmp_path: Path, **overrides) -> ServiceSettings:
    options = {
        "data_dir": tmp_path / "data",
        "max_upload_bytes": 5 * 1024 * 1024,
        "disabled_checks": ["visible_watermark", "invisible_watermark"],
    }
    return ServiceSettings(**{**options, **overrides})


@pytest.fixture
def api_with(tmp_path):
    """``api_with(**settings)``: the API in this process with the embedded broker (no worker
    consumes it; ``Api.run`` does a worker's part)."""
    with ExitStack() as stack:

        def make(**overrides) -> Api:
            settings = service_settings(tmp_path, **overrides)
            client = stack.enter_context(TestClient(create_app(settings)))
            return Api(client, settings)

        yield make


@pytest.fixture
def api(api_with) -> Api:
    return api_with()


CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "verity-test",
    "AWS_SECRET_ACCESS_KEY": "verity-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3-compatible server on a free port; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return httpx.get(url, timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    try:
        from .servers import wait_for

        wait_for(up, 60, "the S3 server", every=0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def s3(s3_server, monkeypatch, tmp_path):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    bucket = f"verity-{tmp_path.name.lower().replace('_', '-')[-40:]}"
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=bucket)
    return s3_server, bucket
