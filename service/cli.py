"""The ``verity`` command. Thin: parses arguments, calls the detector, shows what it returned.

Exit codes (``verity check``): 0 every file analysed; 2 an input was unreadable or unsupported;
1 an internal error. With several files each is analysed and the worst outcome wins
(internal error is worse than a bad input).
"""

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from importlib.metadata import entry_points
from pathlib import Path

from rich.console import Console

import detector
from detector.errors import ConfigError
from detector.probe import file_sha256
from detector.report import VERITY_VERSION, report_schema
from detector.settings import die_with_parent
from detector.synth import make_clip
from detector.thumbnails import thumbnails_of
from detector.trust import TRUST_FOLDER

from .console import print_report
from .html_report import picture_frames, render_html
from .i18n import LANGUAGES, UnknownLanguage, Words, language
from .lifecycle import EXIT_ON, pause_here, run, stop_process
from .progress import ScanProgress
from .scan import ScanError, scan
from .scan.remote import RemoteAnalyser
from .trust_update import OFFICIAL_LISTS, TrustListError, update_trust_lists

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2
# set by ``verity serve`` for its embedded worker: the pid whose death ends the worker
WORKER_PARENT_ENV = "VERITY_WORKER_PARENT"
_SEVERITY = {EXIT_OK: 0, EXIT_BAD_INPUT: 1, EXIT_INTERNAL: 2}


def exit_code_for(error: BaseException) -> int:
    """The one place library errors become exit codes."""
    if isinstance(error, detector.MediaError):
        return EXIT_BAD_INPUT
    return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    pause_here("start")
    try:
        return args.run(args)
    except ConfigError as e:  # settings that cannot work, a job store whose schema is behind
        print(f"verity: {e}", file=sys.stderr)
        return EXIT_INTERNAL
    except UnknownLanguage as e:
        print(f"verity: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="verity",
        description="How likely is it that a video was made by an AI video generator?",
    )
    parser.add_argument("--version", action="version", version=VERITY_VERSION)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="analyse video files and report on each")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    _output_options(check)
    _memory_option(check)
    check.set_defaults(run=_check)

    match = commands.add_parser(
        "match", help="list every analysed or scanned file whose content matches FILE"
    )
    match.add_argument("file", type=Path, metavar="FILE")
    match.add_argument("--json", action="store_true", help="print the matches as JSON")
    match.set_defaults(run=_match)

    mark = commands.add_parser(
        "mark", help="record a journalist's verdict on a file's content: fabricated or authentic"
    )
    mark.add_argument("file", type=Path, metavar="FILE")
    mark.add_argument("verdict", choices=["fabricated", "authentic"])
    mark.add_argument("--note", default="", help="what the verdict rests on")
    mark.add_argument("--by", default=os.environ.get("USER", ""), help="who says so")
    mark.set_defaults(run=_mark)

    demo = commands.add_parser("demo", help="make a small demo clip and analyse it")
    _output_options(demo)
    _memory_option(demo)
    demo.set_defaults(run=_demo)

    schema = commands.add_parser("schema", help="print the JSON schema of the Report")
    schema.set_defaults(run=_schema)

    scan = commands.add_parser("scan", help="analyse every video under some folders")
    scan.add_argument(
        "paths", nargs="+", metavar="PATH", help="a folder, file or s3://bucket/prefix"
    )
    scan.add_argument("--out", type=Path, default=Path("verity-scan"), metavar="DIR")
    scan.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N")
    scan.add_argument("--resume", action="store_true", help="continue the scan in --out")
    scan.add_argument(
        "--via", metavar="URL", help="analyse through a running Verity service and its workers"
    )
    _language_option(scan)
    _memory_option(scan)
    scan.add_argument(
        "--key",
        default=os.environ.get("VERITY_API_KEY", ""),
        help="the service's API key for --via (default: $VERITY_API_KEY)",
    )
    scan.set_defaults(run=_scan)

    hashes = commands.add_parser(
        "hashes", help="share fingerprints, verdicts and notes with other desks (JSON Lines)"
    )
    hash_commands = hashes.add_subparsers(required=True, metavar="ACTION")
    export = hash_commands.add_parser("export", help="write what this Verity remembers")
    export.add_argument("file", type=Path, metavar="FILE", help="a .jsonl file; - for stdout")
    export.add_argument(
        "--marked", action="store_true", help="only content a journalist gave a verdict on"
    )
    export.add_argument(
        "--with-names", action="store_true", help="include the file names and paths seen"
    )
    export.set_defaults(run=_hashes_export)
    take = hash_commands.add_parser("import", help="take in another desk's export")
    take.add_argument("file", type=Path, metavar="FILE")
    take.set_defaults(run=_hashes_import)

    trust = commands.add_parser("trust", help="manage the C2PA trust lists")
    trust_commands = trust.add_subparsers(required=True, metavar="ACTION")
    update = trust_commands.add_parser(
        "update", help="download the official C2PA trust and TSA trust lists (needs a network)"
    )
    update.add_argument(
        "--list",
        dest="urls",
        action="append",
        metavar="URL",
        help="fetch this PEM list instead of the official ones (repeatable)",
    )
    update.set_defaults(run=_trust_update)

    serve = commands.add_parser("serve", help="run the web API (and, embedded, its worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="do not start a worker alongside (the default with VERITY_BROKER_URL set)",
    )
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="run analyses from the service's queue")
    worker.add_argument("--concurrency", type=int, default=1, metavar="N")
    worker.add_argument("--loglevel", default="INFO")
    worker.set_defaults(run=_worker)

    db = commands.add_parser("db", help="the service's job store")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    db_commands.add_parser(
        "upgrade",
        help="bring the database VERITY_DATABASE_URL names to this version's schema "
        "(creating it when new)",
    ).set_defaults(run=_db_upgrade)

    keys = commands.add_parser("keys", help="manage the API keys of the service")
    key_commands = keys.add_subparsers(required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="make a key; prints it as the last line")
    create.add_argument("name")
    create.set_defaults(run=_keys_create)
    key_commands.add_parser("list", help="list the keys").set_defaults(run=_keys_list)
    revoke = key_commands.add_parser("revoke", help="revoke a key by name or id")
    revoke.add_argument("name")
    revoke.set_defaults(run=_keys_revoke)

    for plugin in entry_points(group="verity.commands"):  # verity train, export, eval
        plugin.load()(commands)
    return parser


