"""Verity's memory of what it analysed: the ``detector.memory.Memory`` the ``fingerprint`` check
looks videos up in, kept in the job store (SQLite beside it for ``verity check`` and ``verity
scan``, PostgreSQL when the service runs on it; tables from migration 0003).

Every analysis is remembered (``remember``): its content's sha256, verdict and provenance, where
it was seen, and its frame codes. Lookups search the codes with a FAISS binary index (Hamming
distance on 256-bit codes) that each process builds from the ``frame_codes`` rows and brings up
to date before every lookup, reading only the rows added since. Journalists' verdicts
(``mark``) are rows too, found through the content they mark.
"""

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import c2pa
import faiss
import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from detector import fusion
from detector.checks.c2pa import embedded_manifest_bytes, manifest_store
from detector.fingerprint import ALGORITHM, BITS, MATCH_BITS, REGIONS, FrameCode, is_match
from detector.memory import DeskLabel, DeskVerdict, Recalled
from detector.report import Report
from detector.settings import get_settings

from .store import (
    DeskVerdictRow,
    FrameCodeRow,
    KnownMedia,
    ManifestRow,
    Sighting,
    Store,
    now,
)

SOURCES = ("api", "check", "scan", "import")
EXPORT_FORMAT = "verity.hashes.v1"
IDS_PER_QUERY = 900  # SQLite allows 999 parameters a statement in older builds


class CodeIndex:
    """Frame codes by row id, searched within a Hamming radius with FAISS (256-bit codes).

    Up to ``EXACT_UP_TO`` codes the search is exhaustive (exact). Past that, the codes move to
    an inverted-file index (``IndexBinaryIVF``: codes grouped around ``IVF_LISTS`` centroids
    trained on a sample; a lookup reads the ``IVF_PROBES`` nearest groups), which keeps a
    lookup in milliseconds at a million videos at the cost of some codes missed; a match needs
    only two frames of many, and ``benchmarks/fingerprint_index.py`` measures both.
    ``save`` and ``load`` keep it in a file beside the job store, so a process does not
    rebuild it from the rows.
    """

    EXACT_UP_TO = 2_000_000  # about 20,000 videos (around 100 codes each)
    IVF_LISTS = 4096
    IVF_PROBES = 64
    IVF_TRAINING_SAMPLE = 200_000

    def __init__(self) -> None:
        self.index = faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(BITS))
        self.last_id = 0

    @property
    def size(self) -> int:
        return self.index.ntotal

    @property
    def exact(self) -> bool:
        return not isinstance(self.index, faiss.IndexBinaryIVF)

    def add(self, ids: list[int], codes: list[bytes]) -> None:
        if not ids:
            return
        self.index.add_with_ids(_array(codes), np.asarray(ids, dtype=np.int64))
        self.last_id = max(self.last_id, max(ids))
        if self.exact and self.size > self.EXACT_UP_TO:
            self._to_inverted_file()

    def within(self, codes: list[bytes], bits: int) -> Iterator[tuple[int, int, int]]:
        """(query number, row id, distance) for every stored code within ``bits`` of a query."""
        if not codes or self.size == 0:
            return
        lims, distances, ids = self.index.range_search(_array(codes), bits + 1)  # radius: d < r
        for q in range(len(codes)):
            for k in range(lims[q], lims[q + 1]):
                yield q, int(ids[k]), int(distances[k])

    def save(self, path: Path) -> None:
        """Write the index and the last row id it holds to ``path`` (atomically)."""
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        faiss.write_index_binary(self.index, str(partial))
        partial.with_suffix(".last").write_text(str(self.last_id))
        os.replace(partial.with_suffix(".last"), path.with_suffix(".last"))
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path) -> "CodeIndex":
        """The index saved at ``path``, or an empty one if there is none (or it is unreadable)."""
        loaded = cls()
        try:
            last_id = int(path.with_suffix(".last").read_text())
            index = faiss.read_index_binary(str(path))
        except (OSError, ValueError, RuntimeError):
            return loaded
        if isinstance(index, faiss.IndexBinaryIVF):
            index.nprobe = cls.IVF_PROBES
        loaded.index, loaded.last_id = index, last_id
        return loaded

    def _to_inverted_file(self) -> None:
        flat = faiss.downcast_IndexBinary(self.index.index)
        codes = faiss.vector_to_array(flat.xb).reshape(-1, BITS // 8)
        ids = faiss.vector_to_array(self.index.id_map)
        sample = np.random.default_rng(0).permutation(len(codes))[: self.IVF_TRAINING_SAMPLE]
        inverted = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(BITS), BITS, self.IVF_LISTS)
        inverted.train(codes[sample])
        inverted.add_with_ids(codes, ids)
        inverted.nprobe = self.IVF_PROBES
        self.index = inverted


