"""Mutations of real containers for the fuzz test: each takes a file's bytes and a Hypothesis
``data`` object and returns bytes that lie in one of the ways hostile or broken files do."""

import struct
from dataclasses import dataclass

from hypothesis import strategies as st

# ISO BMFF boxes that hold other boxes, and how many bytes of their own come before the children
CONTAINERS = {
    b"moov": 0, b"trak": 0, b"mdia": 0, b"minf": 0, b"stbl": 0, b"udta": 0, b"edts": 0,
    b"dinf": 0, b"mvex": 0, b"moof": 0, b"traf": 0, b"meta": 4, b"stsd": 8, b"avc1": 78,
}  # fmt: skip
# full boxes whose entry count (after version and flags) tells how many entries follow
COUNTED = (b"stts", b"stsc", b"stsz", b"stco", b"co64", b"stss", b"ctts", b"elst", b"stsd")
LIES = (0, 1, 7, 8, 0x7FFFFFFF, 0xFFFFFFFF)


@dataclass(frozen=True)
class Box:
    start: int
    size: int
    kind: bytes
    header: int  # 8, or 16 with a 64-bit size


def boxes(data: bytes, start: int = 0, end: int | None = None, depth: int = 0) -> list[Box]:
    """Every box of an MP4/MOV the walker can follow, parents before children."""
    end = len(data) if end is None else end
    found, at = [], start
    while at + 8 <= end and depth < 12:
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        header = 8
        if size == 1 and at + 16 <= end:
            size, header = struct.unpack(">Q", data[at + 8 : at + 16])[0], 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            break
        found.append(Box(at, size, kind, header))
        if kind in CONTAINERS:
            inner = at + header + CONTAINERS[kind]
            found += boxes(data, inner, at + size, depth + 1)
        at += size
    return found


def _put(data: bytes, offset: int, packed: bytes) -> bytes:
    if offset < 0 or offset + len(packed) > len(data):
        return data
    return data[:offset] + packed + data[offset + len(packed) :]


