"""The command line: a thin click layer over articles, pipeline, embedded server, schema export."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import types
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext, suppress
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TextIO, get_args, get_origin

import annotated_types
import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column
from rich.text import Text

from . import config, strategies
from ._version import __version__
from .errors import ConfigError, ExtractorError, InputError
from .eval import evaluate, eventscore
from .io import articles, files
from .io.records import read_records
from .model import embedded, requestlog, spending
from .outputs import eventpage, export, grouping, report, sink
from .runs import batch, cache, runner
from .runs.method import RunMethod, resolve_method
from .schemas import ExtractionRecord

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def record_schema() -> dict[str, object]:
    """The JSON Schema of one output record (what ``extractor schema`` prints)."""
    schema: dict[str, object] = ExtractionRecord.model_json_schema()
    schema["$id"] = "https://example.invalid/guarantee-extractor/record-v1.schema.json"
    return schema


def schema_text() -> str:
    return json.dumps(record_schema(), indent=2, ensure_ascii=False) + "\n"


def _backend(
    settings: config.Settings, console: Console, *, lazy: bool = True
) -> AbstractContextManager[config.Settings]:
    """The settings with the embedded server's address when none is configured, its start
    and readiness said on the console. ``lazy``: it starts at the first request (a run the
    rules settle alone never starts it); else at once, for requests sent from other processes
    (Ray)."""

    def announce(text: str) -> None:
        console.print(f"[dim]{text}[/dim]")

    return embedded.serving(settings, lazy=lazy, announce=announce)


def _fail(message: str) -> None:
    click.echo(f"error: {config.masked(message)}", err=True)


class _Command(click.Command):
    """A command whose errors end it the one way: an :class:`ExtractorError` prints its message
    on one line and exits 2 for what the user must change (a setting, an input, the
    environment) or 1 for a run that failed; Ctrl-C exits 130. ``--traceback`` (on every
    command) shows the traceback instead. ``keeps_partial``: the command writes its ``-o``
    through ``FILE.partial``, which an interruption names."""

    def __init__(self, *args: Any, keeps_partial: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keeps_partial = keeps_partial
        self.params.append(
            click.Option(
                ["--traceback"],
                is_flag=True,
                help="Show the traceback of an error instead of one line.",
            )
        )

    def invoke(self, ctx: click.Context) -> Any:
        traceback = ctx.params.pop("traceback", False)
        try:
            return super().invoke(ctx)
        except ExtractorError as exc:
            if traceback:
                raise
            _fail(str(exc))
            ctx.exit(EXIT_USAGE if isinstance(exc, ConfigError | InputError) else EXIT_SOME_FAILED)
        except KeyboardInterrupt:
            output = ctx.params.get("output", "-") if self.keeps_partial else "-"
            where = "" if output == "-" else f"; finished records are in {output}.partial"
            _fail(f"interrupted{where}: re-run the same command to finish")
            ctx.exit(EXIT_INTERRUPTED)


class _Group(click.Group):
    """A group whose commands, and groups, handle errors as :class:`_Command` does."""

    command_class = _Command
    group_class = type  # subgroups are of this class too


# Settings whose values are names known outside the declaration, listed in their flag's help.
_CHOICES: dict[str, Callable[[], Sequence[str]]] = {"strategy": strategies.names}

# The settings that say which model is asked and how: every command that plans requests.
_ASKING = ("base_url", "model", "mode", "prompt_version", "strategy")


def _click_type(setting: config.Setting) -> click.ParamType[Any, Any]:
    """The flag's type, from the setting's declared type and lower bound."""
    if setting.name in _CHOICES:
        return click.Choice(_CHOICES[setting.name]())
    kind = setting.field.annotation
    if isinstance(kind, types.UnionType):  # X | None
        (kind,) = (arg for arg in get_args(kind) if arg is not type(None))
    if get_origin(kind) is Literal:
        return click.Choice(get_args(kind))
    low, exclusive = _lower_bound(setting)
    if kind is int:
        return click.IntRange(min=low, min_open=exclusive)
    if kind is float:
        return click.FloatRange(min=low, min_open=exclusive)
    return click.STRING


def _lower_bound(setting: config.Setting) -> tuple[Any, bool]:
    """The declared lower bound (None: none) and whether the bound itself is excluded."""
    for item in setting.field.metadata:
        if isinstance(item, annotated_types.Ge):
            return item.ge, False
        if isinstance(item, annotated_types.Gt):
            return item.gt, True
    return None, False


def setting_help(setting: config.Setting) -> str:
    """A settings flag's help: the declared help, the variable and the default."""
    declared = setting.declared
    return f"{declared.help} [env {declared.variable}; default {setting.shown_default}]"