class StoreMemory:
    """``detector.memory.Memory`` over the job store, and the operations that fill it."""

    SAVE_EVERY = 100_000  # codes added since the index file was written

    _of_store: ClassVar[dict[int, "StoreMemory"]] = {}

    def __init__(self, store: Store, index_file: Path | None = None):
        self.store = store
        self.index_file = index_file
        self.codes = CodeIndex.load(index_file) if index_file else CodeIndex()
        if self.codes.size != self._rows_up_to(self.codes.last_id):
            self.codes = CodeIndex()  # the file is of another database, or of an older one
        self.saved = self.codes.size

    @classmethod
    def of(cls, store: Store, index_file: Path | None = None) -> "StoreMemory":
        """The one memory of ``store`` in this process: its index is built once and caught up."""
        if id(store) not in cls._of_store:
            cls._of_store[id(store)] = cls(store, index_file)
        return cls._of_store[id(store)]

    # lookups ------------------------------------------------------------------------------

    def recall(self, codes: list[FrameCode], sha256: str) -> list[Recalled]:
        """Earlier analyses whose frames match ``codes``, most frames matched first."""
        self._catch_up()
        hits = list(self.codes.within([c.code for c in codes], MATCH_BITS))
        if not hits:
            return []
        ids = sorted({row for _, row, _ in hits})
        rows: dict[int, str] = {}
        with self.store.tx() as s:
            for start in range(0, len(ids), IDS_PER_QUERY):
                chunk = ids[start : start + IDS_PER_QUERY]
                found = select(FrameCodeRow.id, FrameCodeRow.sha256).where(
                    FrameCodeRow.id.in_(chunk)
                )
                rows.update(s.execute(found).all())
        matched: dict[str, set[float]] = defaultdict(set)
        closest: dict[str, int] = {}
        for q, row, distance in hits:
            other = rows.get(row)
            if other is None:
                continue
            matched[other].add(codes[q].time_s)
            closest[other] = min(closest.get(other, BITS), distance)
        frames = len({c.time_s for c in codes})
        found = [m for m in matched if is_match(len(matched[m]), frames)]
        found.sort(key=lambda m: (-len(matched[m]), closest[m]))
        return [r for m in found if (r := self._recalled(m, closest[m], len(matched[m]), frames))]

    def matches_of(self, sha256: str) -> list[Recalled]:
        """Every other analysed content matching this one's stored fingerprint."""
        with self.store.tx() as s:
            rows = s.execute(
                select(FrameCodeRow.time_s, FrameCodeRow.region, FrameCodeRow.code).where(
                    FrameCodeRow.sha256 == sha256
                )
            ).all()
        codes = [FrameCode(t, region, code) for t, region, code in rows]
        return [m for m in self.recall(codes, sha256) if m.sha256 != sha256]

    def desk_verdicts(self, sha256: str) -> list[DeskVerdict]:
        """What journalists marked this content, oldest first."""
        with self.store.tx() as s:
            rows = s.scalars(
                select(DeskVerdictRow)
                .where(DeskVerdictRow.sha256 == sha256)
                .order_by(DeskVerdictRow.id)
            ).all()
        return [DeskVerdict(verdict=v.verdict, note=v.note, by=v.by, at=v.at) for v in rows]

    def known(self, sha256: str) -> bool:
        with self.store.tx() as s:
            return s.get(KnownMedia, sha256) is not None

    # what fills it ------------------------------------------------------------------------

    def remember(
        self,
        report: Report,
        source: str,
        name: str,
        link: str | None = None,
        media: Path | None = None,
    ) -> None:
        """Keep an analysis: its content's verdict and own provenance, where it was seen,
        (the first time) its frame codes, and, from the ``media`` file when given, the C2PA
        manifest store it carried."""
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        sha256 = report.media.sha256
        provenance = [
            e.model_dump(
                mode="json",
                include={"check", "finding", "log_lr", "summary", "summary_phrase", "details"},
            )
            for e in fusion.provenance(report.evidence)
        ]
        with self.store.tx() as s:
            known = s.get(KnownMedia, sha256) or _add_content(s, sha256, codes_of(report))
            known.analysed_at = report.analysed_at.replace(tzinfo=None)
            known.verdict = report.verdict.value
            known.likelihood = report.fabrication_likelihood
            known.provenance = json.dumps(provenance, ensure_ascii=False)
            known.link = link or known.link
            s.add(Sighting(sha256=sha256, source=source, name=name))
        if media is not None:
            self.keep_manifest(report, media)

    def keep_manifest(self, report: Report, media: Path) -> None:
        """The manifest store the c2pa check found, for the soft-binding API to hand out."""
        found = next((e for e in report.evidence if e.check == "c2pa"), None)
        manifest_id = found.details.get("manifest_id") if found else None
        if not manifest_id:
            return
        with self.store.tx() as s:
            if s.get(ManifestRow, manifest_id) is not None:
                return
        try:
            store_json = manifest_store(media, get_settings())
            embedded = embedded_manifest_bytes(media)
        except (c2pa.C2paError, OSError):
            return  # read moments ago by the check; gone or changed since: nothing to keep
        if store_json is None:
            return
        with self.store.tx() as s:
            if s.get(ManifestRow, manifest_id) is None:
                s.add(
                    ManifestRow(
                        manifest_id=manifest_id,
                        sha256=report.media.sha256,
                        store_json=store_json,
                        embedded=embedded,
                    )
                )

    def manifest(self, manifest_id: str) -> ManifestRow | None:
        with self.store.tx() as s:
            return s.get(ManifestRow, manifest_id)

    def manifests_of(self, hashes: Iterable[str]) -> dict[str, list[str]]:
        """The manifest ids kept for each content."""
        wanted = set(hashes)
        if not wanted:
            return {}
        with self.store.tx() as s:
            rows = s.execute(
                select(ManifestRow.sha256, ManifestRow.manifest_id).where(
                    ManifestRow.sha256.in_(wanted)
                )
            ).all()
        found: dict[str, list[str]] = defaultdict(list)
        for sha256, manifest_id in rows:
            found[sha256].append(manifest_id)
        return dict(found)

    def mark(self, sha256: str, verdict: DeskLabel, note: str = "", by: str = "") -> DeskVerdict:
        """A journalist's verdict on content Verity has analysed (KeyError if it has not)."""
        if verdict not in ("fabricated", "authentic"):
            raise ValueError(f"a verdict is 'fabricated' or 'authentic', not {verdict!r}")
        with self.store.tx() as s:
            if s.get(KnownMedia, sha256) is None:
                raise KeyError(sha256)
            row = DeskVerdictRow(sha256=sha256, verdict=verdict, note=note, by=by, at=now())
            s.add(row)
        return DeskVerdict(verdict=verdict, note=note, by=by, at=row.at)

    # sharing between desks ------------------------------------------------------------------

    def export(self, marked_only: bool = False, with_names: bool = False) -> Iterator[str]:
        """JSON Lines, one line per content: its fingerprint, Verity's verdict, the provenance
        it carried and the desks' verdicts (``EXPORT_FORMAT``; README "Sharing fingerprints").
        File names stay home unless ``with_names``: a path can say more than a newsroom means."""
        with self.store.tx() as s:
            hashes = s.scalars(select(KnownMedia.sha256).order_by(KnownMedia.first_seen_at)).all()
        for sha256 in hashes:
            with self.store.tx() as s:
                known = s.get(KnownMedia, sha256)
                codes = s.scalars(
                    select(FrameCodeRow)
                    .where(FrameCodeRow.sha256 == sha256)
                    .order_by(FrameCodeRow.id)
                ).all()
                marks = s.scalars(
                    select(DeskVerdictRow).where(DeskVerdictRow.sha256 == sha256)
                ).all()
                names = s.scalars(select(Sighting.name).where(Sighting.sha256 == sha256)).all()
            if marked_only and not marks:
                continue
            line = {
                "format": EXPORT_FORMAT,
                "algorithm": ALGORITHM,
                "sha256": sha256,
                "analysed_at": known.analysed_at.isoformat(),
                "verdict": known.verdict,
                "likelihood": known.likelihood,
                "provenance": json.loads(known.provenance),
                "desk_verdicts": [
                    {"verdict": m.verdict, "note": m.note, "by": m.by, "at": m.at.isoformat()}
                    for m in marks
                ],
                "codes": [FrameCode(c.time_s, c.region, c.code).to_json() for c in codes],
            }
            if with_names:
                line["names"] = list(dict.fromkeys(names))
            yield json.dumps(line, ensure_ascii=False)

    def import_lines(self, lines: Iterable[str], source_name: str) -> int:
        """Content from another desk's export: its fingerprint, verdicts and provenance, under
        ``source_name``; content known here keeps its own record and gains the desk verdicts it
        lacked. Every line is checked before any is taken: ImportRefused names the first bad
        one, and nothing is imported. Returns how many lines were taken."""
        checked = [_import_line(text, n) for n, text in enumerate(lines, 1) if text.strip()]
        for line in checked:
            self._take(line, source_name)
        return len(checked)

    def _take(self, line: dict, source_name: str) -> None:
        sha256 = line["sha256"]
        with self.store.tx() as s:
            if s.get(KnownMedia, sha256) is None:
                known = _add_content(s, sha256, [FrameCode.from_json(c) for c in line["codes"]])
                known.analysed_at = datetime.fromisoformat(line["analysed_at"]).replace(tzinfo=None)
                known.verdict, known.likelihood = line["verdict"], float(line["likelihood"])
                known.provenance = json.dumps(line.get("provenance", []), ensure_ascii=False)
            had = {
                (m.verdict, m.note, m.by, m.at)
                for m in s.scalars(select(DeskVerdictRow).where(DeskVerdictRow.sha256 == sha256))
            }
            for mark in line.get("desk_verdicts", []):
                at = datetime.fromisoformat(mark["at"]).replace(tzinfo=None)
                if (mark["verdict"], mark.get("note", ""), mark.get("by", ""), at) not in had:
                    s.add(
                        DeskVerdictRow(
                            sha256=sha256,
                            verdict=mark["verdict"],
                            note=mark.get("note", ""),
                            by=mark.get("by", ""),
                            at=at,
                        )
                    )
            for name in line.get("names") or [source_name]:
                s.add(Sighting(sha256=sha256, source="import", name=name))

    # ------------------------------------------------------------------------------------------

    def _catch_up(self) -> None:
        """Add the frame codes stored since this process last looked."""
        while True:
            with self.store.tx() as s:
                rows = s.execute(
                    select(FrameCodeRow.id, FrameCodeRow.code)
                    .where(FrameCodeRow.id > self.codes.last_id)
                    .order_by(FrameCodeRow.id)
                    .limit(100_000)
                ).all()
            if not rows:
                break
            self.codes.add([r.id for r in rows], [r.code for r in rows])
        if self.index_file and self.codes.size - self.saved >= self.SAVE_EVERY:
            self.codes.save(self.index_file)
            self.saved = self.codes.size

    def _rows_up_to(self, last_id: int) -> int:
        with self.store.tx() as s:
            return s.scalar(
                select(func.count()).select_from(FrameCodeRow).where(FrameCodeRow.id <= last_id)
            )

    def _recalled(self, sha256: str, distance: int, matched: int, frames: int) -> Recalled | None:
        with self.store.tx() as s:
            known = s.get(KnownMedia, sha256)
            if known is None:
                return None
            names = s.scalars(
                select(Sighting.name).where(Sighting.sha256 == sha256).order_by(Sighting.id)
            ).all()
        return Recalled(
            sha256=sha256,
            analysed_at=known.analysed_at,
            verdict=known.verdict,
            likelihood=known.likelihood,
            names=list(dict.fromkeys(names)),
            link=known.link,
            distance=distance,
            frames_matched=matched,
            frames=frames,
            provenance=json.loads(known.provenance),
            desk_verdicts=self.desk_verdicts(sha256),
        )


