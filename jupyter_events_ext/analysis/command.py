"""The ``export`` command: ``jupyter events-ext export SOURCE... --format ... --output PATH``.

Only click is imported here; the engine loads when the command runs, so that
``jupyter events-ext --help`` stays instant and works without the ``[analysis]`` extra.
"""

from __future__ import annotations

import pathlib
import sys
from typing import Any

import click

from ..events.exit_code import ExitCode
from .columns import FORMATS

_LABEL_CHARS = 40
# The most of an argument echoed back in a message.
_SHOWN_CHARS = 120


class _ProgressBars:
    """One click progress bar per source while reading, one while writing; on a terminal only."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None

    def start(self, name: str, size: int | None) -> None:
        if not self.enabled:
            return
        label = name if len(name) <= _LABEL_CHARS else "…" + name[-(_LABEL_CHARS - 1) :]
        self.bar = click.progressbar(
            length=max(size or 0, 1), label=label, file=sys.stderr, show_eta=True
        )
        self.bar.__enter__()

    def advance(self, amount: int) -> None:
        if self.bar is not None:
            self.bar.update(amount)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("export")
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="parquet",
    show_default=True,
    help="The tables' file format.",
)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(path_type=pathlib.Path),
    help="The directory to create, one file per schema version in it (must not exist or be empty).",
)
@click.option(
    "--schema",
    "schemas",
    multiple=True,
    metavar="ID",
    help="Keep only events of this schema $id (repeat for several). Default: every schema.",
)
@click.option("--since", metavar="T", help="Keep events at or after T (ISO 8601; UTC if no zone).")
@click.option("--until", metavar="T", help="Keep events before T (ISO 8601; UTC if no zone).")
def export(
    sources: tuple[str, ...],
    fmt: str,
    output: pathlib.Path,
    schemas: tuple[str, ...],
    since: str | None,
    until: str | None,
) -> None:
    """Export recorded events to tables for analysis, one per schema version.

    SOURCE is a JSON-lines event file (rotated and gzipped ones too, such as
    events.jsonl.1 or events.jsonl.2.gz), a directory (its events*.jsonl* files: every
    server's default sink in ~/.local/share/jupyter/jupyter_events_ext) or a Redis
    stream, redis://host:port/db#stream.
    Bad lines are counted and reported, never fatal. Needs the [analysis] extra.
    """
    from .errors import AnalysisError, MissingExtraError, SourceNotFound
    from .export import export_events
    from .filters import EventFilter

    try:
        EventFilter.make(schemas, since, until)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None
    try:
        summary = export_events(
            sources,
            output,
            format=fmt,
            schema=schemas,
            since=since,
            until=until,
            progress=_ProgressBars(sys.stderr.isatty()),
        )
    except SourceNotFound as err:
        click.secho(f"ERROR: {err}", fg="red", err=True)
        sys.exit(ExitCode.NOT_FOUND)
    except (MissingExtraError, AnalysisError) as err:
        raise click.ClickException(str(err)) from None

    lines = summary.lines
    events = sum(table.rows for table in summary.tables)
    click.echo(
        f"Wrote {events:,} event{'s' if events != 1 else ''} in {len(summary.tables)} "
        f"table{'s' if len(summary.tables) != 1 else ''} to {output}/ ({fmt})"
        + (":" if summary.tables else ".")
    )
    width = max((len(table.file) for table in summary.tables), default=0)
    for table in summary.tables:
        click.echo(f"  {table.file:<{width}}  {table.rows:>12,} rows")
    filtered = lines.by_kind.get("filtered", 0)
    click.echo(
        f"{filtered:,} event{'s' if filtered != 1 else ''} filtered out; {lines.describe_bad()}."
    )
    found = {table.schema for table in summary.tables}
    for schema_id in schemas:
        if schema_id not in found:
            shown = schema_id if len(schema_id) <= _SHOWN_CHARS else schema_id[:_SHOWN_CHARS] + "…"
            click.secho(f"No events of --schema {shown!r} were found.", fg="yellow", err=True)
    if lines.bad:
        click.secho(f"Skipped {lines.describe_bad()}, for example:", fg="yellow", err=True)
        for example in lines.examples:
            click.echo(f"  {example}", err=True)
        click.echo(f"(all counts are in {output / 'manifest.json'})", err=True)