def settings_options(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The flags of the declared settings ``names`` (see ``config.Settings``), resolved flag >
    environment variable > default into one ``settings`` argument of the command."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def resolved(**params: Any) -> Any:
            given = {name: params.pop(name) for name in names}
            return command(settings=config.resolve(**given), **params)

        for name in reversed(names):
            setting = config.SETTINGS[name]
            if setting.flag is None:
                raise ValueError(
                    f"setting {name} has no flag; it is read from {setting.declared.variable}"
                )
            resolved = click.option(
                setting.flag,
                name,
                type=_click_type(setting),
                default=None,
                help=setting_help(setting),
            )(resolved)
        return resolved

    return decorate


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="extractor")
def cli() -> None:
    """Extract security-guarantee proposals from news articles as grounded JSON records."""


_COLUMNS = click.option(
    "--columns",
    metavar="FIELD=COLUMN,...",
    help="Columns of JSONL/Parquet article tables, over the defaults text, id, url, outlet, "
    "title, published; e.g. --columns text=body,url=link.",
)


@cli.command(keeps_partial=True)
@click.argument("paths", nargs=-1)
@click.option(
    "--from-file",
    "from_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also extract the paths listed in this file, one per line (e.g. a batch's rerun.txt).",
)
@click.option(
    "-o", "--output", default="-", show_default=True, help="JSONL file to write; - for stdout."
)
@settings_options(
    *_ASKING,
    "max_reasks",
    "timeout",
    "gguf",
    "retry_budget",
    "max_connection_failures",
    "max_tokens_per_article",
    "prices",
    "cache_dir",
)
@click.option(
    "-j",
    "--concurrency",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Articles extracted at once (for servers that take parallel requests).",
)
@click.option("--rpm", type=click.IntRange(min=1), help="At most this many requests per minute.")
@click.option("--tpm", type=click.IntRange(min=1), help="At most this many tokens per minute.")
@click.option(
    "--budget",
    help="Stop the run once it has spent this many tokens (e.g. 200000) or dollars (e.g. "
    "'$2.50', needs --prices); a re-run resumes.",
)
@click.option(
    "--no-cache", is_flag=True, help="Neither read nor write the record cache; ask the model."
)
@click.option(
    "--log-json",
    "log_json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append one JSON line per model request (article, step, attempt, status, tokens, "
    "latency, retry or re-ask reason) to this file.",
)
@click.option(
    "--summary",
    "summary_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the run summary, per article and in total, to this JSON file.",
)
@click.option(
    "--db",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[URL]",
    help="Also load the records into this database (SQLAlchemy URL); --db alone: a SQLite file "
    "next to the output.",
)
@_COLUMNS
@click.option(
    "--ray",
    "ray_address",
    is_flag=False,
    flag_value="local",
    default=None,
    metavar="[ADDRESS]",
    help="Run on a Ray cluster (ADDRESS, e.g. ray://head:10001 or auto); --ray alone: a local "
    "one on 127.0.0.1. Needs the ray extra.",
)
@click.option(
    "--ray-workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Ray actors extracting at once, each with -j articles in flight.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
@click.option("-v", "--verbose", is_flag=True, help="Also show Ray's own log lines (with --ray).")
def extract(
    paths: tuple[str, ...],
    from_file: Path | None,
    output: str,
    settings: config.Settings,
    concurrency: int,
    rpm: int | None,
    tpm: int | None,
    budget: str | None,
    no_cache: bool,
    log_json: Path | None,
    summary_path: Path | None,
    db: str | None,
    columns: str | None,
    ray_address: str | None,
    ray_workers: int,
    quiet: bool,
    verbose: bool,
) -> None:
    """Extract every article in PATHS (files, directories, JSONL or Parquet article tables,
    or - for stdin) to JSONL.

    Re-running the same command after an interruption keeps the finished records and extracts
    the rest. Exit status: 0 when every article was extracted, 1 when some failed (their
    records carry the error) or the budget stopped the run, 2 on a usage or configuration
    error, 130 when interrupted.
    """
    # Ray's C++ core writes to descriptor 2 behind Python's back: to a file, unless -v.
    quieted = _native_quiet() if ray_address is not None and not verbose else nullcontext(None)
    with quieted as terminal:
        console = (
            Console(file=terminal, quiet=quiet) if terminal else Console(stderr=True, quiet=quiet)
        )
        # An unknown strategy or unusable prompt, or a model with no server to ask: exit 2 now.
        method = resolve_method(settings)  # the run's method, resolved once
        if method.needs_model:
            embedded.check_served(settings)
        table = spending.load_prices(settings.prices) if settings.prices else {}
        options = runner.RunOptions(
            concurrency=concurrency,
            rpm=rpm,
            tpm=tpm,
            cache=None if no_cache else cache.RecordCache(settings.cache_dir),
            budget=spending.parse_budget(budget) if budget is not None else None,
            price=spending.price_for(table, settings.model, settings.base_url),
        )
        listed = _listed(from_file) if from_file is not None else []
        if not paths and not listed:
            raise ConfigError("name the articles to extract: PATH... or --from-file FILE")
        sources, skipped = articles.expand_reporting([*paths, *listed])
        if skipped:
            click.echo(
                f"note: skipped {len(skipped)} files that are not articles "
                f"({', '.join(articles.SUFFIXES)}, not named in capitals like README.md): "
                f"{', '.join(skipped[:5])}" + (" …" if len(skipped) > 5 else ""),
                err=True,
            )
        _refuse_missing_directories(summary_path)
        db_url = (db or sink.default_url(output)) if db is not None else None
        if db_url is not None:
            sink.check(db_url)  # a bad URL or a database down: a usage error before any request
        execute = None
        if ray_address is not None:
            from .runs import raydata

            execute = raydata.executor(ray_address, ray_workers, options, verbose=verbose)
        with requestlog.to_file(log_json) if log_json is not None else nullcontext():
            try:
                summary = _run(
                    sources,
                    method,
                    runner.Output(output),
                    options,
                    console,
                    columns=articles.Columns.parse(columns),
                    execute=execute,
                )
            finally:
                if options.cache is not None:
                    options.cache.close()
        if summary_path is not None:
            files.write_atomic(summary_path, json.dumps(summary.to_json(), indent=2) + "\n")
        if db_url is not None:
            records = [o.record for o in summary.outcomes if o.record is not None]
            _print_load(sink.load(records, db_url), db_url, console)
        sys.exit(EXIT_SOME_FAILED if summary.failed or summary.stopped else EXIT_OK)


def _native_quiet() -> AbstractContextManager[TextIO | None]:
    from .runs import raydata

    return raydata.native_stderr_to()


def _listed(path: Path) -> list[str]:
    """The paths listed in ``path``, one per line (blank lines skipped).

    Raises:
        InputError: the file cannot be read.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--from-file {path}: cannot be read ({exc})") from None
    return [line for line in lines if line.strip()]


class _Pace(ProgressColumn):
    """Articles extracted a minute (``12.5/min``) and the time left at that pace, measured from
    the moment the inputs were read (records from the cache or an earlier run are not
    extraction)."""

    def render(self, task: Task) -> Text:
        began, extracted = task.fields.get("began"), task.fields.get("extracted", 0)
        if began is None or task.total is None or task.finished:
            return Text("")  # once finished, the closing summary gives the run's pace
        elapsed = time.monotonic() - began
        if not extracted or elapsed <= 0:
            return Text("")
        per_second = extracted / elapsed
        left = max(task.total - task.completed, 0) / per_second
        return Text(
            f"{per_second * 60:.1f}/min, {timedelta(seconds=round(left))} left",
            style="progress.remaining",
        )


def _run(
    sources: list[str],
    method: RunMethod,
    output: runner.Output,
    options: runner.RunOptions,
    console: Console,
    *,
    columns: articles.Columns | None = None,
    execute: runner.Execute | None = None,
) -> runner.Summary:
    progress = Progress(
        TextColumn("[bold]extracting"),
        BarColumn(bar_width=None),  # the bar gives way to the figures on a narrow terminal
        MofNCompleteColumn(),
        TextColumn("{task.fields[tokens]:,} tokens, {task.fields[errors]} errors"),
        TimeElapsedColumn(),
        _Pace(table_column=Column(no_wrap=True)),
        console=console,
        transient=False,
    )
    spent = errors = extracted = 0

    def advance(outcome: runner.Outcome) -> None:
        nonlocal spent, errors, extracted
        spent += outcome.meter.total_tokens
        errors += outcome.record is not None and outcome.record.error is not None
        extracted += outcome.status in ("extracted", "failed")
        progress.update(task, advance=1, tokens=spent, errors=errors, extracted=extracted)

    def total(count: int) -> None:
        # The inputs are read: what comes from the cache or an earlier run comes at once, so
        # the pace is measured on the articles extracted from here on.
        progress.update(task, total=count, began=time.monotonic())

    with progress:
        task = progress.add_task(
            "extract", total=len(sources), tokens=0, errors=0, extracted=0, began=None
        )
        summary = runner.run(
            sources,
            method,
            output,
            options,
            backend=lambda s: _backend(s, console, lazy=execute is None),
            execute=execute,
            columns=columns,
            on_total=total,
            on_progress=advance,
            log=lambda line: console.print(config.masked(line)),
        )
    for line in summary.lines():
        console.print(config.masked(line), soft_wrap=True, highlight=False)
    return summary


@cli.command(name="eval")
@click.option(
    "--gold",
    "gold_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of gold annotations, one JSON file per article (see tests/gold/); repeat it "
    "for several sets (e.g. --gold tests/gold --gold tests/gold/corpus).",
)
@click.argument(
    "predictions", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--events",
    "events_gold",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Events gold file (tests/gold/events/events.json): also score how the records' proposals "
    "are grouped into events (pairwise and B-cubed precision and recall).",
)
@click.option(
    "--articles",
    "article_dirs",
    multiple=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder holding the articles the gold files name (e.g. seeds/); a record of the same "
    "text, from an article table say, is then scored whatever its source. Repeatable; the gold "
    "folder itself is looked in too.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def eval_command(
    gold_dirs: tuple[Path, ...],
    predictions: tuple[Path, ...],
    events_gold: Path | None,
    article_dirs: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Score PREDICTIONS (JSONL records) against gold annotations.

    Records are matched to gold files by the article's text, where --articles holds the file
    the gold names, else by the article's file name; records with no gold file are listed, not
    scored. With several PREDICTIONS files (one per strategy, say), their figures are printed
    side by side, for each gold set and for all of them together. With --events (alone or
    beside --gold), the grouping of the proposals into events is scored too.
    """
    if not gold_dirs and events_gold is None:
        raise ConfigError("give --gold DIR (field scores), --events FILE (grouping), or both")
    events_json: dict[str, object] = {}
    if events_gold is not None:
        gold_events = eventscore.load_event_gold(events_gold)
        scored = [
            (path.stem, eventscore.score_events(read_records(path), gold_events))
            for path in predictions
        ]
        events_json = {label: s.to_json() for label, s in scored}
        if not gold_dirs:
            if as_json:
                click.echo(json.dumps(events_json, indent=2, ensure_ascii=False))
            else:
                click.echo(eventscore.render(scored), nl=False)
            return
        if not as_json:
            click.echo(eventscore.render(scored))
    extra = {"events": events_json} if events_json else {}
    gold_sets = evaluate.load_gold_sets(list(gold_dirs))
    all_gold = {name: g for one in gold_sets.values() for name, g in one.items()}
    ids = evaluate.gold_ids(all_gold, [*article_dirs, *gold_dirs])
    if len(predictions) > 1:
        comparisons = evaluate.compare(list(predictions), gold_sets, ids)
        if as_json:
            figures = {c.name: c.to_json() for c in comparisons}
            click.echo(json.dumps({**figures, **extra}, indent=2, ensure_ascii=False))
        else:
            click.echo(evaluate.render_comparison(comparisons), nl=False)
        return
    report = evaluate.score(evaluate.load_records(predictions[0]), all_gold, ids)
    if as_json:
        click.echo(json.dumps({**report.to_json(), **extra}, indent=2, ensure_ascii=False))
    else:
        click.echo(evaluate.render_table(report), nl=False)


def _print_load(report: sink.LoadReport, url: str, console: Console) -> None:
    console.print(
        f"loaded into {config.masked(url)}: {report.added['extractions']} new extractions, "
        f"{report.skipped} already there",
        soft_wrap=True,
    )
    width = max(len(name) for name in report.totals)
    console.print(f"{'table':<{width}}  {'added':>7}  {'rows':>7}", highlight=False)
    for name, rows in report.totals.items():
        console.print(f"{name:<{width}}  {report.added[name]:>7}  {rows:>7}", highlight=False)


@cli.command()
@click.argument("jsonl", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--db",
    is_flag=False,
    flag_value="",
    default="",
    metavar="[URL]",
    help="SQLAlchemy URL; default: a SQLite file next to JSONL.",
)
def load(jsonl: Path, db: str) -> None:
    """Load extraction records (JSONL) into a database, idempotently, in one transaction."""
    url = db or sink.default_url(str(jsonl))
    records = read_records(jsonl)
    _print_load(sink.load(records, url), url, Console())


@cli.command(name="report")
@click.argument("jsonl", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write.",
)
@click.option(
    "--events",
    "events_page",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the events page of the records here (as extractor events --html), "
    "linked from the report's header and back.",
)
def report_command(jsonl: Path, output: Path, events_page: Path | None) -> None:
    """Write one self-contained HTML page showing every record with its evidence highlighted."""
    records = read_records(jsonl)
    _refuse_missing_directories(output, events_page)
    href = _relative(events_page, output) if events_page is not None else None
    page = report.render(records, title=f"Extractions: {jsonl.name}", events_href=href)
    files.write_atomic(output, page)
    click.echo(f"{len(records)} articles -> {output}")
    if events_page is not None:
        found = grouping.grouped(records)
        back = _relative(output, events_page)
        html = eventpage.render(found, title=f"Events: {jsonl.name}", report_href=back)
        files.write_atomic(events_page, html)
        click.echo(f"{len(found)} events -> {events_page}")


def _refuse_missing_directories(*targets: Path | None) -> None:
    """Refuse, before any work, a file to write in a directory that does not exist (``-`` is
    standard output).

    Raises:
        ConfigError: naming the file and its directory.
    """
    for target in targets:
        if target is not None and str(target) != "-" and not target.parent.is_dir():
            raise ConfigError(f"cannot write {target}: directory {target.parent} does not exist")


def _relative(target: Path, page: Path) -> str:
    """The link from ``page`` to ``target`` (both written by one command)."""
    return Path(os.path.relpath(target.resolve(), page.resolve().parent)).as_posix()


@cli.command(name="export")
@click.argument("jsonl", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(export.FORMATS),
    default="parquet",
    show_default=True,
    help="File format of the tables.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write one file per table into (created).",
)
def export_command(jsonl: Path, fmt: str, output: Path) -> None:
    """Write extraction records (JSONL) as tidy tables, one file per table of the database
    schema: articles, extraction_runs, extractions, proposals, guarantors, conditions,
    excluded_territories, stances, evidence, dropped, and the records' proposals grouped into
    events (events, event_proposals)."""
    records = read_records(jsonl)
    written = export.write(records, output, fmt)
    width = max(len(name) for name in written.rows)
    click.echo(f"{len(records)} records -> {output}/ ({fmt})")
    for name, rows in written.rows.items():
        click.echo(f"{name + '.' + fmt:<{width + 1 + len(fmt)}}  {len(rows):>7} rows")


@cli.command(name="events")
@click.argument("jsonl", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSONL file to write, one event a line ('-' for standard output).",
)
@click.option(
    "--html",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the events page: each event's timeline and sources, each claim linked to "
    "its highlighted evidence.",
)
@click.option(
    "--db",
    metavar="URL",
    help="Also load the records into this database and their events in place of the events it "
    "held (tables events and event_proposals).",
)
def events_command(
    jsonl: tuple[Path, ...], output: Path, html: Path | None, db: str | None
) -> None:
    """Group the proposals of the records in JSONL files into events (one proposal reported by
    several articles) and write each event with its sources, guarantors over time, response
    times, exclusions and disagreements."""
    records = [record for path in jsonl for record in read_records(path)]
    _refuse_missing_directories(output, html)
    found = grouping.grouped(records)
    lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e, _ in found)
    if str(output) == "-":
        click.echo(lines, nl=False)
    else:
        files.write_atomic(output, lines)
    reports = sum(len(members) for _, members in found)
    articles = len({r.record.article.id for _, members in found for r in members})
    several = sum(e["article_count"] > 1 for e, _ in found)
    summary = (
        f"{reports} proposals of {articles} articles -> {len(found)} events "
        f"({several} reported by more than one article)"
    )
    if str(output) != "-":
        summary += f" -> {output}"
    click.echo(summary, err=str(output) == "-")
    if html is not None:
        title = f"Events: {', '.join(p.name for p in jsonl)}"
        files.write_atomic(html, eventpage.render(found, title=title))
        click.echo(f"events page -> {html}", err=str(output) == "-")
    if db:
        _print_load(sink.load_events(records, found, db), db, Console(stderr=str(output) == "-"))


