"""The ``check-log`` command: checks a recorded JSON-lines event log against event schemas."""

from __future__ import annotations

import importlib.util
import json
import pathlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

import click

from .exit_code import ExitCode

if TYPE_CHECKING:
    from .schema_registry import SchemaRegistry


class LineProblem(NamedTuple):
    """Why line ``line_number`` (counting from 1) of a log is not a valid event."""

    line_number: int
    message: str


def check_lines(lines: Iterable[str], registry: SchemaRegistry) -> Iterator[LineProblem]:
    """Yield a problem for every line that is not the envelope of a valid, registered event.

    Blank lines are skipped. Each event is checked against the version of its schema
    named in its envelope.
    """
    from jsonschema import ValidationError

    from .errors import SchemaNotFound
    from .validators import JUPYTER_EVENTS_CORE_VALIDATOR

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            envelope = json.loads(line)
        except json.JSONDecodeError as err:
            yield LineProblem(number, f"not valid JSON: {err}")
            continue
        if not isinstance(envelope, dict):
            yield LineProblem(number, f"not a JSON object but {type(envelope).__name__}")
            continue
        errors = sorted(JUPYTER_EVENTS_CORE_VALIDATOR.iter_errors(envelope), key=str)
        if errors:
            yield LineProblem(number, f"envelope: {_describe(errors[0])}")
            continue
        schema_id, version = envelope["__schema__"], envelope["__schema_version__"]
        try:
            schema = registry.get(schema_id, version)
        except SchemaNotFound:
            yield LineProblem(number, f"{schema_id} version {version} is not registered")
            continue
        # Schemas may not declare "__" names, so such fields are taken as the envelope's:
        # its four fields or metadata such as the server extension's __id__ and __user__.
        data = {key: value for key, value in envelope.items() if not key.startswith("__")}
        try:
            schema.validate(data)
        except ValidationError as err:
            yield LineProblem(number, f"{schema_id} version {version}: {_describe(err)}")


def _describe(error: object) -> str:
    path = "/".join(str(part) for part in error.absolute_path)  # type: ignore[attr-defined]
    return f"{error.message} (at /{path})" if path else error.message  # type: ignore[attr-defined]


def jupyter_server_schema_dir() -> pathlib.Path | None:
    """Where the installed jupyter_server keeps its event schemas, found without importing it."""
    spec = importlib.util.find_spec("jupyter_server")
    if spec is None or not spec.submodule_search_locations:
        return None
    directory = pathlib.Path(next(iter(spec.submodule_search_locations))) / "event_schemas"
    return directory if directory.is_dir() else None


@click.command("check-log")
@click.argument("log", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "-s",
    "--schema",
    "schema_paths",
    multiple=True,
    type=click.Path(path_type=pathlib.Path),
    help="A JSON/YAML schema file, or a directory of them (searched recursively). Repeatable.",
)
@click.option(
    "--jupyter-server-schemas",
    is_flag=True,
    help="Also register the event schemas shipped with the installed jupyter_server.",
)
@click.pass_context
def check_log(
    ctx: click.Context,
    log: str,
    schema_paths: tuple[pathlib.Path, ...],
    jupyter_server_schemas: bool,
) -> None:
    """Check that every line of LOG (a JSON-lines event log, or - for stdin) is a valid event.

    Every bad line is reported as LOG:LINE: reason. Exits 0 if all events are valid, 1 if
    any is not, 2 if a schema cannot be read, 3 if LOG or a schema path does not exist.
    """
    from jsonschema import ValidationError

    from .errors import EventSchemaLoadingError, SchemaRegistryException
    from .schema import EventSchema, schema_files
    from .schema_registry import SchemaRegistry

    paths = list(schema_paths)
    if jupyter_server_schemas:
        directory = jupyter_server_schema_dir()
        if directory is None:
            click.secho(
                "ERROR: jupyter_server (and its event schemas) not found", fg="red", err=True
            )
            ctx.exit(ExitCode.NOT_FOUND)
        paths.append(directory)
    if not paths:
        raise click.UsageError("Give at least one --schema, or --jupyter-server-schemas.")

    registry = SchemaRegistry()
    for path in paths:
        if not path.exists():
            click.secho(f"ERROR: schema path {path} does not exist", fg="red", err=True)
            ctx.exit(ExitCode.NOT_FOUND)
        for file in schema_files(path):
            try:
                # Logs may come from the 0.1.0 API, so its schema rules apply.
                registry.register(EventSchema(file, strict=False))
            except (EventSchemaLoadingError, SchemaRegistryException, ValidationError) as err:
                message = err.message if isinstance(err, ValidationError) else err
                click.secho(f"ERROR: schema {file}: {message}", fg="red", err=True)
                ctx.exit(ExitCode.UNPARSABLE)

    if log != "-" and not pathlib.Path(log).is_file():
        click.secho(f"ERROR: log file {log} does not exist", fg="red", err=True)
        ctx.exit(ExitCode.NOT_FOUND)
    total = bad = 0
    with click.open_file(log, encoding="utf-8", errors="replace") as stream:
        lines = _counted(stream)
        for problem in check_lines(lines, registry):
            bad += 1
            click.echo(f"{log}:{problem.line_number}: {problem.message}")
        total = lines.count
    summary = f"{bad} of {total} lines invalid" if bad else f"all {total} lines valid"
    click.secho(summary, fg="red" if bad else "green", err=True)
    ctx.exit(ExitCode.INVALID if bad else ExitCode.OK)


class _counted:
    """Iterates over lines, counting them."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self.count += 1
            yield line
