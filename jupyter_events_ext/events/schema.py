"""Event schemas: loaded, checked against the event meta-schema and compiled once."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path, PurePath
from typing import IO, Any, Union

from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT7

from . import yaml
from .errors import (
    EventSchemaFileAbsent,
    EventSchemaLoadingError,
    EventSchemaUnrecognized,
    EventSchemaUnresolvableRef,
)
from .precheck import compile_precheck
from .validators import draft7_format_checker, validate_schema

SchemaType = Union[dict[str, Any], str, PurePath]

__all__ = [
    "EventSchema",
    "EventSchemaFileAbsent",
    "EventSchemaLoadingError",
    "EventSchemaUnrecognized",
    "SchemaType",
    "load_schema",
    "parse_schema_text",
    "read_schema_file",
    "read_schema_url",
    "schema_files",
]


SCHEMA_SUFFIXES = (".json", ".yaml", ".yml")
# Bounds of a schema download: the whole of it, in seconds, and its size, in bytes.
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 1024 * 1024


def load_schema(schema: SchemaType) -> dict[str, Any]:
    """Read a schema given as a dict, a JSON/YAML string or a path to a JSON/YAML file.

    A ``str`` is always parsed as the schema itself; wrap file names in ``pathlib.Path``.
    """
    if isinstance(schema, dict):
        return schema
    if isinstance(schema, PurePath):
        return read_schema_file(schema)
    if isinstance(schema, str):
        return _ensure_dict(parse_schema_text(schema), source=schema)
    msg = (
        "Expected a dictionary, string, or PurePath, but instead received "
        f"{schema.__class__.__name__}."
    )
    raise EventSchemaUnrecognized(msg)


def parse_schema_text(text: str, *, source: object = None) -> Any:
    """Parse JSON or YAML text; ``EventSchemaLoadingError`` names ``source`` if it fails."""
    try:
        return yaml.loads(text)
    except yaml.yaml.YAMLError as err:
        where = f" {source}" if source is not None else ""
        raise EventSchemaLoadingError(f"Could not parse schema{where}: {err}") from err


def read_schema_file(file: str | os.PathLike[str] | IO[str]) -> dict[str, Any]:
    """Read the JSON or YAML schema in ``file``, a path or an open text file."""
    if not isinstance(file, (str, os.PathLike)):
        return _ensure_dict(parse_schema_text(file.read()))
    path = Path(file)
    if not path.is_file():
        raise EventSchemaFileAbsent(f'Schema file not present at path "{file}".')
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise EventSchemaLoadingError(f"Could not parse schema file {file}: {err}") from err
    return _ensure_dict(parse_schema_text(text, source=f"file {file}"))


def read_schema_url(
    url: str, *, timeout: float | None = None, max_bytes: int | None = None
) -> dict[str, Any]:
    """Download and read the JSON or YAML schema at the http(s) ``url``.

    The whole download must end within ``timeout`` seconds (None: 10) and hold at most
    ``max_bytes`` (None: 1 MiB); any failure raises ``EventSchemaFetchError``.
    """
    # Imported here: urllib.request is slow to import and most programs never fetch.
    from .download import download_schema

    text = download_schema(
        url,
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        max_bytes=DEFAULT_MAX_BYTES if max_bytes is None else max_bytes,
    )
    return _ensure_dict(parse_schema_text(text, source=url))


def schema_files(path: Path) -> list[Path]:
    """``path`` itself, or every JSON/YAML file under the directory ``path``, sorted."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in SCHEMA_SUFFIXES and p.is_file())
    return [path]


def _ensure_dict(loaded: Any, source: str | None = None) -> dict[str, Any]:
    if isinstance(loaded, dict):
        return loaded
    msg = "Could not deserialize schema into a dictionary."
    if source is not None and PurePath(source).suffix in SCHEMA_SUFFIXES:
        msg += " Paths to schema files must be explicitly wrapped in a Pathlib object."
    else:
        msg += " Double check the schema and ensure it is in the proper form."
    raise EventSchemaLoadingError(msg)


