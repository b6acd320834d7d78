"""Blob storage: a local folder, and an S3-compatible server (moto's, started by the test)."""

import boto3
import pytest

from service.blobs import BlobMissing, BlobStoreUnavailable, LocalBlobs, S3Blobs

from .conftest import CREDENTIALS, free_port, service_settings


@pytest.fixture(params=["local", "s3"])
def blobs(request, tmp_path):
    if request.param == "local":
        return LocalBlobs(tmp_path / "uploads")
    server, bucket = request.getfixturevalue("s3")
    return S3Blobs(f"s3://{bucket}/uploads", server, tmp_path / "tmp")


def test_a_stored_blob_comes_back_byte_for_byte_and_goes_away(blobs, tmp_path):
    source = tmp_path / "in"
    source.write_bytes(b"video bytes" * 1000)
    blobs.put("job1", source)
    assert not source.exists()  # taken over by the store
    with blobs.local_copy("job1") as path:
        assert path.read_bytes() == b"video bytes" * 1000
    blobs.delete("job1")
    with pytest.raises(BlobMissing), blobs.local_copy("job1"):
        pass
    blobs.delete("job1")  # deleting twice is fine
    blobs.ping()


def test_an_unreachable_s3_server_is_a_transient_error(tmp_path, monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    blobs = S3Blobs("s3://nowhere/x", f"http://127.0.0.1:{free_port()}", tmp_path)
    with pytest.raises(BlobStoreUnavailable):
        blobs.ping()


def test_the_service_keeps_uploads_in_s3_and_workers_read_them_there(s3, tmp_path, clip):
    from fastapi.testclient import TestClient

    from service.api import create_app

    from .conftest import Api

    server, bucket = s3
    settings = service_settings(tmp_path, blob_url=f"s3://{bucket}/media", s3_endpoint_url=server)
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings)
        headers = api.key("desk")
        job = api.upload(headers, clip("a.mp4")).json()
        s3_client = boto3.client("s3", endpoint_url=server)
        listed = s3_client.list_objects_v2(Bucket=bucket)["Contents"]
        assert [o["Key"] for o in listed] == [f"media/{api.services.store.job(job['id']).blob}"]
        assert api.run(job["id"]).state == "done"
        client.delete(f"/v1/analyses/{job['id']}", headers=headers)
        assert s3_client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
        assert not list((settings.data_dir / "uploads").glob("*"))
