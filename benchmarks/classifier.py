"""The classifier's speed: ONNX Runtime against PyTorch eager on the CPU for the shipped model's
network at the same batch (target >= 1.5x), tubes per second, a full ``analyze`` of a 60 s 1080p
clip with the classifier on and off, and the classifier check's own share from the Report's
timings (target: under 2.5 s on 2 cores).

PyTorch runs a network built from the card's configuration; its weights are random, which does
not change how long it takes. Needs the train extra (torch, timm).

Run: .venv/bin/python benchmarks/classifier.py [--batch 8] [--repeat 5]
"""

import argparse
import sys
import time
from dataclasses import replace

import numpy as np
import torch
from clips import clip_1080p

from detector import Settings, analyze
from detector.model import DEFAULT_MODEL, load_model
from service.lifecycle import run
from training.model import NetConfig, VerityNet


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    model = load_model(DEFAULT_MODEL, ("CPUExecutionProvider",), 0)
    card = model.card
    windows = np.random.default_rng(0).standard_normal(
        (args.batch, card.frames, 3, card.height, card.width), dtype=np.float32
    )
    config = NetConfig(card.backbone, card.frames, card.height, card.width)
    net = VerityNet(replace(config, generators=card.generators)).eval()
    tensor = torch.from_numpy(windows)
    model(windows)  # warm up both
    with torch.inference_mode():
        net(tensor)
        eager = best_of(args.repeat, lambda: net(tensor))
    onnx = best_of(args.repeat, lambda: model(windows))

    clip = clip_1080p()
    on = Settings(gpu=False)
    off = on.model_copy(update={"disabled_checks": ["classifier"]})
    analyze(clip, on)  # warm: OCR and the model loaded once per process, as in a worker
    with_classifier = best_of(3, lambda: analyze(clip, on))
    without = best_of(3, lambda: analyze(clip, off))
    check = min(analyze(clip, on).timings_ms["classifier"] for _ in range(3)) / 1000

    shape = f"{card.frames} frames of {card.height}x{card.width}"
    print(f"model {card.name} {card.version}: {shape}, backbone {card.backbone}")
    print(f"batch {args.batch}, PyTorch threads {torch.get_num_threads()}\n")
    print(f"{'runtime':<22} {'s/batch':>8} {'tubes/s':>10}")
    print(f"{'PyTorch eager':<22} {eager:>8.3f} {args.batch / eager:>10.1f}")
    print(f"{'ONNX Runtime (CPU)':<22} {onnx:>8.3f} {args.batch / onnx:>10.1f}")
    print(f"ONNX Runtime / PyTorch throughput: {eager / onnx:.2f}x (target >= 1.5x)\n")
    print(f"{'analyze, 60 s 1080p':<30} {'seconds':>8}")
    print(f"{'every check, classifier on':<30} {with_classifier:>8.2f}")
    print(f"{'classifier off':<30} {without:>8.2f}")
    print(f"{'the classifier adds':<30} {with_classifier - without:>8.2f}")
    print(f"{'the classifier check itself':<30} {check:>8.2f}  (target < 2.5 s)")


if __name__ == "__main__":
    sys.exit(run(main))  # Ctrl-C: 130, SIGTERM: 143, and whatever it started is stopped
