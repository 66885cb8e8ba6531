"""``kring`` sub-commands for matching: ``solve`` and ``generate``.

Heavy imports happen inside the commands, so ``kring --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.setting_options import SETTINGS, SettingsCommand
from texts import number, t

if TYPE_CHECKING:
    from matching import Progress

BAD_INPUT = 2


def _fail(message: str, lang: str = "nl") -> typer.Exit:
    typer.echo(t("cli.error", lang, message=message), err=True)
    return typer.Exit(BAD_INPUT)


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename (all or nothing)."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def generate(
    outdir: Annotated[
        Path, typer.Argument(help="Directory for smes.csv, competitors.csv, partners.csv.")
    ],
    n: Annotated[int, typer.Option("--n", help="Number of firms.")] = 2000,
    provinces: Annotated[
        str, typer.Option(help="Comma-separated provinces to draw PC4 centroids from.")
    ] = "Groningen,Fryslân,Drenthe",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same cohort).")] = 1,
) -> None:
    """Generate a realistic synthetic SME cohort (smes.csv + competitors.csv + partners.csv)."""
    from geodata.errors import GeodataError
    from matching import GenerateError, firms_to_csv, generate_cohort, pairs_to_csv

    names = tuple(p.strip() for p in provinces.split(",") if p.strip())
    try:
        cohort = generate_cohort(n, names, seed=seed)
    except (GenerateError, GeodataError) as exc:
        raise _fail(str(exc)) from None
    _write_atomic(outdir / "smes.csv", firms_to_csv(cohort.firms))
    _write_atomic(outdir / "competitors.csv", pairs_to_csv(cohort.competitors))
    _write_atomic(outdir / "partners.csv", pairs_to_csv(cohort.partners))
    typer.echo(
        f"{len(cohort.firms)} firms, {len(cohort.competitors)} competitor pairs, "
        f"{len(cohort.partners)} partner pairs -> {outdir}"
    )


def _read(path: Path, lang: str = "nl") -> list[list[str]]:
    """Rows of a CSV (``,``/``;``, UTF-8/cp1252, detected) or .xlsx file (first sheet)."""
    from matching import read_table

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _fail(t("cli.cannot_read", lang, path=path, error=exc), lang) from None
    return read_table(data, source=str(path), filename=path.name, lang=lang).rows


def solve(
    ctx: typer.Context,
    smes: Annotated[
        Path,
        typer.Argument(
            help="Firms as CSV (',' or ';', UTF-8 or cp1252) or .xlsx: external_id, name, "
            "postcode, sbi_code, employees, digital_level, needs [, lat, lon, kvk_number, "
            "weight]; Dutch headers (naam, sbi, medewerkers, digitaal_niveau, behoeften, "
            "kvk) too. See README, 'Firm files'."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write OUT.json.")],
    competitors: Annotated[
        Path | None, typer.Option(help="Competitor pairs CSV (sme_a,sme_b).")
    ] = None,
    partners: Annotated[Path | None, typer.Option(help="Partner pairs CSV (sme_a,sme_b).")] = None,
    lang: Annotated[
        str, typer.Option(help="Language of messages and OUT.json texts: nl or en.")
    ] = "nl",
) -> None:
    """Form groups of SMEs from CSV files and write OUT.json (exit 2 on bad input).

    Every run setting is an option (--min-size, --max-per-gemeente, --reach ...).
    """
    import json

    from app.i18n import ignored_notice
    from matching import (
        FIRM_ALIASES,
        InputFileError,
        RunSettings,
        SettingsError,
        ignored_columns,
        read_firms_rows,
        read_pairs_rows,
        reason_label,
        render_explanation,
        solve_firms,
    )

    if lang not in ("nl", "en"):
        raise typer.BadParameter("nl or en", param_hint="--lang")
    try:
        settings = RunSettings.from_dict(ctx.meta.get(SETTINGS, {}))
    except SettingsError as exc:
        message = t("problem.invalid-input.setting", lang, field=exc.field, reason=exc.say(lang))
        raise _fail(message, lang) from None
    try:
        rows = _read(smes, lang)
        firms = read_firms_rows(rows, source=str(smes))
        notice = ignored_notice(ignored_columns(rows[0], FIRM_ALIASES), lang)
        if notice is not None:
            typer.echo(f"{smes}: {notice}", err=True)
        ids = {f.external_id for f in firms}
        pairs = {
            name: []
            if path is None
            else read_pairs_rows(_read(path, lang), source=str(path), known_ids=ids)
            for name, path in (("competitors", competitors), ("partners", partners))
        }
    except InputFileError as exc:
        for error in exc.errors:
            typer.echo(f"{exc.source}: {error.where(lang)}", err=True)
        count = len(exc.errors)
        raise _fail(t("cli.invalid_file", lang, source=exc.source, count=count), lang) from None
    with _ProgressBar(lang) as update:
        report = solve_firms(firms, pairs["competitors"], pairs["partners"], settings,
                             progress=update)  # fmt: skip
    data = report.to_dict()
    for group in data["groups"]:  # the words in the asked language; the codes stay
        group["explanation"] = render_explanation(group["explanation_parts"], lang)
    for item in data["unassigned"]:
        item["reason_label"] = reason_label(item["reason"], lang)
    _write_atomic(out, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    stats = report.stats
    verified = t("cli.yes", lang) if stats["verified"] else t("cli.no", lang)
    summary = t("cli.summary", lang, groups=stats["groups"], placed=stats["placed"],
                firms=stats["firms"], bound=stats.get("placed_bound", "-"),
                verified=verified, out=out)  # fmt: skip
    typer.echo(summary, err=True)
    if stats.get("gap") is not None:
        found = stats["objective"]["affinity"]
        typer.echo(t("cli.quality", lang, gap=number(100 * stats["gap"], lang, 1),
                     bound=number(stats["bound_affinity"], lang, 1),
                     affinity=number(found, lang, 1)), err=True)  # fmt: skip


def progress_line(report: Progress, lang: str = "nl") -> str:
    """One progress report in words: phase, firms placed of the bound, mean affinity."""
    phase = t(f"progress.phase.{report.phase}", lang)
    if report.placed is None:
        return phase
    bound = "-" if report.placed_bound is None else report.placed_bound
    mean = report.mean_affinity
    affinity = "-" if mean is None else number(mean, lang, 2)
    return f"{phase}: " + t("progress.line", lang, placed=report.placed, bound=bound,
                            affinity=affinity)  # fmt: skip


class _ProgressBar:
    """A rich progress bar on stderr fed by the solver's progress callback: the phase, the
    share of the time limit, firms placed of at most how many, and the mean affinity.  When
    stderr is no terminal, a line per phase and a last line instead."""

    def __init__(self, lang: str = "nl") -> None:
        from rich.console import Console
        from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        self.lang, self.last, self.phase = lang, None, ""
        self.console = Console(stderr=True)
        self.bar = Bar(
            BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TextColumn("{task.fields[line]}"),
            TimeElapsedColumn(), console=self.console, transient=True,
        )  # fmt: skip
        self.task = self.bar.add_task("solve", total=1.0, line="")

    def update(self, report: Progress) -> None:
        self.last = report
        line = progress_line(report, self.lang)
        if self.console.is_terminal:
            fraction = min(max(report.fraction, 0.0), 1.0)
            self.bar.update(self.task, completed=fraction, line=line)
        elif report.phase != self.phase:
            self.console.print(line, highlight=False, soft_wrap=True)
        self.phase = report.phase

    def __enter__(self):  # type: ignore[no-untyped-def]
        if self.console.is_terminal:
            self.bar.start()
        return self.update

    def __exit__(self, *exc: object) -> None:
        if self.console.is_terminal:
            self.bar.stop()
        elif self.last is not None and self.last.placed is not None:
            self.console.print(progress_line(self.last, self.lang), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("generate")(generate)
    app.command("solve", cls=SettingsCommand)(solve)
