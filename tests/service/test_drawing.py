"""The timeline and the outlines the report pages draw: per-window scores on a time axis with
the 5 %-false-alarm line, the windows above it linked to their key frames, and where the model
looked drawn over the key frames, switchable without script."""

import itertools

import pytest

from detector import analyze
from detector.report import Evidence, Segment
from detector.thumbnails import key_frame_thumbnails
from service.drawing import histogram, outlines, timeline
from service.html_report import render_html

THRESHOLD = 0.6


@pytest.fixture
def scored(clip):
    """A 320x240 clip's real Report, its classifier evidence replaced by a known one: four
    windows, two of them above the threshold, each with the crop it scored highest."""
    path = clip("a.mp4", seconds=4, fps=10, size=(320, 240))
    report = analyze(path)
    windows = [(0.0, 0.7, 0.2), (1.0, 1.7, 0.8), (2.0, 2.7, 0.4), (3.0, 3.7, 0.9)]
    evidence = Evidence(
        check="classifier",
        status="ok",
        finding="generated_look",
        summary="x",
        segments=[Segment(start_s=a, end_s=b, score=s) for a, b, s in windows],
        details={
            "threshold_at_5pct_fpr": THRESHOLD,
            "regions": [
                {"start_s": a, "end_s": b, "box": [48, 8, 224, 224], "score": s}
                for a, b, s in windows
            ],
        },
    )
    timeline_ = [Segment(start_s=a, end_s=b, score=s) for a, b, s in windows]
    report = report.model_copy(update={"evidence": [evidence], "timeline": timeline_})
    return path, report


def test_windows_above_the_line_are_marked_and_point_at_their_key_frames(scored):
    _, report = scored
    drawn = timeline(report, frame_times=[0.0, 1.0, 2.0, 3.0])
    assert [b["above"] for b in drawn["bars"]] == [False, True, False, True]
    assert [b["frame"] for b in drawn["bars"]] == [None, 1, None, 3]
    assert drawn["above"] == 2
    bottom, top = drawn["bottom"], drawn["top"]
    assert drawn["threshold"]["y"] == pytest.approx(bottom - (bottom - top) * THRESHOLD, abs=0.1)
    # taller bar, higher score; a bar starts where its window starts on the seconds axis
    assert drawn["bars"][3]["height"] > drawn["bars"][1]["height"] > drawn["bars"][2]["height"]
    assert [t["label"] for t in drawn["x_ticks"]][:3] == ["0", "0.5", "1"]
    tick = {t["label"]: t["x"] for t in drawn["x_ticks"]}
    assert drawn["bars"][1]["x"] == tick["1"] and drawn["bars"][2]["x"] == tick["2"]


def test_no_per_window_scores_no_timeline(scored):
    _, report = scored
    assert timeline(report.model_copy(update={"timeline": []}), [0.0]) is None


def test_the_crop_the_model_scored_highest_is_outlined_in_percent_of_the_frame(scored):
    _, report = scored
    boxes = outlines(report)
    assert len(boxes) == 4
    (first, last), box = boxes[1]
    assert (first, last) == pytest.approx((1.0, 1.7), abs=0.01)
    assert box == {"left": 15.0, "top": 3.33, "width": 70.0, "height": 93.33,
                   "label": "80%", "kind": "region"}  # fmt: skip


def test_the_report_page_draws_both_without_script(scored):
    path, report = scored
    page = render_html(report, key_frame_thumbnails(path, [0.0, 1.0, 2.0, 3.0]))
    assert page.count('<line class="threshold"') == 1
    assert '<a href="#frame-1">' in page and '<a href="#frame-3">' in page
    assert '<a href="#frame-0">' not in page  # below the line: not linked
    assert 'id="frame-3"' in page
    assert page.count('class="outline region"') == 4
    assert 'type="checkbox" id="show-regions"' in page  # switches the outlines off, in CSS
    assert ".toggle:not(:checked) ~ .frames .outline.region { display: none; }" in page
    assert "<script" not in page


