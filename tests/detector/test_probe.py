import pytest

from detector.errors import CorruptMedia, MediaTooLarge, MediaUnreadable, NotAVideo
from detector.probe import file_sha256, probe
from detector.settings import Settings
from detector.synth import make_audio_only


@pytest.mark.parametrize(
    ("name", "container", "codec"),
    [
        ("c.mp4", "mov,mp4,m4a,3gp,3g2,mj2", "h264"),
        ("c.mov", "mov,mp4,m4a,3gp,3g2,mj2", "h264"),
        ("c.mkv", "matroska,webm", "h264"),
        ("c.webm", "matroska,webm", "vp9"),
        ("c.avi", "avi", "mjpeg"),
        ("c.264", "h264", "h264"),
        ("c.gif", "gif", "gif"),
        ("c.webp", "webp", "webp"),
    ],
)
def test_probe_reads_every_supported_container(clip, settings, name, container, codec):
    probed = probe(clip(name, seconds=2, fps=10, size=(96, 64)), settings)
    info = probed.info
    assert (info.container, info.codec) == (container, codec)
    assert (info.width, info.height) == (96, 64)
    if name != "c.264":  # a raw stream stores no timing: see the next test
        assert info.duration_s == pytest.approx(2.0, abs=0.15)
        assert info.fps == pytest.approx(10, abs=0.01)


def test_raw_h264_says_its_frame_rate_is_assumed(clip, settings):
    info = probe(clip("raw.264", seconds=2, fps=10), settings).info
    assert info.fps_assumed
    assert info.frame_count == 20  # counted from the stream, since nothing states it
    assert info.duration_s == pytest.approx(20 / info.fps)


def test_probe_hashes_the_file(clip, settings):
    path = clip("c.mp4")
    assert probe(path, settings).info.sha256 == file_sha256(path)
    assert len(file_sha256(path)) == 64


def test_variable_frame_rate_is_flagged(clip, settings):
    path = clip("vfr.mp4", pts_ms=[0, 40, 80, 300, 340, 900, 940, 1500, 1540, 1580])
    assert probe(path, settings).info.variable_frame_rate


def test_constant_frame_rate_is_not_flagged(clip, settings):
    assert not probe(clip("cfr.mp4", fps=25), settings).info.variable_frame_rate


def test_keyframes_come_from_the_index_in_presentation_time(clip, settings):
    probed = probe(clip("gop.mp4", seconds=4, fps=25, gop=25), settings)
    assert probed.keyframes_s == pytest.approx([0.0, 1.0, 2.0, 3.0], abs=0.001)


def test_container_and_stream_tags_are_read(clip, settings):
    path = clip("tags.mov", metadata={"com.apple.quicktime.model": "iPhone 15"})
    tags = probe(path, settings).info.tags
    assert tags["com.apple.quicktime.model"] == "iPhone 15"
    assert tags["video:handler_name"]


def test_missing_file_is_unreadable(tmp_path, settings):
    with pytest.raises(MediaUnreadable, match="no such file"):
        probe(tmp_path / "nope.mp4", settings)


def test_directory_is_unreadable(tmp_path, settings):
    with pytest.raises(MediaUnreadable, match="directory"):
        probe(tmp_path, settings)


def test_empty_file_is_corrupt(tmp_path, settings):
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(CorruptMedia, match="empty"):
        probe(tmp_path / "empty.mp4", settings)


def test_pdf_named_mp4_is_not_a_video(tmp_path, settings):
    (tmp_path / "report.mp4").write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n" * 20)
    with pytest.raises(NotAVideo, match="PDF"):
        probe(tmp_path / "report.mp4", settings)


def test_audio_only_is_not_a_video(tmp_path, settings):
    with pytest.raises(NotAVideo, match="audio only"):
        probe(make_audio_only(tmp_path / "voice.m4a"), settings)


def test_still_image_is_not_a_video(tmp_path, settings):
    from PIL import Image

    Image.new("RGB", (32, 32)).save(tmp_path / "photo.png")
    Image.new("RGB", (32, 32)).save(tmp_path / "photo.gif")
    with pytest.raises(NotAVideo, match="PNG"):
        probe(tmp_path / "photo.png", settings)
    with pytest.raises(NotAVideo, match="still image"):
        probe(tmp_path / "photo.gif", settings)


def test_a_video_container_holding_one_frame_is_a_video(clip, settings):
    probed = probe(clip("poster.mp4", seconds=1, fps=1), settings)
    assert probed.info.frame_count == 1


def test_truncated_mp4_without_its_index_is_corrupt(clip, settings):
    path = clip("cut.mp4", seconds=2)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the moov box sits at the end and is lost
    with pytest.raises(CorruptMedia):
        probe(path, settings)


def test_oversized_file_is_refused_before_reading(clip):
    path = clip("c.mp4")
    with pytest.raises(MediaTooLarge, match="bytes"):
        probe(path, Settings(max_bytes=100))


def test_huge_gif_frame_is_refused_from_its_header(tmp_path, settings):
    # A 16384x16384 logical screen would cost a gigabyte per decoded frame.
    path = tmp_path / "bomb.gif"
    from PIL import Image

    Image.new("P", (4, 4)).save(path, save_all=True, append_images=[Image.new("P", (4, 4))])
    data = bytearray(path.read_bytes())
    data[6:10] = (16384).to_bytes(2, "little") * 2
    path.write_bytes(bytes(data))
    with pytest.raises(MediaTooLarge, match="16384x16384"):
        probe(path, settings)


def test_frame_size_limit_applies_to_every_container(clip):
    with pytest.raises(MediaTooLarge, match="pixels"):
        probe(clip("c.mkv", size=(160, 120)), Settings(max_pixels=160 * 119))


def test_ten_hour_video_is_refused_before_decoding(clip, settings):
    path = clip("long.mp4", pts_ms=[0, 40, 10 * 3600 * 1000])
    with pytest.raises(MediaTooLarge, match="duration"):
        probe(path, settings)
