"""A Report for the terminal, with rich, in the reader's language."""

from rich.console import Console
from rich.text import Text

from detector.report import Report, Verdict

from .i18n import Words
from .present import check_name, generator_name, headline, strength, summary, verdict_meaning

_STYLE = {
    Verdict.LIKELY_FABRICATED: "bold red",
    Verdict.INCONCLUSIVE: "bold yellow",
    Verdict.NO_EVIDENCE_OF_FABRICATION: "bold green",
}


def print_report(report: Report, console: Console, path: str, words: Words | None = None) -> None:
    """Verdict, likelihood, one line per evidence, limitations."""
    words = words or Words()
    _ = words._
    media = report.media
    console.print(Text(path, style="bold"))
    console.print(Text(headline(report, words), style=_STYLE[report.verdict]))
    console.print(verdict_meaning(report.verdict, words), style="dim")
    for e in report.evidence:
        console.print(
            Text.assemble(
                ("  • ", "dim"),
                (check_name(e.check, words), "bold"),
                f"  {e.finding}  ",
                (f"({strength(e, words)})", "dim"),
            )
        )
        console.print(Text("    " + summary(e, words)))
    if report.generators:
        names = ", ".join(
            f"{generator_name(g.name, words)} ({g.probability:.0%})" for g in report.generators
        )
        console.print(_("Generator hints: {names}").format(names=names))
    for limitation in report.limitations:
        said = words.say(limitation.phrase, limitation.message)
        console.print(_("Not checked: {limitation}").format(limitation=said), style="yellow")
    sampling = report.sampling
    duration = (
        _("{seconds:g} s").format(seconds=media.duration_s)
        if media.duration_s is not None
        else _("unknown length")
    )
    console.print(
        _(
            "{width}x{height}, {codec} in {container}, {duration}; frames seen {start:g}-{end:g} s "
            "({decoded} decoded)"
        ).format(
            width=media.width,
            height=media.height,
            codec=media.codec,
            container=media.container,
            duration=duration,
            start=sampling.span_start_s,
            end=sampling.span_end_s,
            decoded=sampling.frames_decoded,
        ),
        style="dim",
    )
    console.print(
        f"sha256 {media.sha256} · Verity {report.verity_version} · "
        f"{report.analysed_at:%Y-%m-%d %H:%M:%S} UTC",
        style="dim",
    )