def truncate_at_box_boundary(data: bytes, draw) -> bytes:
    cuts = sorted({b.start for b in boxes(data)} | {b.start + b.size for b in boxes(data)})
    cuts = [c for c in cuts if 0 < c < len(data)] or [len(data) // 2]
    cut = draw(st.sampled_from(cuts))
    return data[: cut + draw(st.integers(-8, 8))]


def lying_box_size(data: bytes, draw) -> bytes:
    found = boxes(data) or [Box(0, len(data), b"????", 8)]
    box = draw(st.sampled_from(found))
    lie = draw(st.sampled_from(LIES) | st.integers(0, 2 * box.size + 64))
    return _put(data, box.start, struct.pack(">I", lie))


def lying_entry_count(data: bytes, draw) -> bytes:
    counted = [b for b in boxes(data) if b.kind in COUNTED]
    if not counted:
        return lying_box_size(data, draw)
    box = draw(st.sampled_from(counted))
    lie = draw(st.sampled_from((0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF)) | st.integers(0, 1 << 32))
    return _put(data, box.start + box.header + 4, struct.pack(">I", lie & 0xFFFFFFFF))


def huge_dimensions_or_duration(data: bytes, draw) -> bytes:
    """tkhd width/height (16.16 fixed point), avc1 width/height, mvhd/mdhd duration."""
    found = boxes(data)
    targets = []
    for b in found:
        body = b.start + b.header
        if b.kind == b"tkhd":
            targets += [(b.start + b.size - 8, ">I", 16), (b.start + b.size - 4, ">I", 16)]
        elif b.kind == b"avc1":
            targets += [(body + 24, ">H", 0), (body + 26, ">H", 0)]
        elif b.kind in (b"mvhd", b"mdhd"):
            version = data[body] if body < len(data) else 0
            at = body + (4 + 16 + 4 if version == 1 else 4 + 8 + 4)
            targets.append((at, ">Q" if version == 1 else ">I", 0))
    if not targets:
        return lying_box_size(data, draw)
    offset, fmt, shift = draw(st.sampled_from(targets))
    bits = struct.calcsize(fmt) * 8
    value = draw(st.sampled_from((0, 1, 16384, 65535)) | st.integers(0, (1 << bits) - 1))
    if shift:
        value = (value << shift) & ((1 << bits) - 1)
    return _put(data, offset, struct.pack(fmt, value))


def nested_or_looping_boxes(data: bytes, draw) -> bytes:
    """A container copied inside itself, a box repeated, or a child reaching past its parent."""
    containers = [b for b in boxes(data) if b.kind in CONTAINERS]
    if not containers:
        return lying_box_size(data, draw)
    box = draw(st.sampled_from(containers))
    whole = data[box.start : box.start + box.size]
    how = draw(st.sampled_from(("inside", "twice", "overreach")))
    if how == "inside":  # the box holds a copy of itself, its size grown to match
        inner = box.start + box.header + CONTAINERS[box.kind]
        grown = data[:inner] + whole + data[inner:]
        return _put(grown, box.start, struct.pack(">I", (box.size + len(whole)) & 0xFFFFFFFF))
    if how == "twice":
        end = box.start + box.size
        return data[:end] + whole * draw(st.integers(1, 20)) + data[end:]
    children = [b for b in boxes(data) if box.start < b.start < box.start + box.size]
    if not children:
        return data
    child = draw(st.sampled_from(children))
    return _put(data, child.start, struct.pack(">I", box.size + draw(st.integers(1, 4096))))


def bit_flips(data: bytes, draw) -> bytes:
    """A few flipped bits in the first kilobytes (headers, the first frames)."""
    out = bytearray(data)
    window = min(len(out), draw(st.sampled_from((256, 4096, 65536))))
    for _ in range(draw(st.integers(1, 16))):
        at = draw(st.integers(0, max(window - 1, 0)))
        out[at] ^= 1 << draw(st.integers(0, 7))
    return bytes(out)


def gif_broken_frames(data: bytes, draw) -> bytes:
    """Image descriptors (0x2C) with lying sizes and positions, a huge logical screen, LZW
    data cut short."""
    descriptors = [i for i in range(13, len(data) - 10) if data[i] == 0x2C][:64]
    how = draw(st.sampled_from(("descriptor", "screen", "cut")))
    if how == "screen":
        return _put(
            data,
            6,
            struct.pack("<HH", *draw(st.tuples(st.integers(0, 65535), st.integers(0, 65535)))),
        )
    if how == "cut" or not descriptors:
        return data[: draw(st.integers(13, max(len(data) - 1, 13)))]
    at = draw(st.sampled_from(descriptors))
    field = draw(st.sampled_from((1, 3, 5, 7)))  # left, top, width, height
    return _put(data, at + field, struct.pack("<H", draw(st.integers(0, 65535))))


def webp_broken_frames(data: bytes, draw) -> bytes:
    """RIFF and ANMF chunk sizes that lie, frame sizes out of the canvas."""
    chunks, at = [], 12
    while at + 8 <= len(data):
        kind, size = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])[0]
        chunks.append((at, kind, size))
        at += 8 + size + (size & 1)
    how = draw(st.sampled_from(("riff", "chunk", "frame")))
    if how == "riff" or not chunks:
        return _put(
            data, 4, struct.pack("<I", draw(st.sampled_from(LIES) | st.integers(0, 1 << 31)))
        )
    anmf = [c for c in chunks if c[1] == b"ANMF"]
    if how == "frame" and anmf:
        start = draw(st.sampled_from(anmf))[0] + 8
        field = draw(st.integers(0, 4)) * 3  # x, y, width-1, height-1, duration: 24-bit each
        return _put(data, start + field, draw(st.binary(min_size=3, max_size=3)))
    start = draw(st.sampled_from(chunks))[0]
    return _put(
        data, start + 4, struct.pack("<I", draw(st.sampled_from(LIES) | st.integers(0, 1 << 31)))
    )


def h264_garbage_nal_units(data: bytes, draw) -> bytes:
    """Start codes followed by garbage, inserted among the real NAL units, or a real one's
    payload overwritten."""
    starts = [i for i in range(len(data) - 4) if data[i : i + 4] == b"\x00\x00\x00\x01"][:256] or [
        0
    ]
    at = draw(st.sampled_from(starts))
    garbage = b"\x00\x00\x00\x01" + draw(st.binary(min_size=1, max_size=512))
    if draw(st.booleans()):
        return data[:at] + garbage + data[at:]
    return _put(data, at, garbage[: max(len(data) - at, 0)])


MP4_MUTATIONS = (
    truncate_at_box_boundary,
    lying_box_size,
    lying_entry_count,
    huge_dimensions_or_duration,
    nested_or_looping_boxes,
    bit_flips,
)
