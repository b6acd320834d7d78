"""Read a C2PA manifest store (c2pa-python's JSON) into what a journalist needs to know.

c2pa's own ``validation_state`` (Trusted / Valid / Invalid) lumps a tampered file together with
a genuine one whose certificate has since expired. Here the validation codes are sorted instead:
what the content declares (generated, captured, neither), whether it still matches its manifest,
and the credential that signed it, reported beside the finding rather than instead of it.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# IPTC digital source types that mean a generative model made or composed the content.
AI_SOURCE_TYPES = {
    "trainedAlgorithmicMedia",
    "compositeWithTrainedAlgorithmicMedia",
    "algorithmicMedia",
    "compositeSynthetic",
}
CAPTURE_SOURCE_TYPES = {"digitalCapture", "computationalCapture"}


class Finding(StrEnum):
    ABSENT = "absent"
    UNREADABLE = "unreadable"
    TAMPERED = "tampered"
    AI_DECLARED = "ai_declared"
    CAPTURE_DECLARED = "capture_declared"
    NO_DECLARATION = "no_declaration"


class Credential(StrEnum):
    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"
    EXPIRED = "expired"
    REVOKED = "revoked"
    INVALID = "invalid"


@dataclass
class ManifestSummary:
    label: str
    claim_generator: str
    source_types: list[str]
    actions: list[dict[str, Any]]
    signer: dict[str, Any]
    # c2pa.soft-binding assertions: a watermark or fingerprint through which a repository can
    # give this manifest back to a copy that lost it (the algorithm, and how many values)
    soft_bindings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Provenance:
    finding: Finding
    credential: Credential
    timestamp: str  # "trusted", "untrusted" or "none"
    active: ManifestSummary
    chain: list[ManifestSummary] = field(default_factory=list)  # active first, then ingredients
    codes: list[dict[str, str]] = field(default_factory=list)
    declared_by: ManifestSummary | None = None

    @property
    def ai_types(self) -> list[str]:
        return [t for m in self.chain for t in m.source_types if t in AI_SOURCE_TYPES]


def is_tampering(code: str) -> bool:
    """Codes that say the content or claim no longer matches what was signed."""
    if code == "timeStamp.mismatch":  # a bad timestamp is a credential problem, not the content
        return False
    return code.endswith(".mismatch") or code == "ingredient.manifest.missing"


def read_store(store: dict[str, Any]) -> Provenance:
    """Sort a manifest store's validation results into a finding and a credential status."""
    manifests = store.get("manifests", {})
    active = manifests[store["active_manifest"]]
    chain = _chain(active, manifests)
    results = store.get("validation_results", {})
    active_codes = _codes(results.get("activeManifest"))
    deltas = [_codes(d.get("validationDeltas")) for d in results.get("ingredientDeltas", [])]
    failures = [
        c["code"] for group in (active_codes, *deltas) for c in group if c["kind"] == "failure"
    ]
    if not results:  # older stores report a flat list of failures
        active_codes = [dict(c, kind="failure") for c in store.get("validation_status", [])]
        failures = [c["code"] for c in active_codes]

    declared_ai = next((m for m in chain if set(m.source_types) & AI_SOURCE_TYPES), None)
    declared_capture = next((m for m in chain if set(m.source_types) & CAPTURE_SOURCE_TYPES), None)
    if any(is_tampering(c) for c in failures):
        finding, declared_by = Finding.TAMPERED, declared_ai or declared_capture
    elif declared_ai:
        finding, declared_by = Finding.AI_DECLARED, declared_ai
    elif declared_capture:
        finding, declared_by = Finding.CAPTURE_DECLARED, declared_capture
    else:
        finding, declared_by = Finding.NO_DECLARATION, None
    all_codes = {c["code"] for c in active_codes}
    return Provenance(
        finding=finding,
        credential=_credential(all_codes, failures),
        timestamp=_timestamp(all_codes),
        active=chain[0],
        chain=chain,
        codes=active_codes,
        declared_by=declared_by,
    )


def _credential(codes: set[str], failures: list[str]) -> Credential:
    if "signingCredential.revoked" in codes:
        return Credential.REVOKED
    if {"signingCredential.invalid", "algorithm.unsupported"} & codes:
        return Credential.INVALID
    if "signingCredential.expired" in failures:
        return Credential.EXPIRED
    if "signingCredential.untrusted" in failures:
        return Credential.UNTRUSTED
    if any(not is_tampering(c) for c in failures):
        return Credential.INVALID  # another failure (an identity assertion, say) spoils it
    return Credential.TRUSTED


def _timestamp(codes: set[str]) -> str:
    if "timeStamp.trusted" in codes:
        return "trusted"
    if codes & {"timeStamp.validated", "timeStamp.untrusted"}:
        return "untrusted"
    return "none"


def _codes(group: dict[str, Any] | None) -> list[dict[str, str]]:
    out = []
    for kind in ("failure", "informational", "success"):
        for entry in (group or {}).get(kind, []):
            out.append(
                {
                    "kind": kind,
                    "code": entry.get("code", ""),
                    "explanation": entry.get("explanation", ""),
                }
            )
    return out


def _chain(active: dict[str, Any], manifests: dict[str, Any]) -> list[ManifestSummary]:
    """The active manifest, then every ingredient manifest reachable from it (an edited file
    keeps its generated parent)."""
    seen: set[str] = set()
    order: list[ManifestSummary] = []
    todo = [active]
    while todo:
        manifest = todo.pop(0)
        label = manifest.get("label", "")
        if label in seen:
            continue
        seen.add(label)
        order.append(_summary(manifest))
        for ingredient in manifest.get("ingredients", []):
            child = manifests.get(ingredient.get("active_manifest") or "")
            if child is not None:
                todo.append(child)
    return order


def _summary(manifest: dict[str, Any]) -> ManifestSummary:
    actions, soft_bindings = [], []
    for assertion in manifest.get("assertions", []):
        if assertion.get("label", "").startswith("c2pa.soft-binding"):
            data = assertion.get("data", {})
            blocks = data.get("blocks", [])
            soft_bindings.append(
                {
                    "alg": str(data.get("alg", "")),
                    "values": len(blocks) if isinstance(blocks, list) else 0,
                }
            )
        if assertion.get("label", "").startswith("c2pa.actions"):
            for action in assertion.get("data", {}).get("actions", []):
                agent = action.get("softwareAgent")
                actions.append(
                    {
                        "action": action.get("action", ""),
                        "digital_source_type": _short(action.get("digitalSourceType", "")),
                        "software_agent": agent.get("name", "")
                        if isinstance(agent, dict)
                        else agent,
                    }
                )
    return ManifestSummary(
        label=manifest.get("label", ""),
        claim_generator=_claim_generator(manifest),
        source_types=[a["digital_source_type"] for a in actions if a["digital_source_type"]],
        actions=actions,
        signer=manifest.get("signature_info", {}),
        soft_bindings=soft_bindings,
    )


def _claim_generator(manifest: dict[str, Any]) -> str:
    info = manifest.get("claim_generator_info") or []
    if info and isinstance(info[0], dict) and info[0].get("name"):
        version = info[0].get("version")
        return f"{info[0]['name']} {version}" if version else info[0]["name"]
    return manifest.get("claim_generator", "") or ""


def _short(source_type: str) -> str:
    return source_type.removeprefix(IPTC).rstrip("/").rsplit("/", 1)[-1] if source_type else ""
