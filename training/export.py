"""ONNX export: dynamic N, checked with onnx.checker, compared with PyTorch on the same input
(the largest absolute difference of any logit must stay below PARITY_TOLERANCE). The model card
beside it is written by ``detector.model.write_card``."""

from pathlib import Path

import numpy as np
import onnx
import torch

from detector.model import FABRICATED, GENERATORS, INPUT

from .model import VerityNet

PARITY_TOLERANCE = 1e-4
OPSET = 18
MAX_WINDOWS = 4096  # the largest batch the exported graph accepts


def export_onnx(net: VerityNet, path: Path) -> None:
    config = net.config
    example = torch.randn(2, config.frames, 3, config.height, config.width)
    net.eval()
    torch.onnx.export(
        net,
        (example,),
        str(path),
        input_names=[INPUT],
        output_names=[FABRICATED, GENERATORS],
        dynamic_shapes={"frames": {0: torch.export.Dim("N", min=1, max=MAX_WINDOWS)}},
        opset_version=OPSET,
        dynamo=True,
        external_data=False,  # one file, so that its sha256 in the card covers the weights
        verbose=False,
    )
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)


def export_backbone(net: VerityNet, path: Path) -> None:
    """The backbone alone, images [B, 3, H, W] -> features [B, F]: what features.py runs."""
    config = net.config
    example = torch.randn(2, 3, config.height, config.width)
    net.eval()
    torch.onnx.export(
        net.backbone,
        (example,),
        str(path),
        input_names=["images"],
        output_names=["features"],
        dynamic_shapes={"images": {0: torch.export.Dim("B", min=1, max=MAX_WINDOWS)}},
        opset_version=OPSET,
        dynamo=True,
        external_data=False,
        verbose=False,
    )


def parity(net: VerityNet, path: Path, windows: int = 3, seed: int = 0) -> float:
    """The largest absolute difference between PyTorch's and ONNX Runtime's logits."""
    import onnxruntime as ort

    config = net.config
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(windows, config.frames, 3, config.height, config.width, generator=generator)
    with torch.no_grad():
        fabricated, generators = net.eval()(x)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_fabricated, onnx_generators = session.run([FABRICATED, GENERATORS], {INPUT: x.numpy()})
    return float(
        max(
            np.abs(onnx_fabricated - fabricated.numpy()).max(),
            np.abs(onnx_generators - generators.numpy()).max(),
        )
    )
