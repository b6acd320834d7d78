"""Find XMP packets in a file and read the few properties Verity cares about."""

import html
import re
from pathlib import Path

SCAN_BYTES = 4 * 1024 * 1024  # XMP sits in the header or trailer; the middle is media data
MAX_PACKET = 1024 * 1024

_PACKET = re.compile(rb"<x:xmpmeta.{0,%d}?</x:xmpmeta>" % MAX_PACKET, re.DOTALL)


def xmp_packets(path: Path, tags: dict[str, str]) -> list[str]:
    """XMP packets from the demuxer's ``xmp`` tag, else from the file's first and last bytes."""
    packets = [v for k, v in tags.items() if k.split(":")[-1].lower() == "xmp"]
    if packets:
        return packets
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(SCAN_BYTES)
        tail = b""
        if size > SCAN_BYTES:
            f.seek(max(size - SCAN_BYTES, SCAN_BYTES))
            tail = f.read()
    found = _PACKET.findall(head) + _PACKET.findall(tail)
    return [p.decode("utf-8", "replace") for p in found]


def xmp_values(packet: str, prop: str) -> list[str]:
    """Values of a property written as an attribute, an element, or an rdf:resource."""
    name = re.escape(prop)
    patterns = (
        rf'{name}\s*=\s*"([^"]*)"',
        rf"{name}\s*=\s*'([^']*)'",
        rf"<{name}[^>]*rdf:resource=\"([^\"]*)\"",
        rf"<{name}>\s*([^<]+?)\s*</{name}>",
    )
    values = []
    for pattern in patterns:
        values += [html.unescape(v) for v in re.findall(pattern, packet)]
    return values
