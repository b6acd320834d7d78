"""C2PA Content Credentials: who signed the file, what it declares, whether it still matches.

Files without a manifest (the normal case: platforms strip them) are recognised from a few
header bytes without calling the C2PA reader, so they cost almost nothing.
"""

import json
from pathlib import Path

import c2pa

from ..fusion import C2PA_LOG_LR
from ..generators import find_by_c2pa
from ..phrase import Phrase, phrase
from ..provenance import Credential, Finding, Provenance, read_store
from ..registry import Check, Media, Needs, register_check
from ..report import Evidence
from ..settings import Settings
from ..trust import anchor_files, c2pa_settings

C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")  # the manifest box in ISO BMFF
SCAN_BYTES = 8 * 1024 * 1024  # other formats keep the manifest near the start or the end
MAX_MANIFEST_BYTES = 64 * 1024 * 1024  # a manifest store this large is not kept
MARKERS = (b"jumb", b"c2pa", b"C2PA", b"provenance")  # JUMBF, C2PA labels, XMP remote references

CREDENTIAL_WORDS = {
    Credential.TRUSTED: phrase("the signer is on the configured trust list"),
    Credential.UNTRUSTED: phrase(
        "the signer is not on any configured trust list, so anyone could have made this certificate"
    ),
    Credential.EXPIRED: phrase(
        "the signing certificate has expired and no trusted timestamp shows it was valid when "
        "it signed"
    ),
    Credential.REVOKED: phrase("the signing certificate has been revoked"),
    Credential.INVALID: phrase("the credential failed validation"),
}
SOURCE_TYPE_WORDS = {
    "trainedAlgorithmicMedia": phrase("made by a generative AI model"),
    "compositeWithTrainedAlgorithmicMedia": phrase("composited with generative AI content"),
    "algorithmicMedia": phrase("made by an algorithm without camera capture"),
    "compositeSynthetic": phrase("composited from synthetic elements"),
    "digitalCapture": phrase("captured by a digital camera"),
    "computationalCapture": phrase("captured by a camera with computational processing"),
}


@register_check("c2pa")
class C2paCheck(Check):
    needs = Needs(file=True)

    def run(self, media: Media) -> Evidence:
        return self.inspect(media.path)

    def inspect(self, path: Path) -> Evidence:
        """The C2PA evidence for any file c2pa reads, video or still."""
        try:
            store = manifest_store(path, self.settings)
        except c2pa.C2paError as e:
            return self.evidence(
                Finding.UNREADABLE,
                phrase(
                    "The C2PA reader could not read the file's Content Credentials: {reason}.",
                    reason=_reason(e),
                ),
                details={"error": str(e)[:500]},
            )
        if store is None:
            return self._absent()
        return self._evidence(read_store(json.loads(store)))

    def _absent(self) -> Evidence:
        return self.evidence(
            Finding.ABSENT,
            phrase(
                "No Content Credentials (C2PA manifest) in the file; most platforms strip them, "
                "so this says nothing either way."
            ),
        )

    def _evidence(self, prov: Provenance) -> Evidence:
        signer = prov.active.signer
        who = _signer_words(signer)
        credential = CREDENTIAL_WORDS[prov.credential]
        if prov.timestamp == "trusted":
            credential = phrase(
                "{credential}; a trusted timestamp dates the signature", credential=credential
            )
        declared = prov.declared_by
        kind = next(iter(declared.source_types), "") if declared else ""
        source = SOURCE_TYPE_WORDS.get(kind, kind)
        where = (
            ""
            if declared is prov.active or declared is None
            else phrase(" in an ingredient it was made from")
        )
        if prov.finding is Finding.TAMPERED:
            bad = sorted(
                {
                    c["code"]
                    for c in prov.codes
                    if c["kind"] == "failure" and c["code"].endswith((".mismatch", ".missing"))
                }
            )
            said = phrase(" It declares the content {source}.", source=source) if kind else ""
            summary = phrase(
                "Content Credentials signed by {who} no longer match the file: the content was "
                "altered after signing ({codes}). This is neither proof of generation nor of "
                "authenticity.{said}",
                who=who,
                codes=", ".join(bad),
                said=said,
            )
        elif prov.finding in (Finding.AI_DECLARED, Finding.CAPTURE_DECLARED):
            tool = declared.claim_generator
            via = phrase(" with {tool}", tool=tool) if tool else ""
            summary = phrase(
                "Content Credentials signed by {who}{via} declare the content {source}{where} "
                "({kind}); {credential}.",
                who=who,
                via=via,
                source=source,
                where=where,
                kind=kind,
                credential=credential,
            )
        else:
            actions = ", ".join(a["action"] for a in prov.active.actions) or phrase("no actions")
            summary = phrase(
                "Content Credentials from {tool}, signed by {who}, record {actions} but declare "
                "neither generation nor capture; {credential}.",
                tool=prov.active.claim_generator or phrase("an unnamed tool"),
                who=who,
                actions=actions,
                credential=credential,
            )
        log_lr = C2PA_LOG_LR.get((prov.finding.value, prov.credential.value), 0.0)
        return self.evidence(
            prov.finding,
            summary,
            log_lr,
            details=_details(prov, [p.name for p in anchor_files(self.settings)]),
            generators=_attribution(prov) if prov.finding is Finding.AI_DECLARED else {},
        )


