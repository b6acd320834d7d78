"""A Report for the terminal, with rich."""

from rich.console import Console
from rich.text import Text

from detector.report import Report, Verdict

from .present import VERDICT_MEANING, generator_name, headline, strength

_STYLE = {
    Verdict.LIKELY_FABRICATED: "bold red",
    Verdict.INCONCLUSIVE: "bold yellow",
    Verdict.NO_EVIDENCE_OF_FABRICATION: "bold green",
}


def print_report(report: Report, console: Console, path: str) -> None:
    """Verdict, likelihood, one line per evidence, limitations."""
    media = report.media
    console.print(Text(path, style="bold"))
    console.print(Text(headline(report), style=_STYLE[report.verdict]))
    console.print(VERDICT_MEANING[report.verdict], style="dim")
    for e in report.evidence:
        console.print(
            Text.assemble(
                ("  • ", "dim"), (e.check, "bold"), f"  {e.finding}  ", (f"({strength(e)})", "dim")
            )
        )
        console.print(Text("    " + e.summary))
    if report.generators:
        names = ", ".join(
            f"{generator_name(g.name)} ({g.probability:.0%})" for g in report.generators
        )
        console.print(f"Generator hints: {names}")
    for limitation in report.limitations:
        console.print(f"Not checked: {limitation.message}", style="yellow")
    sampling = report.sampling
    duration = f"{media.duration_s:g} s" if media.duration_s is not None else "unknown length"
    console.print(
        f"{media.width}x{media.height}, {media.codec} in {media.container}, {duration}; "
        f"frames seen {sampling.span_start_s:g}-{sampling.span_end_s:g} s "
        f"({sampling.frames_decoded} decoded)",
        style="dim",
    )
    console.print(
        f"sha256 {media.sha256} · Verity {report.verity_version} · "
        f"{report.analysed_at:%Y-%m-%d %H:%M:%S} UTC",
        style="dim",
    )
