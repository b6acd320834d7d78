from detector import analyze


def _evidence(report):
    return next(e for e in report.evidence if e.check == "metadata")


def test_phone_tags_are_weak_evidence_against_fabrication(clip):
    path = clip(
        "phone.mov",
        metadata={
            "com.apple.quicktime.make": "Apple",
            "com.apple.quicktime.model": "iPhone 15 Pro",
            "com.apple.quicktime.software": "18.1",
        },
    )
    e = _evidence(analyze(path))
    assert e.finding == "capture_hints"
    assert -1 < e.log_lr < 0
    assert "Apple iPhone 15 Pro" in e.summary


def test_android_tags_are_read(clip):
    path = clip(
        "android.mp4",
        metadata={"com.android.manufacturer": "Google", "com.android.model": "Pixel 8"},
    )
    assert "Google Pixel 8" in _evidence(analyze(path)).summary


# FFmpeg's muxer writes its own "encoder" tag, so these tests set the equivalent "software" key.
def test_generator_encoder_tag_points_to_its_generator(clip):
    e = _evidence(analyze(clip("k.mp4", metadata={"software": "Lavc60.31.102 h264_slapi"})))
    assert e.finding == "generator_hints"
    assert "kling" in e.generators
    assert 0 < e.log_lr < 1


def test_output_profile_match_is_a_weak_hint(clip):
    # CogVideoX-2b writes 720x480 at 8 fps for about 6 s
    e = _evidence(analyze(clip("cog.mp4", size=(720, 480), fps=8, seconds=6.1)))
    assert "cogvideox" in e.generators
    assert "fits the output of CogVideoX" in e.summary


def test_editing_software_is_reported_without_weight(clip):
    e = _evidence(analyze(clip("edit.mp4", metadata={"software": "HandBrake 1.8.1 2024062200"})))
    assert "HandBrake" in e.summary and "re-encoded" in e.summary
    assert e.log_lr == 0


def test_summary_quotes_hostile_tags_verbatim_for_escaping_downstream(clip):
    e = _evidence(analyze(clip("x.mp4", metadata={"software": "<script>alert(1)</script>"})))
    assert "<script>alert(1)</script>" in e.summary