def manifest_store(path: Path, settings: Settings) -> str | None:
    """The file's C2PA manifest store as c2pa-python's JSON, None if it holds none; raises
    c2pa.C2paError when there is one it cannot read. Remote manifests are never fetched."""
    if not may_hold_manifest(path):
        return None
    context = c2pa.Context.from_dict(c2pa_settings(settings))
    try:
        with c2pa.Reader(str(path), context=context) as reader:
            return reader.json()
    except c2pa.C2paError.ManifestNotFound:
        return None


def embedded_manifest_bytes(path: Path) -> bytes | None:
    """The manifest store as it is embedded (JUMBF, served as application/c2pa) in an ISO BMFF
    file (MP4, MOV): the payload of its top-level C2PA ``uuid`` box; None elsewhere."""
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        offset = 0
        while offset + 8 <= size:
            f.seek(offset)
            header = f.read(16)
            box_size, box_type, start = int.from_bytes(header[:4], "big"), header[4:8], 8
            if box_size == 1:
                box_size, start = int.from_bytes(header[8:16], "big"), 16
            elif box_size == 0:
                box_size = size - offset
            if box_size < start:
                return None
            if box_type == b"uuid":
                f.seek(offset + start)
                body = f.read(min(box_size - start, MAX_MANIFEST_BYTES))
                if body[:16] == C2PA_UUID:
                    return _manifest_payload(body[16:])
            offset += box_size
    return None


def _manifest_payload(body: bytes) -> bytes | None:
    """A C2PA box after its UUID: version and flags (4 bytes), a purpose ending in a zero byte,
    for a "manifest" an 8-byte offset, then the manifest store."""
    end = body.find(b"\0", 4)
    if end < 0 or body[4:end] != b"manifest":
        return None
    return body[end + 1 + 8 :] or None


def may_hold_manifest(path: Path) -> bool:
    """False only when the file certainly holds no C2PA manifest and no remote reference."""
    with open(path, "rb") as f:
        head = f.read(SCAN_BYTES)
        if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"uuid", b"wide"):
            found = _bmff_top_level_manifest(f)
            return True if found is None else found
        if any(m in head for m in MARKERS):
            return True
        size = f.seek(0, 2)
        if size <= SCAN_BYTES:
            return False
        f.seek(max(size - SCAN_BYTES, SCAN_BYTES))
        return any(m in f.read() for m in MARKERS)