class ImportRefused(ValueError):
    """A line of a fingerprint export that cannot be taken, and why."""


def _import_line(text: str, number: int) -> dict:
    """One export line, checked: the same format and algorithm, well-formed codes and verdicts."""
    try:
        line = json.loads(text)
        if line.get("format") != EXPORT_FORMAT:
            raise ImportRefused(f"not a {EXPORT_FORMAT} line")
        if line.get("algorithm") != ALGORITHM:
            raise ImportRefused(
                f"fingerprints of {line.get('algorithm')!r}, this Verity's are {ALGORITHM!r}"
            )
        if not (isinstance(line["sha256"], str) and len(line["sha256"]) == 64):
            raise ImportRefused("sha256 is not 64 hexadecimal digits")
        int(line["sha256"], 16)
        datetime.fromisoformat(line["analysed_at"])
        float(line["likelihood"])
        if not line["codes"] or any(
            len(bytes.fromhex(c["hash"])) != BITS // 8 or c["region"] not in REGIONS
            for c in line["codes"]
        ):
            raise ImportRefused("a code is not 64 hexadecimal digits of a known region")
        for mark in line.get("desk_verdicts", []):
            if mark["verdict"] not in ("fabricated", "authentic"):
                raise ImportRefused(f"desk verdict {mark['verdict']!r}")
            datetime.fromisoformat(mark["at"])
    except ImportRefused as e:
        raise ImportRefused(f"line {number}: {e}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ImportRefused(f"line {number}: malformed ({type(e).__name__}: {e})") from None
    return line


def codes_of(report: Report) -> list[FrameCode]:
    """The fingerprint the ``fingerprint`` check kept in the Report (none if it did not run)."""
    for e in report.evidence:
        if e.check == "fingerprint" and "fingerprint" in e.details:
            return [FrameCode.from_json(c) for c in e.details["fingerprint"]["codes"]]
    return []


def _add_content(s: Session, sha256: str, codes: list[FrameCode]) -> KnownMedia:
    """A new content row and its frame codes; the caller fills in what was found."""
    known = KnownMedia(sha256=sha256, first_seen_at=now())
    s.add(known)
    s.add_all(
        FrameCodeRow(sha256=sha256, time_s=c.time_s, region=c.region, code=c.code) for c in codes
    )
    return known


def _array(codes: Iterable[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(codes), dtype=np.uint8).reshape(-1, BITS // 8)