@cli.group(name="db")
def db_group() -> None:
    """Manage the database schema."""


@db_group.command(name="upgrade")
@click.option("--db", required=True, metavar="URL", help="SQLAlchemy URL.")
def db_upgrade(db: str) -> None:
    """Create or migrate the database schema to the latest version."""
    before, after = sink.migrate(db)
    click.echo(f"{config.masked(db)}: schema {before or 'none'} -> {after}")


@cli.group(name="batch")
def batch_group() -> None:
    """Run extraction as a batch file: OpenAI Batch API, vllm run-batch, or any server.

    \b
    extractor batch prepare PATHS... -d JOB   write JOB/requests.jsonl and JOB/manifest.json
    extractor batch run JOB                   send them one by one to a server (or the embedded one)
    extractor batch submit JOB                or: upload them to the OpenAI Batch API
    extractor batch status JOB                how far the batch is
    extractor batch fetch JOB                 download JOB/results.jsonl when it is done
    extractor batch collect JOB/results.jsonl -o out.jsonl
    """


_JOB = click.argument("job", type=click.Path(file_okay=False, path_type=Path))


@batch_group.command(name="prepare")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "-d",
    "--dir",
    "job",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Job directory to create.",
)
@settings_options(*_ASKING)
@_COLUMNS
def batch_prepare(
    paths: tuple[str, ...], job: Path, settings: config.Settings, columns: str | None
) -> None:
    """Write every request of a run over PATHS as a Batch API request file, for the server
    --base-url names.

    With no --model the requests are for the embedded model (mode llamacpp); with another model
    they are for the OpenAI Batch API or vllm run-batch (mode json_schema), e.g.
    --model gpt-4o-mini.
    """
    sources, _ = articles.expand_reporting(list(paths))
    prepared = batch.prepare(sources, settings, job, articles.Columns.parse(columns))
    click.echo(
        f"{prepared.requests} requests for {prepared.articles} articles "
        f"({prepared.unreadable} unreadable) -> {job / batch.REQUESTS}, {job / batch.MANIFEST}"
    )


