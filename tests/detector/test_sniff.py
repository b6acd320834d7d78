import pytest

from detector.sniff import sniff


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "png"),
        (b"\xff\xd8\xff\xe0\0\x10JFIF", "jpeg"),
        (b"PK\x03\x04\x14\0", "zip"),
        (b"\0\0\0\x18ftypisom\0\0\x02\0", "isobmff"),
        (b"\0\0\0\x18ftypheic\0\0\0\0", "heif"),
        (b"\x1a\x45\xdf\xa3\x01\0\0\0", "matroska"),
        (b"RIFF\0\0\0\0AVI LIST", "avi"),
        (b"RIFF\0\0\0\0WAVEfmt ", "wav"),
        (b"\0\0\0\x01\x67\x64\0\x1f", "h26x"),
        (b"<!DOCTYPE html><html>", "html"),
        (b"just some words\n", "text"),
        (b"\x00\x01\x02\x03\xfe\xfd", "unknown"),
    ],
)
def test_sniff_names_the_kind_from_the_first_bytes(head, kind):
    assert sniff(head).kind == kind


def test_gif_header_states_its_frame_size():
    head = b"GIF89a" + (16384).to_bytes(2, "little") + (16384).to_bytes(2, "little") + b"\0" * 8
    sniffed = sniff(head)
    assert (sniffed.kind, sniffed.width, sniffed.height) == ("gif", 16384, 16384)


def test_animated_and_still_webp_are_told_apart():
    vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0"
    size = (639).to_bytes(3, "little") + (359).to_bytes(3, "little")
    animated = sniff(vp8x + b"\x02\0\0\0" + size)
    still = sniff(vp8x + b"\x00\0\0\0" + size)
    assert (animated.kind, animated.width, animated.height) == ("webp", 640, 360)
    assert still.kind == "webp_still" and not still.is_video


def test_unknown_bytes_are_left_to_the_demuxer():
    assert sniff(b"\x00\x01\x02\x03").is_video
