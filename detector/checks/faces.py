"""The ``faces`` check: the faces a video shows, judged for manipulation (swapped, re-dubbed,
animated). In each window the classifier decodes, faces are found (detector/faces.py), followed
through the window's frames and cut out aligned; the faces model, which has the classifier's
contract (detector/model.py, card ``crop: face``), scores each face tube. The video's score is
the mean logit over every face tube; its likelihood ratio is capped by what the model earned in
cross-validation over manipulation methods it never saw (its card), as for the classifier. A
video without a face costs one detection per window."""

from dataclasses import asdict

import numpy as np

from ..errors import ModelError
from ..faces import MIN_FACE, FaceDetector, face_tubes
from ..frames import FrameSpec
from ..lipsync import loudness_steps, mouth_motion, sync
from ..model import (
    MODELS_FOLDER,
    calibrated,
    default_providers,
    load_model,
    normalise,
    window_frames,
)
from ..phrase import phrase
from ..registry import Check, Media, Needs, register_check
from ..report import Evidence, Segment

DEFAULT_FACE_MODEL = MODELS_FOLDER / "verity-faces.onnx"


@register_check("faces")
class Faces(Check):
    def __init__(self, settings):
        super().__init__(settings)
        self.model, self.detector, self.problem = None, None, ""
        try:
            self.model = load_model(
                settings.face_model_path or DEFAULT_FACE_MODEL,
                default_providers(settings.gpu),
                settings.threads,
            )
            if self.model.card.crop != "face":
                raise ModelError(f"{self.model.card.name} is not a faces model (its crop is grid)")
            self.detector = FaceDetector(threads=settings.threads)
        except ModelError as e:
            self.model, self.problem = None, str(e)
            return
        card = self.model.card
        self.needs = Needs(
            frames=FrameSpec(windows=settings.model_windows, length=card.window_length)
        )

    def run(self, media: Media) -> Evidence:
        if self.model is None:
            return self.not_run(
                "no_model", phrase("The face check did not run: {problem}", problem=self.problem)
            )
        card = self.model.card
        windows = [w for w in media.frames.windows if w]
        judged = []  # (window, tube, logit)
        mouths = []  # (window, the largest face's mouth motion) per window with a face
        for window in windows:
            taken = [f.rgb for f in window_frames(window, card.frames, card.stride)]
            # one look at the window's middle frame first: a window without a face costs no more
            middle = len(taken) // 2
            seen = self.detector(taken[middle])
            if not any(face.size >= MIN_FACE for face in seen):
                continue
            found = [seen if i == middle else self.detector(rgb) for i, rgb in enumerate(taken)]
            tubes = face_tubes(taken, found, card.height, card.crops)
            for tube in tubes:
                (logit,), _ = self.model(normalise(tube.pixels[None], card.mean, card.std))
                judged.append((window, tube, float(logit)))
            if tubes and media.info.has_audio:
                mouths.append((window, _mouth(window, tubes[0].faces, card.stride)))
        if not judged:
            return self.evidence(
                "no_face",
                phrase(
                    "No face large enough to judge ({pixels} pixels or more) was found in the "
                    "{windows} stretches of the video the checks look at.",
                    pixels=MIN_FACE,
                    windows=len(windows),
                ),
                details={"faces": 0, "windows": len(windows), "model": card.name},
            )
        mean_logit = float(np.mean([logit for _, _, logit in judged]))
        probability = calibrated(mean_logit, card)
        log_lr = card.calibration.log_lr(mean_logit)
        threshold = card.calibration.thresholds.get("0.05")
        flagged = threshold is not None and probability >= threshold
        regions = [
            {
                "start_s": round(window[0].time_s, 3),
                "end_s": round(window[-1].time_s, 3),
                "box": tube.box,
                "score": round(calibrated(logit, card), 4),
            }
            for window, tube, logit in judged
        ]
        segments = [
            Segment(start_s=r["start_s"], end_s=r["end_s"], score=r["score"]) for r in regions
        ]
        lip_sync = _lip_sync(mouths, media)
        return self.evidence(
            "face_manipulated" if flagged else "face_consistent",
            phrase(
                "The face model ({model}) judged {faces} faces in {windows} stretches of the "
                "video: {look}. {weight}{sync}",
                model=f"{card.name} {card.version}",
                faces=len(judged),
                windows=len({id(w) for w, _, _ in judged}),
                look=phrase("the faces look manipulated")
                if flagged
                else phrase("the faces look like filmed faces"),
                weight=_weight(log_lr, card.calibration.max_log_lr or 0.0),
                sync=_sync_sentence(lip_sync),
            ),
            log_lr,
            segments=segments,
            details={
                "probability": round(probability, 4),
                "faces": len(judged),
                "threshold_at_5pct_fpr": threshold,
                "model": card.name,
                "model_sha256": card.onnx_sha256,
                "regions": regions,  # every face judged: where, when and its score
                "lip_sync": lip_sync,
            },
        )


def _mouth(window, faces, stride: int):
    """The mouth motion of the window's largest face over all its consecutive frames (the face
    as found in the nearest judged frame)."""
    every = [faces[min(i // stride, len(faces) - 1)] for i in range(len(window))]
    return mouth_motion([f.rgb for f in window], every)


def _lip_sync(mouths: list, media: Media) -> dict | None:
    """The audio-visual offset and its confidence (detector/lipsync.py), a measurement that
    weighs nothing; None without sound, or without a face to measure."""
    if not mouths:
        return None
    fps = media.info.fps or 25.0
    around = [(window[0].time_s, len(motion)) for window, motion in mouths]
    sounds = loudness_steps(media.path, around, fps)
    pairs = [(m, s) for (_, m), s in zip(mouths, sounds, strict=True) if s is not None]
    found = sync(pairs, fps)
    return None if found is None else asdict(found)


def _weight(log_lr: float, cap: float):
    """What the score counts for: nothing when the model earned no weight (its card's cap)."""
    if cap <= 0:
        return phrase(
            "On manipulation methods it never saw it earned no weight (see its card), so this "
            "counts for nothing."
        )
    return phrase(
        "As evidence its score weighs {ratio:.1f}:1 {direction}; the most it may count for is "
        "{cap:.1f}:1, what it earned on manipulation methods it never saw (see its card).",
        ratio=float(np.exp(abs(log_lr))),
        direction=phrase("towards fabrication") if log_lr >= 0 else phrase("against fabrication"),
        cap=float(np.exp(cap)),
    )


def _sync_sentence(measured: dict | None):
    if measured is None:
        return ""
    return phrase(
        " Mouth and sound agree best with the sound {offset:+.2f} s from the picture (confidence "
        "{confidence:.2f}): a measurement, not counted as evidence.",
        offset=measured["offset_s"],
        confidence=measured["confidence"],
    )