@batch_group.command(name="run")
@_JOB
@settings_options("base_url", "timeout")
@click.option("-j", "--concurrency", type=click.IntRange(min=1), default=1, show_default=True)
def batch_run(job: Path, settings: config.Settings, concurrency: int) -> None:
    """Send the job's requests one by one to a server, writing JOB/results.jsonl (what
    `vllm run-batch` does). Interrupted, it sends only what has no result yet."""
    console = Console(stderr=True)
    sent = batch.run(job, settings, concurrency=concurrency, backend=lambda s: _backend(s, console))
    click.echo(
        f"{runner.counted(sent.requests, 'request')} sent ({sent.failed} failed, "
        f"{sent.skipped} already answered) "
        f"in {sent.seconds:.1f}s -> {job / batch.RESULTS}"
    )
    sys.exit(EXIT_SOME_FAILED if sent.failed else EXIT_OK)


@batch_group.command(name="submit")
@_JOB
@settings_options("base_url")
def batch_submit(job: Path, settings: config.Settings) -> None:
    """Upload JOB/requests.jsonl to the OpenAI Batch API (or the one --base-url names) and
    start the batch."""
    state = batch.submit(job, settings)
    click.echo(f"submitted batch {state['batch_id']} (file {state['input_file_id']})")


@batch_group.command(name="status")
@_JOB
@settings_options("base_url")
def batch_status(job: Path, settings: config.Settings) -> None:
    """Show how far the submitted batch is (on the OpenAI Batch API, or the one --base-url
    names)."""
    click.echo(batch.status(job, settings).line())