def _language_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        default=os.environ.get("VERITY_LANG", ""),
        metavar="LANG",
        help=f"the language of reports: {', '.join(LANGUAGES)} (default: $VERITY_LANG, else en)",
    )


def _words(args: argparse.Namespace) -> Words:
    """The reader's language; raises UnknownLanguage (main maps it to EXIT_BAD_INPUT)."""
    return Words(language(args.lang))


def _output_options(parser: argparse.ArgumentParser) -> None:
    _language_option(parser)
    parser.add_argument("--json", action="store_true", help="print each Report as one JSON line")
    parser.add_argument(
        "--html",
        type=Path,
        metavar="PATH",
        help="write a self-contained HTML report (a folder of them for several files)",
    )
    parser.add_argument(
        "--disable", action="append", default=[], metavar="CHECK", help="switch a check off"
    )


def _memory_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-memory",
        dest="memory",
        action="store_false",
        help="neither look the files up among earlier analyses nor remember them",
    )


def _memory():
    """The memory of earlier analyses in the job store (created in the data folder if new)."""
    from .memory import StoreMemory
    from .settings import get_service_settings

    return StoreMemory(_store(), get_service_settings().fingerprint_index)


def _check(args: argparse.Namespace) -> int:
    args.words = _words(args)
    settings = detector.get_settings()
    if args.disable:
        unknown = set(args.disable) - set(detector.registry.check_names())
        if unknown:
            print(f"verity: unknown check(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return EXIT_BAD_INPUT
        settings = settings.model_copy(update={"disabled_checks": args.disable})
    out = Console(soft_wrap=not sys.stdout.isatty(), highlight=False)
    err = Console(stderr=True)
    memory = _memory() if args.memory else None
    worst = EXIT_OK
    for path in args.files:
        code = _check_one(path, settings, args, out, err, memory)
        worst = max(worst, code, key=_SEVERITY.__getitem__)
    return worst


def _check_one(path: Path, settings, args, out: Console, err: Console, memory) -> int:
    try:
        with err.status(f"analysing {path.name}…") if err.is_terminal else nullcontext():
            report, stills = detector.analyze_keeping_stills(path, settings, memory=memory)
    except detector.VerityError as e:
        print(f"verity: {path}: {e}", file=sys.stderr)
        return exit_code_for(e)
    except Exception as e:  # a bug: say so in one line, keep going with the other files
        print(f"verity: {path}: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_INTERNAL
    if args.json:
        print(report.model_dump_json())
    else:
        print_report(report, out, str(path), args.words)
    if args.html:
        target = args.html
        if len(args.files) > 1:
            target.mkdir(parents=True, exist_ok=True)
            target = target / f"{path.stem}-{report.media.sha256[:8]}.html"
        pictures = thumbnails_of(picture_frames(stills))
        target.write_text(render_html(report, pictures, args.words), encoding="utf-8")
        if not args.json:
            out.print(f"HTML report: {target}", style="dim")
    if memory is not None:
        link = str(args.html.resolve()) if args.html and len(args.files) == 1 else None
        memory.remember(report, "check", str(path.resolve()), link, media=path)
    return EXIT_OK


def _hashes_export(args: argparse.Namespace) -> int:
    lines = _memory().export(args.marked, args.with_names)
    if str(args.file) == "-":
        count = sum(print(line) is None for line in lines)
    else:
        partial = args.file.with_name(f".{args.file.name}.partial")
        try:
            with partial.open("w", encoding="utf-8") as out:
                count = sum(out.write(line + "\n") > 0 for line in lines)
            partial.replace(args.file)
        finally:
            partial.unlink(missing_ok=True)  # a stopped export leaves no half file behind
    print(f"exported {count} fingerprinted items", file=sys.stderr)
    return EXIT_OK


def _hashes_import(args: argparse.Namespace) -> int:
    from .memory import ImportRefused

    try:
        with args.file.open(encoding="utf-8") as lines:
            count = _memory().import_lines(lines, f"import:{args.file.name}")
    except OSError as e:
        print(f"verity: {args.file}: {e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ImportRefused, UnicodeDecodeError) as e:
        print(f"verity: {args.file}: {e}; nothing was imported", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"imported {count} fingerprinted items from {args.file}")
    return EXIT_OK


def _match(args: argparse.Namespace) -> int:
    """FILE analysed against the memory (the same frames as ``check``, so the same
    fingerprint); every match the fingerprint check finds."""
    memory = _memory()
    try:
        report = detector.analyze(args.file, memory=memory)
    except detector.VerityError as e:
        print(f"verity: {args.file}: {e}", file=sys.stderr)
        return exit_code_for(e)
    found = next((e for e in report.evidence if e.check == "fingerprint"), None)
    if found is None:
        print(
            "verity: the fingerprint check is switched off (VERITY_DISABLED_CHECKS)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    matches = found.details.get("matches", [])
    if args.json:
        print(json.dumps({"sha256": report.media.sha256, "matches": matches}, ensure_ascii=False))
        return EXIT_OK
    if not matches:
        print(f"{args.file}: {found.summary}")
    for m in matches:
        names = ", ".join(m["names"]) or m["sha256"]
        print(
            f"{names}  sha256 {m['sha256'][:12]}  {m['frames_matched']}/{m['frames']} frames "
            f"within {m['distance']} bits  {m['verdict']}  analysed {m['analysed_at']}"
        )
    return EXIT_OK


def _mark(args: argparse.Namespace) -> int:
    """A journalist's verdict on FILE's content; FILE is analysed first if it never was."""
    memory = _memory()
    try:
        sha256 = file_sha256(args.file)
    except OSError as e:
        print(f"verity: {args.file}: {e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not memory.known(sha256):
        try:
            report = detector.analyze(args.file, memory=memory)
        except detector.VerityError as e:
            print(f"verity: {args.file}: {e}", file=sys.stderr)
            return exit_code_for(e)
        memory.remember(report, "check", str(args.file.resolve()), media=args.file)
    memory.mark(sha256, args.verdict, args.note, args.by)
    print(f"{args.file}: marked {args.verdict} (sha256 {sha256[:12]})")
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    folder = detector.get_settings().data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / "demo.mp4"
    if not clip.exists():
        # A phone-style clip: the metadata check has camera keys to talk about.
        make_clip(
            clip,
            seconds=6,
            fps=30,
            size=(640, 360),
            gop=30,
            metadata={
                "com.apple.quicktime.make": "Apple",
                "com.apple.quicktime.model": "iPhone 15",
                "creation_time": "2026-11-01T09:30:00Z",
            },
        )
    args.files = [clip]
    return _check(args)


def _scan(args: argparse.Namespace) -> int:
    from .settings import get_service_settings

    if args.workers < 1:
        print("verity: --workers must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    words = _words(args)
    err = Console(stderr=True)
    with ScanProgress(err) as progress:
        try:
            counts = scan(
                args.paths,
                args.out,
                args.workers,
                args.resume,
                detector.get_settings(),
                progress.update,
                via=RemoteAnalyser(args.via, args.key) if args.via is not None else None,
                s3_endpoint_url=get_service_settings().s3_endpoint_url,
                words=words,
                memory=_memory() if args.memory else None,
            )
        except ScanError as e:
            print(f"verity: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"scan finished: {summary}; see {args.out / 'index.html'}")
    return EXIT_OK


def _trust_update(args: argparse.Namespace) -> int:
    folder = detector.get_settings().data_dir / TRUST_FOLDER
    try:
        written = update_trust_lists(folder, args.urls or OFFICIAL_LISTS)
    except TrustListError as e:
        print(f"verity: trust update failed, nothing changed: {e}", file=sys.stderr)
        return EXIT_INTERNAL
    for path, count in written:
        print(f"{path}: {count} certificates")
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .api import create_app
    from .settings import get_service_settings

    settings = get_service_settings()
    app = create_app(settings)  # checks (embedded: upgrades) the job store before any worker
    worker = None
    if settings.embedded and not args.no_worker:
        # No broker server: this process's own worker consumes the queue kept in data_dir. It
        # ends with this process, even one killed without warning (WORKER_PARENT_ENV).
        worker = subprocess.Popen(
            [sys.executable, "-m", "service", "worker"],
            env={**os.environ, WORKER_PARENT_ENV: str(os.getpid())},
        )
    try:
        pause_here("pool")
        uvicorn.run(app, host=args.host, port=args.port)  # re-raises the signal that ended it
    finally:
        if worker is not None:
            stop_process(worker, settings.worker_stop_grace_s)
    return EXIT_OK


def _worker(args: argparse.Namespace) -> int:
    from .schema import prepare
    from .settings import get_service_settings
    from .tasks import run_worker

    if os.environ.get(WORKER_PARENT_ENV):
        die_with_parent(expected_parent=int(os.environ[WORKER_PARENT_ENV]))
    settings = get_service_settings()
    prepare(settings)
    stopped_by = run_worker(settings, args.concurrency, args.loglevel)
    return EXIT_ON.get(stopped_by, EXIT_OK)


def _db_upgrade(args: argparse.Namespace) -> int:
    from .schema import upgrade
    from .settings import get_service_settings

    settings = get_service_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    before, after = upgrade(settings.db_url)
    if before == after:
        print(f"the job store is at schema revision {after}, nothing to do")
    else:
        print(f"the job store went from schema revision {before or '(none)'} to {after}")
    return EXIT_OK


def _keys_create(args: argparse.Namespace) -> int:
    from .keys import create_key
    from .store import KeyNameTaken

    try:
        key, secret = create_key(_store(), args.name)
    except KeyNameTaken:
        print(f"verity: a key named {args.name!r} exists already", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"created {key.id} ({key.name}); the key is shown once, keep it safe:")
    print(secret)
    return EXIT_OK


def _keys_list(args: argparse.Namespace) -> int:
    for key in _store().api_keys():
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        print(f"{key.id}\t{key.name}\tcreated {key.created_at:%Y-%m-%d}\t{state}")
    return EXIT_OK


def _keys_revoke(args: argparse.Namespace) -> int:
    if not _store().revoke_key(args.name):
        print(f"verity: no active key named {args.name!r}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"revoked {args.name}")
    return EXIT_OK


def _store():
    from .schema import prepare
    from .settings import get_service_settings
    from .store import Store

    settings = get_service_settings()
    prepare(settings)
    return Store(settings.db_url)


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(report_schema(), indent=2, ensure_ascii=False))
    return EXIT_OK


if __name__ == "__main__":  # prefer ``python -m service``: it catches signals before these imports
    sys.exit(run(main))
