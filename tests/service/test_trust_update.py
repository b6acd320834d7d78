"""``verity trust update`` against a local HTTP server (no test reaches the internet)."""

import http.server
import threading
from functools import partial

import pytest

from detector.settings import get_settings
from service.cli import main
from tests.c2pa_signing import TestCA


@pytest.fixture
def served(tmp_path):
    """Serve a folder on 127.0.0.1; yields (folder, base URL)."""
    folder = tmp_path / "www"
    folder.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("VERITY_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def test_update_writes_each_list_into_the_data_directory(served, data_dir, capsys):
    folder, url = served
    TestCA("Root One").write(folder).rename(folder / "C2PA-TRUST-LIST.pem")
    TestCA("Root Two").write(folder).rename(folder / "C2PA-TSA-TRUST-LIST.pem")
    code = main(
        [
            "trust",
            "update",
            "--list",
            f"{url}/C2PA-TRUST-LIST.pem",
            "--list",
            f"{url}/C2PA-TSA-TRUST-LIST.pem",
        ]
    )
    assert code == 0
    assert sorted(p.name for p in (data_dir / "trust").glob("*.pem")) == [
        "C2PA-TRUST-LIST.pem",
        "C2PA-TSA-TRUST-LIST.pem",
    ]
    assert "1 certificates" in capsys.readouterr().out


def test_downloaded_lists_become_the_trust_anchors(served, data_dir):
    from detector.trust import anchor_files

    folder, url = served
    TestCA().write(folder)
    main(["trust", "update", "--list", f"{url}/test-root.pem"])
    assert [p.name for p in anchor_files(get_settings())] == ["test-root.pem"]


def test_a_bad_list_changes_nothing(served, data_dir, capsys):
    folder, url = served
    TestCA().write(folder)
    (folder / "junk.pem").write_text("<html>not a certificate</html>")
    code = main(["trust", "update", "--list", f"{url}/test-root.pem", "--list", f"{url}/junk.pem"])
    assert code == 1
    assert "not a PEM list" in capsys.readouterr().err
    assert not list((data_dir / "trust").glob("*.pem"))


def test_unreachable_server_is_a_clear_error(data_dir, capsys):
    code = main(["trust", "update", "--list", "http://127.0.0.1:9/C2PA-TRUST-LIST.pem"])
    assert code == 1
    assert "trust update failed" in capsys.readouterr().err


def test_only_http_urls_are_fetched(data_dir, capsys):
    assert main(["trust", "update", "--list", "file:///etc/passwd"]) == 1
    assert "only http(s)" in capsys.readouterr().err
