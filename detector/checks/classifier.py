"""The ``classifier`` check: a learned frame-and-temporal model scores windows of frames spread
over the whole video. Its calibrated probability becomes a likelihood ratio, capped low in
fusion: it is the weakest kind of evidence Verity has, and its card says why."""

import numpy as np

from ..errors import ModelError
from ..frames import FrameSpec
from ..model import (
    DEFAULT_MODEL,
    calibrated,
    default_providers,
    load_model,
    logit,
    window_frames,
    window_input,
)
from ..registry import Check, Media, Needs, register_check
from ..report import Evidence, ModelInfo, Segment

BATCH = 8  # windows per ONNX Runtime call: bounds memory on long videos
MIN_ATTRIBUTION = 0.05  # generator probabilities below this are not reported


@register_check("classifier")
class Classifier(Check):
    def __init__(self, settings):
        super().__init__(settings)
        self.model, self.problem = None, ""
        path = settings.model_path or DEFAULT_MODEL
        try:
            self.model = load_model(path, default_providers(settings.gpu), settings.threads)
        except ModelError as e:
            self.problem = str(e)
            return
        card = self.model.card
        self.needs = Needs(
            frames=FrameSpec(windows=settings.model_windows, length=card.window_length)
        )
        self.model_info = ModelInfo(name=card.name, version=card.version, sha256=card.onnx_sha256)

    def run(self, media: Media) -> Evidence:
        if self.model is None:
            return self._not_run(f"The classifier did not run: {self.problem}")
        windows = [w for w in media.frames.windows if w]
        if not windows:
            return self._not_run("The classifier did not run: no window of frames was decoded.")
        card = self.model.card
        fabricated, generator_logits = [], []
        for start in range(0, len(windows), BATCH):
            batch = np.stack([_input(w, card) for w in windows[start : start + BATCH]])
            logits, generators = self.model(batch)
            fabricated.extend(float(x) for x in logits)
            generator_logits.append(generators)
        scores = [calibrated(value, card) for value in fabricated]
        probability = calibrated(float(np.mean(fabricated)), card)
        prior = card.calibration.train_prior
        log_lr = logit(probability) - logit(prior)
        segments = [
            Segment(start_s=round(w[0].time_s, 3), end_s=round(w[-1].time_s, 3), score=round(s, 4))
            for w, s in zip(windows, scores, strict=True)
        ]
        attribution = _attribution(np.concatenate(generator_logits), card.generators, probability)
        threshold = card.calibration.thresholds.get("0.05")
        flagged = threshold is not None and probability >= threshold
        top = max(attribution, key=attribution.get) if attribution else None
        return self.evidence(
            "generated_look" if flagged else "no_signal",
            f"The classifier ({card.name} {card.version}) scores the video {probability:.0%} "
            f"generated-looking over {len(windows)} windows ({min(scores):.0%} to "
            f"{max(scores):.0%}){f', most like {top}' if top and flagged else ''}. It was "
            "trained on very little footage and is the weakest evidence here (see its card).",
            log_lr,
            segments=segments,
            generators=attribution if flagged else {},
            details={
                "probability": round(probability, 4),
                "windows": len(windows),
                "threshold_at_5pct_fpr": threshold,
                "model": card.name,
                "model_sha256": card.onnx_sha256,
            },
        )

    def _not_run(self, reason: str) -> Evidence:
        return Evidence(
            check=self.name,
            status="not_applicable",
            finding="no_model" if self.model is None else "no_frames",
            summary=reason,
            limitations=[reason],
        )


def _input(window, card) -> np.ndarray:
    # choose the frames first: only those are turned into RGB
    chosen = window_frames(window, card.frames, card.stride)
    return window_input([f.rgb for f in chosen], card)


def _attribution(logits: np.ndarray, names: list[str], probability: float) -> dict[str, float]:
    """The generator head's mean softmax, shared out over the probability of fabrication."""
    if not names:
        return {}
    mean = logits.mean(axis=0)
    shares = np.exp(mean - mean.max())
    shares /= shares.sum()
    return {
        name: round(float(share * probability), 4)
        for name, share in zip(names, shares, strict=True)
        if share * probability >= MIN_ATTRIBUTION
    }
