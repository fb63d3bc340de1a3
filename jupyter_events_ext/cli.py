"""The ``jupyter-events-ext`` command (also ``jupyter events-ext``).

``validate`` is jupyter_events' own command, which the drop-in keeps (``events/cli.py``);
every other subcommand lives in its own module, named in ``SUBCOMMANDS`` and imported
only when it runs or is listed, so that a command never pays for another's imports.
This module sits above the layers, as the package's entry points do: it may name any.
"""

from __future__ import annotations

import importlib

import click

from . import __version__
from .events.cli import validate

# Subcommand name -> "module:attribute" of its click command.
SUBCOMMANDS = {
    "check-log": "jupyter_events_ext.events.log_check:check_log",
    "export": "jupyter_events_ext.analysis.command:export",
    "tail": "jupyter_events_ext.sinks.tail:tail",
}


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


main.add_command(validate)

if __name__ == "__main__":
    main()