def _bmff_top_level_manifest(f) -> bool | None:
    """Walk the top-level boxes: a C2PA uuid box, or XMP naming a remote manifest. ``None``
    when the box structure cannot be walked (the full reader then decides)."""
    size = f.seek(0, 2)
    offset = 0
    while offset + 8 <= size:
        f.seek(offset)
        header = f.read(32)
        box_size, box_type = int.from_bytes(header[:4], "big"), header[4:8]
        if box_size == 1:
            box_size = int.from_bytes(header[8:16], "big")
        elif box_size == 0:
            box_size = size - offset
        if box_size < 8:
            return None
        if box_type == b"moov" and not _nesting_ok(f, offset + 8, offset + box_size, 1):
            return None  # pathological nesting: let the reader judge the file
        if box_type == b"uuid":
            uuid = header[16:32] if int.from_bytes(header[:4], "big") == 1 else header[8:24]
            if uuid == C2PA_UUID:
                return True
            if box_size < SCAN_BYTES:
                f.seek(offset)
                if b"provenance" in f.read(box_size):  # XMP with a remote manifest URL
                    return True
        offset += box_size
    return False if offset == size else None


CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts", b"dinf"}
MAX_NESTING = 12  # real files nest these a handful of levels deep


def _nesting_ok(f, start: int, end: int, depth: int) -> bool:
    if depth > MAX_NESTING:
        return False
    offset = start
    while offset + 8 <= end:
        f.seek(offset)
        header = f.read(8)
        box_size = int.from_bytes(header[:4], "big")
        if box_size < 8:
            return True  # 64-bit or to-the-end sizes do not occur inside moov; stop looking
        if header[4:8] in CONTAINER_BOXES and not _nesting_ok(
            f, offset + 8, min(offset + box_size, end), depth + 1
        ):
            return False
        offset += box_size
    return True


def _signer_words(signer: dict) -> str | Phrase:
    issuer, name = signer.get("issuer"), signer.get("common_name")
    if issuer and name and issuer != name:
        return f"{issuer} ({name})"
    return issuer or name or phrase("an unnamed signer")


def _reason(error: Exception) -> str | Phrase:
    text = str(error)
    if "remote" in text.lower():
        return phrase(
            "the manifest is stored remotely and fetching it is switched off (it would tell "
            "the server which file you are checking)"
        )
    if "prerelease" in text.lower():
        return phrase("it uses a pre-1.0 C2PA format")
    if "algorithm" in text.lower():
        return phrase("it is signed with an unknown algorithm")
    return text.split(":", 1)[-1].strip()[:200] or type(error).__name__


def _details(prov: Provenance, trust_files: list[str]) -> dict:
    signer = prov.active.signer
    trusted_by = [c["explanation"] for c in prov.codes if c["code"] == "signingCredential.trusted"]
    return {
        "manifest_id": prov.active.label,
        "claim_generator": prov.active.claim_generator,
        "signer": {
            "issuer": signer.get("issuer"),
            "common_name": signer.get("common_name"),
            "algorithm": signer.get("alg"),
            "signed_at": signer.get("time"),
            "timestamp": prov.timestamp,
        },
        "credential": prov.credential.value,
        "actions": prov.active.actions,
        "ingredient_chain": [
            {
                "label": m.label,
                "claim_generator": m.claim_generator,
                "digital_source_types": m.source_types,
                "signer": str(_signer_words(m.signer)),
            }
            for m in prov.chain[1:]
        ],
        "soft_bindings": [
            {"manifest": m.label, **binding} for m in prov.chain for binding in m.soft_bindings
        ],
        "validation_codes": prov.codes,
        "trust": {"configured": trust_files, "matched": trusted_by},
    }


def _attribution(prov: Provenance) -> dict[str, float]:
    declared = prov.declared_by or prov.active
    texts = [
        declared.claim_generator,
        *(a["software_agent"] or "" for a in declared.actions),
        declared.signer.get("common_name") or "",
        declared.signer.get("issuer") or "",
    ]
    weight = 0.95 if prov.credential is Credential.TRUSTED else 0.7
    return {g.key: weight for g in find_by_c2pa(" ".join(texts))}
