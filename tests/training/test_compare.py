"""``verity compare-backbones`` on clips the test makes: the three variants train what they
claim to train, every clip is scored out of fold in both views, and a finished fold is not
trained again."""

import pytest

from .conftest import require_torch, toy_manifest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    require_torch()
    import torch

    from training.compare import CompareConfig
    from training.features import TubeSpec
    from training.model import Backbone
    from training.train import MEAN, STD

    folder = tmp_path_factory.mktemp("compare")
    manifest = toy_manifest(folder, 8, seconds=1.0)
    init = folder / "init.pth"  # "pretrained" weights in timm's own layout
    torch.save(Backbone("tf_efficientnet_lite0").net.state_dict(), init)
    spec = TubeSpec(4, 1, 64, 2, 1080, tuple(MEAN), tuple(STD), 2, 1, 1)
    config = CompareConfig(
        [manifest], folder / "run", init, folds=2, epochs=1, crops_per_clip=2, workers=1, spec=spec
    )
    return config


def test_each_variant_trains_what_it_says(setup):
    import torch

    from training.compare import build, cut_crops, fit
    from training.data import read_manifests

    config = setup
    clips = read_manifests(config.manifests)
    train = list(zip(clips, cut_crops(clips, config, print), strict=True))
    for variant in ("frozen", "fine-tuned", "from scratch"):
        net = build(variant, config)
        before = [p.detach().clone() for p in net.backbone.parameters()]
        read_before = net.read.weight.detach().clone()
        fit(net, variant, train, config, seed=0)
        changed = any(
            not torch.equal(a, b) for a, b in zip(before, net.backbone.parameters(), strict=True)
        )
        assert changed == (variant != "frozen"), variant
        assert not torch.equal(read_before, net.read.weight), variant


def test_every_clip_is_scored_out_of_fold_and_folds_resume(setup, monkeypatch):
    import training.compare as compare_module

    config = setup
    result = compare_module.compare(config, log=lambda line: None)
    for variant in compare_module.VARIANTS:
        for view in ("as delivered", "normalised"):
            measured = result["metrics"][f"{variant}, {view}"]
            assert (measured["scored"], measured["ai"], measured["real"]) == (8, 4, 4)
            assert 0.0 <= measured["auc"] <= 1.0
    assert "from scratch, normalised" in (config.out / "comparison.md").read_text()

    def no_training(*args, **kwargs):
        raise AssertionError("a finished fold was trained again")

    monkeypatch.setattr(compare_module, "fit", no_training)
    again = compare_module.compare(config, log=lambda line: None)
    assert again["metrics"] == result["metrics"]


def test_the_comparison_goes_into_the_model_card(setup, tmp_path):
    from detector.model import ModelCard, card_path, write_card
    from training.compare import compare, record

    config = setup
    result = compare(config, log=lambda line: None)
    onnx_path = tmp_path / "model.onnx"
    onnx_path.write_bytes(b"not really a model")
    card = ModelCard(name="m", version="1", onnx_sha256="", frames=4, height=64, width=64,
                     mean=[0.5] * 3, std=[0.25] * 3, generators=["toygen0"])  # fmt: skip
    write_card(card, onnx_path)
    record(onnx_path, result)
    card = ModelCard.model_validate_json(card_path(onnx_path).read_text())
    comparison = card.training["backbone_comparison"]
    assert comparison["shipped"] == "frozen"
    assert set(comparison["fine-tuned, normalised"]) == {
        "auc",
        "ap",
        "tpr_at_0.01_fpr",
        "tpr_at_0.05_fpr",
    }
    assert comparison["from scratch, as delivered"]["auc"] == round(
        result["metrics"]["from scratch, as delivered"]["auc"], 3
    )
