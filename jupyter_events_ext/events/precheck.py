"""Prechecks: fast predicates that say "certainly valid" for the events schemas usually describe.

A precheck is compiled once per schema from the subset of Draft 7 that event schemas
use (type, properties, required, additionalProperties, items, enum, const, format,
lengths, pattern, bounds, if/then/else). It returns ``True`` only for an instance that jsonschema
would accept, and ``False`` whenever it is not sure, in which case the caller runs
jsonschema itself, which either accepts the instance or raises its own
``ValidationError``. So a precheck can make validation faster, but never different:

    valid(x) == precheck(x) or jsonschema_valid(x)

which holds as long as ``precheck(x)`` implies ``jsonschema_valid(x)``. To keep that
obviously true, every rule below is conservative: exact built-in types only (``dict``
but not a ``Mapping``, ``int`` but not a float that happens to be integral), and a
schema using any validating keyword outside the subset (``$ref``, ``anyOf``, ...)
gets no precheck at all. ``tests/events/test_precheck.py`` checks the implication
with hypothesis on every schema in the test suite, formats included.
"""

from __future__ import annotations

import re
from typing import Any, Callable

Precheck = Callable[[Any], bool]

# Keywords outside this set that jsonschema acts on send the schema to jsonschema alone;
# keywords jsonschema does not act on (title, version, ...) are ignored by both.
_SUPPORTED = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "format",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "if",
        "then",
        "else",
    }
)

# The exact Python types a JSON Schema type name certainly covers in jsonschema.
_EXACT_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "object": (dict,),
    "array": (list,),
}
# Exact types jsonschema certainly does not count as a given type name: lets keywords
# that only apply to, say, strings wave through other JSON values.
_JSON_TYPES = frozenset({str, int, float, bool, type(None), dict, list})


class Unsupported(Exception):
    """The schema uses a keyword outside the precheck subset."""


def compile_precheck(
    schema: Any,
    *,
    keywords: frozenset[str],
    format_checkers: dict[str, Callable[[Any], Any]],
) -> Precheck | None:
    """Compile ``schema`` into a precheck, or return ``None`` if it is outside the subset.

    ``keywords`` are the keywords that the jsonschema validator class acts on (its
    ``VALIDATORS``); any other key is ignored by jsonschema and so by the precheck.
    ``format_checkers`` maps format names to the format checker's own functions, so
    formats are decided by exactly the code jsonschema would run.
    """
    try:
        return _Compiler(keywords, format_checkers).compile(schema)
    except Unsupported:
        return None


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


class _Compiler:
    def __init__(self, keywords: frozenset[str], format_checkers: dict[str, Callable]) -> None:
        self.keywords = keywords
        self.format_checkers = format_checkers

    def compile(self, schema: Any) -> Precheck:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if type(schema) is not dict:
            raise Unsupported
        checks: list[Precheck] = []
        for keyword in schema:
            if keyword in self.keywords and keyword not in _SUPPORTED:
                raise Unsupported(keyword)
        # "type": "object" with object keywords, an event schema's usual top: the object
        # check refuses what is not a dict itself, so no separate type check runs.
        only_objects = schema.get("type") == "object"
        object_check = self._object(schema, only_objects=only_objects)
        if "type" in schema and not (only_objects and object_check is not None):
            checks.append(self._type(schema["type"]))
        if "enum" in schema:
            checks.append(_enum(schema["enum"]))
        if "const" in schema:
            checks.append(_enum([schema["const"]]))
        if object_check is not None:
            checks.append(object_check)
        if "items" in schema or "minItems" in schema or "maxItems" in schema:
            checks.append(self._array(schema))
        string_check = self._string(schema)
        if string_check is not None:
            checks.append(string_check)
        if "minimum" in schema or "maximum" in schema:
            checks.append(_bounds(schema.get("minimum"), schema.get("maximum")))
        if "if" in schema:
            checks.append(self._conditional(schema))
        return _all(checks)

    def _conditional(self, schema: dict[str, Any]) -> Precheck:
        try:
            if_check = self.compile(schema["if"])
        except Unsupported:
            # "if" only chooses a branch; never sure which, we require both.
            if_check = _never
        then_check = self.compile(schema.get("then", True))
        else_check = self.compile(schema.get("else", True))

        def check_conditional(value: Any) -> bool:
            # Unsure whether "if" holds? Then both branches must.
            if if_check(value):
                return then_check(value)
            return then_check(value) and else_check(value)

        return check_conditional

    def _type(self, names: Any) -> Precheck:
        allowed = _exact_types(names)
        return lambda value: type(value) in allowed

    def _object(self, schema: dict[str, Any], *, only_objects: bool = False) -> Precheck | None:
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        additional = schema.get("additionalProperties", True)
        if not properties and not required and additional is True:
            return None
        if type(properties) is not dict or type(required) is not list:
            raise Unsupported
        # A property whose schema only constrains the type is checked inline: no call.
        typed: list[tuple[str, frozenset[type]]] = []
        general: list[tuple[str, Precheck]] = []
        for name, subschema in properties.items():
            constraint = _type_only(subschema, self.keywords)
            if constraint is not None:
                typed.append((name, constraint))
            else:
                general.append((name, self.compile(subschema)))
        required_names = tuple(required)
        known = frozenset(properties)
        extra_check = None if additional is True else self.compile(additional)
        missing = object()

        def check_object(value: Any) -> bool:
            kind = type(value)
            if kind is not dict:
                # jsonschema skips object keywords for non-objects; a dict subclass is
                # an object to jsonschema but not certainly one to us.
                return not only_objects and kind in _JSON_TYPES
            for name in required_names:
                if name not in value:
                    return False
            for name, allowed in typed:
                item = value.get(name, missing)
                if item is not missing and type(item) not in allowed:
                    return False
            for name, check in general:
                item = value.get(name, missing)
                if item is not missing and not check(item):
                    return False
            if extra_check is not None:
                for name in value:
                    if name not in known and not extra_check(value[name]):
                        return False
            return True

        return check_object

    def _array(self, schema: dict[str, Any]) -> Precheck:
        items = schema.get("items", True)
        if type(items) is list:
            raise Unsupported("items")
        item_check = self.compile(items)
        min_items = schema.get("minItems", 0)
        max_items = schema.get("maxItems")

        def check_array(value: Any) -> bool:
            kind = type(value)
            if kind is not list:
                return kind in _JSON_TYPES
            if len(value) < min_items or (max_items is not None and len(value) > max_items):
                return False
            return all(item_check(item) for item in value)

        return check_array

    def _string(self, schema: dict[str, Any]) -> Precheck | None:
        checks: list[Precheck] = []
        if "minLength" in schema or "maxLength" in schema:
            low, high = schema.get("minLength", 0), schema.get("maxLength")
            checks.append(lambda s: len(s) >= low and (high is None or len(s) <= high))
        if "pattern" in schema:
            # jsonschema matches with re.search; so do we.
            search = re.compile(schema["pattern"]).search
            checks.append(lambda s: search(s) is not None)
        if "format" in schema and schema["format"] in self.format_checkers:
            checks.append(_format(self.format_checkers[schema["format"]]))
        if not checks:
            return None
        string_check = _all(checks)

        def check_string(value: Any) -> bool:
            kind = type(value)
            if kind is not str:
                return kind in _JSON_TYPES and not _format_applies_to_non_strings(schema)
            return string_check(value)

        return check_string


