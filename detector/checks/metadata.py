"""Container metadata: encoder and handler tags, camera keys, dates, editing traces, and whether
size, frame rate and duration fit a known generator's output. Weak evidence in both directions:
all of it is easy to strip or forge, and real cameras share sizes with generators."""

from dataclasses import dataclass

from ..fusion import (
    CAMERA_LOG_LR,
    CAPTURE_HINT_LOG_LR,
    COMFYUI_LOG_LR,
    ENCODER_LOG_LR,
    GENERATOR_NAME_LOG_LR,
    PROFILE_LOG_LR,
)
from ..generators import find_by_encoder, find_by_profile, find_by_text
from ..phrase import Phrase, join, phrase
from ..registry import Check, Media, Needs, register_check
from ..report import Evidence

CAMERA_KEYS = {
    "com.apple.quicktime.make": "make",
    "com.apple.quicktime.model": "model",
    "com.android.manufacturer": "make",
    "com.android.model": "model",
    "make": "make",
    "model": "model",
}
CAPTURE_HINT_KEYS = (
    "com.apple.quicktime.software",
    "com.apple.quicktime.location.iso6709",
    "com.android.version",
    "location",
)
EDITORS = (
    "premiere",
    "after effects",
    "final cut",
    "davinci",
    "resolve",
    "capcut",
    "剪映",
    "imovie",
    "handbrake",
    "inshot",
    "clipchamp",
    "kinemaster",
    "vn video editor",
    "lavf",
    "lavc",
)
PLATFORM_HANDLERS = {
    "core media video": phrase("Apple's AVFoundation (an iPhone, a Mac, or an app on them)"),
    "iso media file produced by google": phrase("Google (YouTube or an Android export)"),
    "twitter-vork muxer": phrase("X/Twitter's transcoder"),
    "gopro avc": phrase("a GoPro camera"),
}


@dataclass
class _Hint:
    said: Phrase
    log_lr: float = 0.0


@register_check("metadata")
class MetadataCheck(Check):
    needs = Needs(tags=True)

    def run(self, media: Media) -> Evidence:
        info = media.info
        tags = {k.lower(): v for k, v in info.tags.items() if k.split(":")[-1] != "xmp"}
        hints: list[_Hint] = []
        generators: dict[str, float] = {}

        camera = {
            CAMERA_KEYS[k.split(":")[-1]]: v
            for k, v in tags.items()
            if k.split(":")[-1] in CAMERA_KEYS
        }
        if camera:
            said = " ".join(camera[k] for k in ("make", "model") if k in camera)
            hints.append(_Hint(phrase("camera {camera} recorded", camera=said), CAMERA_LOG_LR))
        capture = [k for k in tags if k.split(":")[-1] in CAPTURE_HINT_KEYS]
        if capture:
            keys = ", ".join(capture)
            hints.append(_Hint(phrase("capture keys {keys}", keys=keys), CAPTURE_HINT_LOG_LR))

        encoders = [v for k, v in tags.items() if k.split(":")[-1] in ("encoder", "software")]
        for encoder in encoders:
            own = find_by_encoder(encoder)
            if own:
                names = ", ".join(g.name for g in own)
                said = phrase(
                    "encoder tag {encoder!r}, written by {names}'s pipeline",
                    encoder=encoder,
                    names=names,
                )
                hints.append(_Hint(said, ENCODER_LOG_LR))
                generators.update({g.key: 0.5 for g in own})
            else:
                editor = next((e for e in EDITORS if e in encoder.lower()), None)
                note = phrase(" (re-encoded: not camera-original)") if editor else ""
                hints.append(
                    _Hint(phrase("encoder tag {encoder!r}{note}", encoder=encoder, note=note))
                )

        handlers = {v for k, v in tags.items() if k.split(":")[-1] == "handler_name"}
        for handler in sorted(handlers):
            origin = next((o for h, o in PLATFORM_HANDLERS.items() if h in handler.lower()), None)
            if origin:
                hints.append(
                    _Hint(
                        phrase(
                            "handler {handler!r}, written by {origin}",
                            handler=handler,
                            origin=origin,
                        )
                    )
                )
        if any("core media" in h.lower() for h in handlers) and not camera:
            hints.append(_Hint(phrase("an Apple writer but no camera make or model")))

        named = {g.key: g for v in tags.values() for g in find_by_text(v)}
        if named:
            names = ", ".join(g.name for g in named.values())
            hints.append(
                _Hint(phrase("metadata text names {names}", names=names), GENERATOR_NAME_LOG_LR)
            )
            generators.update({key: max(generators.get(key, 0), 0.5) for key in named})

        if "comfyui:workflow" in tags:
            models = tags.get("comfyui:models") or phrase("none named")
            hints.append(
                _Hint(
                    phrase("a ComfyUI workflow is embedded (models: {models})", models=models),
                    COMFYUI_LOG_LR,
                )
            )

        created = tags.get("creation_time") or tags.get("com.apple.quicktime.creationdate")
        if created:
            hints.append(_Hint(phrase("created {created}", created=created)))

        profiles = find_by_profile(info.width, info.height, info.fps, info.duration_s)
        if profiles:
            names = ", ".join(g.name for g in profiles)
            fps = f"{info.fps:g}" if info.fps else "?"
            said = phrase(
                "{width}x{height} at {fps} fps for {seconds:g} s fits the output of {names}",
                width=info.width,
                height=info.height,
                fps=fps,
                seconds=info.duration_s,
                names=names,
            )
            hints.append(_Hint(said, PROFILE_LOG_LR))
            for g in profiles:
                generators.setdefault(g.key, round(0.3 / len(profiles), 3))

        log_lr = sum(h.log_lr for h in hints)
        finding = (
            "generator_hints" if log_lr > 0 else "capture_hints" if log_lr < 0 else "no_signal"
        )
        said = (
            join([h.said for h in hints]) if hints else phrase("no tags beyond the stream basics")
        )
        return self.evidence(
            finding,
            phrase(
                "Container metadata (weak evidence, easy to strip or forge): {said}.", said=said
            ),
            log_lr,
            details={
                "hints": [{"said": str(h.said), "log_lr": round(h.log_lr, 3)} for h in hints],
                "tags": {k: v for k, v in info.tags.items() if k.split(":")[-1] != "xmp"},
            },
            generators=generators,
        )