@batch_group.command(name="fetch")
@_JOB
@settings_options("base_url")
def batch_fetch(job: Path, settings: config.Settings) -> None:
    """Download the finished batch's results to JOB/results.jsonl (errors to JOB/errors.jsonl)
    from the OpenAI Batch API, or the one --base-url names."""
    current = batch.fetch(job, settings)
    click.echo(f"{current.line()} -> {job / batch.RESULTS}")


@batch_group.command(name="collect", keeps_partial=True)
@click.argument("results", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The job's manifest.json [default: next to RESULTS].",
)
@click.option(
    "-o", "--output", default="-", show_default=True, help="JSONL file to write; - for stdout."
)
def batch_collect(results: Path, manifest: Path | None, output: str) -> None:
    """Turn a result file into validated, grounded records, as the online path does.

    Articles whose requests failed or have no result get no record; they are listed, with the
    command that extracts them online, and written to rerun.txt next to RESULTS. Exit status:
    0 when every article has an error-free record, 1 otherwise, 2 on a usage error.
    """
    listing = results.parent / "rerun.txt"
    collected = batch.collect(results, manifest or results.parent / batch.MANIFEST)
    out = runner.Output(output)
    with out.claimed([str(results)]):
        with out:
            for index, record in enumerate(collected.records):
                out.append(index, record)
        out.complete(collected.records)
    if collected.rerun:
        files.write_atomic(listing, "".join(f"{s}\n" for s, _ in collected.rerun))
    failed = sum(r.error is not None for r in collected.records)
    meter = collected.meter
    click.echo(
        f"{len(collected.records)} records ({failed} with an error), "
        f"{meter.total_tokens:,} tokens in {meter.requests} results"
        + ("" if output == "-" else f" -> {output}"),
        err=True,
    )
    if not collected.rerun:
        sys.exit(EXIT_SOME_FAILED if failed else EXIT_OK)
    click.echo(f"{len(collected.rerun)} articles to extract online:", err=True)
    for source, why in collected.rerun:
        click.echo(f"  {source}: {why}", err=True)
    click.echo(f"their paths are in {listing}; run:", err=True)
    click.echo(f"  {batch.rerun_command(listing, collected.settings)}", err=True)
    if ":***@" in (collected.settings.base_url or ""):
        click.echo("  (the server's password in place of ***: the job does not keep it)", err=True)
    sys.exit(EXIT_SOME_FAILED)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of one output record."""
    click.echo(schema_text(), nl=False)


@cli.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@settings_options("gguf")
def serve(port: int, host: str, settings: config.Settings) -> None:
    """Run the embedded model server on its own until interrupted (Ctrl-C stops it, exit 0)."""
    with suppress(KeyboardInterrupt), embedded.serve(settings.gguf, port=port, host=host) as url:
        click.echo(f"serving {config.EMBEDDED_MODEL} at {url} (Ctrl-C stops)", err=True)
        click.echo(f"use it with: extractor extract --base-url {url} --mode llamacpp ...", err=True)
        while True:
            time.sleep(3600)


def main() -> None:
    cli(prog_name="extractor")