class EventSchema:
    """A validated event schema with its validator compiled.

    Parameters
    ----------
    schema
        A dict, a JSON/YAML string, or a ``pathlib`` path to a JSON/YAML file. It is
        copied, so later changes to the caller's dict have no effect.
    validator_class
        The jsonschema validator class events are validated with (Draft 7 by default).
    format_checker
        The format checker; formats are always checked.
    registry
        A ``referencing.Registry`` holding the resources ``$ref`` may point to. Remote
        references are never fetched: a ``$ref`` that resolves nowhere is an error here.
    strict
        ``False`` accepts what jupyter_events 0.1.0 accepted: any URI reference as
        ``$id`` and an integer ``version`` without a warning.

    Raises ``jsonschema.ValidationError`` if the schema is not a valid event schema.
    """

    def __init__(
        self,
        schema: SchemaType,
        validator_class: type[Any] = Draft7Validator,
        format_checker: FormatChecker = draft7_format_checker,
        registry: Registry[Any] | None = None,
        *,
        strict: bool = True,
    ) -> None:
        _schema = copy.deepcopy(load_schema(schema))
        validate_schema(_schema, strict=strict, validator_class=validator_class)
        resource = DRAFT7.create_resource(_schema)
        registry = resource @ (registry if registry is not None else Registry())
        _check_refs(_schema, registry)
        self._schema = _schema
        self._validator = validator_class(_schema, registry=registry, format_checker=format_checker)
        self._precheck = (
            compile_precheck(
                _schema,
                keywords=frozenset(validator_class.VALIDATORS),
                format_checkers={name: fn for name, (fn, _) in format_checker.checkers.items()},
            )
            # The precheck replicates Draft 7 semantics only.
            if validator_class is Draft7Validator and format_checker is not None
            else None
        )

    def __repr__(self) -> str:
        return json.dumps(self._schema, indent=2)

    @property
    def id(self) -> str:
        """The schema's ``$id``."""
        return self._schema["$id"]  # type: ignore[no-any-return]

    @property
    def version(self) -> str:
        """The schema's version, always a string."""
        return self._schema["version"]  # type: ignore[no-any-return]

    @property
    def properties(self) -> dict[str, Any]:
        """The schema's ``properties``."""
        return self._schema["properties"]  # type: ignore[no-any-return]

    @property
    def schema(self) -> dict[str, Any]:
        """The schema document itself (do not modify it)."""
        return self._schema

    def validate(self, data: Any) -> None:
        """Raise ``jsonschema.ValidationError`` unless ``data`` is a valid event."""
        precheck = self._precheck
        if precheck is None or not precheck(data):
            self._validator.validate(data)

    # jupyter_events' CLI reached for this private name; keep it for scripts that copied it.
    _load_schema = staticmethod(load_schema)


def _check_refs(schema: dict[str, Any], registry: Registry[Any]) -> None:
    """Resolve every ``$ref`` now, from local resources only, rather than at the first emit."""
    resolver = registry.resolver(base_uri=schema["$id"])
    for ref in _refs(schema, is_root=True):
        try:
            resolver.lookup(ref)
        except Unresolvable as err:
            msg = (
                f"Schema {schema['$id']!r} refers to {ref!r}, which is not among the schemas "
                "known locally; remote references are never fetched. Pass a "
                "referencing.Registry holding it."
            )
            raise EventSchemaUnresolvableRef(msg) from err


def _refs(node: Any, *, is_root: bool = False) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        if not is_root and "$id" in node:
            # A nested $id changes the base URI; jsonschema resolves below it at emit.
            return found
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.append(ref)
        for key, value in node.items():
            if key not in ("enum", "const", "default", "examples"):
                found.extend(_refs(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_refs(item))
    return found
