"""jupyter_events' command, ``validate``, as the drop-in has it.

The installed command, ``jupyter-events-ext`` (also ``jupyter events-ext``), is
``jupyter_events_ext.cli``: this ``validate`` and the project's own subcommands.
"""

from __future__ import annotations

import json
import pathlib
import sys

import click

from .. import __version__
from .exit_code import ExitCode

# jupyter_events' name for the exit codes.
RC = ExitCode

WIN = sys.platform.startswith("win")


class EMOJI:
    """Marks for results; plain text where the console may not render them."""

    X = "XX" if WIN else "\u274c"
    OK = "OK" if WIN else "\u2714"


@click.group()
@click.version_option(__version__, prog_name="jupyter-events-ext")
def main() -> None:
    """Validate event schemas."""


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
