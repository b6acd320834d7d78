"""The network: a timm frame backbone, and a small transformer over the frame embeddings and
their differences from frame to frame, since what gives generated video away is temporal too
(details that change between frames, objects that come and go, style that drifts). Two heads:
the fabricated logit and the generator logits. Input [N, T, 3, H, W], as in the model card."""

from dataclasses import asdict, dataclass, field
from pathlib import Path

import timm
import torch
from torch import nn


@dataclass
class NetConfig:
    """Everything that fixes the network's shape; saved with every checkpoint."""

    backbone: str = "mobilenetv3_small_050"
    frames: int = 8
    height: int = 128
    width: int = 128
    dim: int = 128
    heads: int = 4
    layers: int = 2
    generators: list[str] = field(default_factory=list)


class VerityNet(nn.Module):
    def __init__(self, config: NetConfig):
        super().__init__()
        self.config = config
        # No download: weights are random, or loaded from a local file (load_init).
        self.backbone = timm.create_model(config.backbone, pretrained=False, num_classes=0)
        with torch.no_grad():  # what the backbone puts out, head included
            features = self.backbone(torch.zeros(1, 3, config.height, config.width)).shape[-1]
        self.project = nn.Linear(2 * features, config.dim)
        self.position = nn.Parameter(torch.zeros(1, config.frames, config.dim))
        layer = nn.TransformerEncoderLayer(
            config.dim, config.heads, 2 * config.dim, dropout=0.1, batch_first=True
        )
        self.temporal = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.fabricated = nn.Linear(config.dim, 1)
        self.generator = nn.Linear(config.dim, max(len(config.generators), 1))

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, t = frames.shape[:2]
        embedded = self.backbone(frames.flatten(0, 1)).view(n, t, -1)
        previous = torch.cat([embedded[:, :1], embedded[:, :-1]], dim=1)
        x = self.project(torch.cat([embedded, embedded - previous], dim=-1)) + self.position
        x = self.temporal(x).mean(dim=1)
        return self.fabricated(x).squeeze(-1), self.generator(x)


def load_init(net: VerityNet, path: Path) -> None:
    """Pretrained backbone weights from a local file (a timm state dict); nothing is fetched."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    missing, _ = net.backbone.load_state_dict(state, strict=False)
    if len(missing) > len(state):
        raise ValueError(f"{path} does not fit the backbone {net.config.backbone}")


def save_checkpoint(net: VerityNet, path: Path, extra: dict) -> None:
    """Weights with the config that built them (a checkpoint describes itself)."""
    torch.save({"config": asdict(net.config), "state": net.state_dict(), **extra}, path)


def load_checkpoint(path: Path) -> tuple[VerityNet, dict]:
    saved = torch.load(path, map_location="cpu", weights_only=False)
    net = VerityNet(NetConfig(**saved["config"]))
    net.load_state_dict(saved["state"])
    net.eval()
    return net, saved
