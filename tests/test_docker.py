"""The Docker files: the compose file validates, and the images install what Verity needs.
(No Docker engine runs here, so nothing is built.)"""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DOCKER = Path(__file__).parents[1] / "docker"


def _compose_command() -> list[str]:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("neither `docker compose` nor docker-compose is installed (.ci/run installs it)")


def test_the_compose_file_validates():
    result = subprocess.run(
        [*_compose_command(), "-f", str(DOCKER / "compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_compose_runs_api_worker_redis_postgres_and_minio_on_one_configuration():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    assert {"api", "worker", "redis", "postgres", "minio"} <= set(compose["services"])
    api, worker = compose["services"]["api"], compose["services"]["worker"]
    assert api["environment"] == worker["environment"]
    assert api["environment"]["VERITY_BROKER_URL"].startswith("redis://redis")
    assert worker["command"][:2] == ["verity", "worker"]
    # the schema is upgraded before the API and workers start (they refuse one that is behind)
    assert compose["services"]["migrate"]["command"] == ["verity", "db", "upgrade"]
    for service in (api, worker):
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu"])
def test_each_image_installs_verity_and_its_ocr(name):
    text = (DOCKER / name).read_text()
    assert "rapidocr-onnxruntime" in text and 'pip install ".[' in text
    assert "USER verity" in text  # media is decoded by an unprivileged user
    if name.endswith("gpu"):
        assert "onnxruntime-gpu" in text and "nvidia/cuda" in text