def _type_only(subschema: Any, keywords: frozenset[str]) -> frozenset[type] | None:
    """The allowed exact types if ``subschema`` validates nothing but ``type``."""
    if type(subschema) is not dict or "type" not in subschema:
        return None
    if any(k in keywords and k != "type" for k in subschema):
        return None
    return _exact_types(subschema["type"])


def _exact_types(names: str | list[str]) -> frozenset[type]:
    """The exact Python types certainly covered by a ``type`` keyword's name or names."""
    if isinstance(names, str):
        names = [names]
    exact: tuple[type, ...] = ()
    for name in names:
        exact += _EXACT_TYPES.get(name, ())
    return frozenset(exact)


def _format_applies_to_non_strings(schema: dict[str, Any]) -> bool:
    # Every Draft 7 format checker passes non-strings, except that jsonschema has no
    # such guarantee for formats registered by users; those stay with jsonschema.
    return "format" in schema and schema["format"] not in _STRING_ONLY_FORMATS


_STRING_ONLY_FORMATS = frozenset(
    {
        "date",
        "date-time",
        "email",
        "hostname",
        "idn-email",
        "idn-hostname",
        "ipv4",
        "ipv6",
        "iri",
        "iri-reference",
        "json-pointer",
        "regex",
        "relative-json-pointer",
        "time",
        "uri",
        "uri-reference",
        "uri-template",
        "duration",
        "uuid",
        "color",
    }
)


def _format(checker: Callable[[Any], Any]) -> Precheck:
    def check_format(value: str) -> bool:
        try:
            return bool(checker(value))
        except Exception:  # jsonschema decides what the failure means
            return False

    return check_format


def _enum(members: list[Any]) -> Precheck:
    # jsonschema compares with its own equal(), where True != 1; we only decide for
    # strings, None and exact numbers, and leave everything else to it.
    strings = frozenset(m for m in members if type(m) is str)
    numbers = [m for m in members if type(m) in (int, float)]
    has_null = any(m is None for m in members)

    def check_enum(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return value in strings
        if kind is int or kind is float:
            return any(value == m for m in numbers)
        return value is None and has_null

    return check_enum


def _bounds(minimum: Any, maximum: Any) -> Precheck:
    def check_bounds(value: Any) -> bool:
        kind = type(value)
        if kind is int or kind is float:
            return (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
        return kind in _JSON_TYPES

    return check_bounds


def _all(checks: list[Precheck]) -> Precheck:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    checks_tuple = tuple(checks)
    return lambda value: all(check(value) for check in checks_tuple)
