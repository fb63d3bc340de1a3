"""The ``jupyter-events-ext`` command (also ``jupyter events-ext``).

``validate`` is jupyter_events' own command and lives here; every other subcommand
lives in its own module, named in ``SUBCOMMANDS`` and imported only when it runs or
is listed, so that a command never pays for another's imports.
"""

from __future__ import annotations

import importlib
import json
import pathlib
import sys

import click

from .. import __version__
from .exit_code import ExitCode

# Subcommand name -> "module:attribute" of its click command.
SUBCOMMANDS = {
    "check-log": "jupyter_events_ext.events.log_check:check_log",
    "export": "jupyter_events_ext.analysis.command:export",
    "tail": "jupyter_events_ext.sinks.tail:tail",
}

# jupyter_events' name for the exit codes.
RC = ExitCode

WIN = sys.platform.startswith("win")


class EMOJI:
    """Marks for results; plain text where the console may not render them."""

    X = "XX" if WIN else "\u274c"
    OK = "OK" if WIN else "\u2714"


class _LazyGroup(click.Group):
    """A click group that imports each of ``SUBCOMMANDS`` when it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *SUBCOMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in SUBCOMMANDS:
            module, _, attribute = SUBCOMMANDS[cmd_name].partition(":")
            return getattr(importlib.import_module(module), attribute)  # type: ignore[no-any-return]
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup)
@click.version_option(__version__, prog_name="jupyter-events-ext")
def main() -> None:
    """Validate event schemas, check and export recorded events, follow a Redis event stream."""


@main.command()
@click.argument("schema")
@click.pass_context
def validate(ctx: click.Context, schema: str) -> None:
    """Validate a SCHEMA against the event meta-schema.

    SCHEMA is a JSON/YAML string or the path to a JSON/YAML schema file. Exits 0 if
    the schema is valid, 1 if it is not, 2 if it cannot be read.
    """
    from jsonschema import ValidationError

    from .errors import EventSchemaFileAbsent, EventSchemaLoadingError
    from .schema import EventSchema, load_schema

    click.secho("Validating the following schema", fg="blue", bold=True)
    try:
        loaded = load_schema(schema)
    except EventSchemaLoadingError:
        try:
            loaded = load_schema(pathlib.Path(schema))
        except (EventSchemaLoadingError, EventSchemaFileAbsent) as err:
            click.secho(f"ERROR: {err}", fg="red", err=True)
            ctx.exit(RC.UNPARSABLE)
    click.echo(json.dumps(loaded, indent=2))
    try:
        EventSchema(loaded)
    except ValidationError as err:
        click.secho(f"{EMOJI.X} The schema failed to validate.", fg="red", err=True)
        click.echo("\nWe found the following error with your schema:\n", err=True)
        click.echo(str(err), err=True)
        ctx.exit(RC.INVALID)
    click.secho(f"{EMOJI.OK} Nice work! This schema is valid.", fg="green")
    ctx.exit(RC.OK)


if __name__ == "__main__":
    main()