def test_the_report_prints_on_a4_with_hash_versions_and_time_on_every_page(scored):
    path, report = scored
    page = render_html(report, key_frame_thumbnails(path, [0.0]))
    assert "@page { size: A4;" in page
    footer = page.split('<div class="print-footer">', 1)[1].split("</div>", 1)[0]
    assert report.media.sha256 in footer and f"Verity {report.verity_version}" in footer
    assert report.analysed_at.strftime("%Y-%m-%d %H:%M") in footer
    assert "model verity-v4" in footer
    # position: fixed in print: Chromium repeats it at the foot of every page
    assert ".print-footer { display: block; position: fixed;" in page


def test_overlapping_windows_of_a_short_clip_each_keep_a_visible_bar(scored):
    _, report = scored
    overlapping = [Segment(start_s=0.1 * i, end_s=0.1 * i + 1.5, score=0.7) for i in range(8)]
    drawn = timeline(report.model_copy(update={"timeline": overlapping}), [0.0])
    bars = drawn["bars"]
    for bar, following in itertools.pairwise(bars):
        assert bar["x"] + bar["width"] <= following["x"]  # none hides another
    assert bars[-1]["x"] + bars[-1]["width"] == pytest.approx(drawn["right"], abs=1.5)
    assert [b["end_s"] for b in bars] == [s.end_s for s in overlapping]  # titles keep windows


def test_the_scan_histogram_counts_files_per_tenth_on_labelled_axes():
    drawn = histogram([0.0, 0.05, 0.12, 0.5, 0.99, 1.0, 1.0])
    assert [b["count"] for b in drawn["bars"]] == [2, 1, 0, 0, 0, 1, 0, 0, 0, 3]
    assert [t["label"] for t in drawn["x_ticks"]] == ["0", "20", "40", "60", "80", "100"]
    assert [t["label"] for t in drawn["y_ticks"]] == ["0", "1", "2", "3"]
    tallest = max(drawn["bars"], key=lambda b: b["count"])
    assert tallest["y"] == min(t["y"] for t in drawn["y_ticks"])  # the top tick is its height
    assert [b["verdict"] for b in drawn["bands"]] == [
        "no_evidence_of_fabrication", "inconclusive", "likely_fabricated"
    ]  # fmt: skip
    assert histogram([])["bars"][0]["count"] == 0


def test_faces_are_a_row_of_their_own_and_outlined_where_they_were(scored):
    path, report = scored
    spans = [(1.0, 1.7, 0.3), (3.0, 3.7, 0.95)]
    segments = [Segment(start_s=a, end_s=b, score=s) for a, b, s in spans]
    faces = Evidence(
        check="faces",
        status="ok",
        finding="face_manipulated",
        summary="x",
        segments=segments,
        details={
            "threshold_at_5pct_fpr": 0.9,
            "regions": [
                {"start_s": a, "end_s": b, "box": [100, 40, 60, 80], "score": s}
                for a, b, s in spans
            ],
        },
    )
    timeline_ = sorted(report.timeline + segments, key=lambda s: s.start_s)
    report = report.model_copy(
        update={"evidence": [*report.evidence, faces], "timeline": timeline_}
    )
    drawn = timeline(report, frame_times=[0.0, 1.0, 2.0, 3.0])
    assert len(drawn["bars"]) == 4  # the classifier's windows only
    assert [(f["start_s"], f["above"]) for f in drawn["faces"]] == [(1.0, False), (3.0, True)]
    assert drawn["height"] > drawn["faces_y"] >= drawn["bottom"]
    face_boxes = [o for _, o in outlines(report) if o["kind"] == "face"]
    assert [o["label"] for o in face_boxes] == ["30%", "95%"]
    assert face_boxes[0]["left"] == pytest.approx(100 * 100 / 320, abs=0.01)
    html = render_html(report, key_frame_thumbnails(path, [0.0, 1.0, 2.0, 3.0]))
    assert html.count('class="outline face"') >= 1 and "face 95%" in html
