"""Declarative redaction: rules that drop, mask or hash parts of events before any handler
or listener sees them.

A policy is a list of rules, each a dict::

    {"path": "args.*.path", "action": "hash"}
    {"key": "(?i)password|token", "action": "drop"}
    {"value": "[\\w.+-]+@[\\w-]+\\.[\\w.]+", "action": "mask", "mask": "<email>"}
    {"path": "cells[*].source", "action": "mask", "schemas": ["https://example.org/cells/v1"]}

- One matcher per rule. ``path``: a property path in the event data, names separated by
  ``.``, ``*`` for every key (or every item), ``[*]`` for every item of an array, ``[N]``
  for one item. ``key``: a regular expression searched in every key name, at any depth.
  ``value``: a regular expression searched in every string value, at any depth. Regular
  expressions run in linear time (RE2, see ``patterns.py``): no lookaround or
  backreference.
- ``action``: ``drop`` removes the matched property (or array item); ``mask`` replaces
  strings with ``mask`` (default ``"[redacted]"``); ``hash`` replaces strings with the
  hex HMAC-SHA256 of their UTF-8 bytes under the policy's secret, so that equal values
  stay equal (and joinable) without being readable. For ``path`` and ``key`` rules, mask
  and hash replace every string in the matched value (in objects and arrays too) and
  leave numbers, booleans and null as they are: they never change a value's type. For
  ``value`` rules they replace only the matched part of the string.
- ``schemas``: the ``$id``\\ s the rule applies to. Default: every schema.

Rules apply in order, path rules first, to the event's data; the envelope's own fields
(``__timestamp__``, ``__schema__``, ``__user__``, ``__id__``, ...) are never touched.
A policy is compiled once, and per schema once more into a ``Redactor`` (or None, when no
rule applies to that schema), which returns new containers only where it changes
something: the data it is given is never modified.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Callable

from .errors import RedactionPolicyError
from .patterns import LinearPattern, PatternError

__all__ = ["DEFAULT_MASK", "RedactionPolicy", "Redactor", "read_secret"]

DEFAULT_MASK = "[redacted]"
ACTIONS = ("drop", "mask", "hash")
MATCHERS = ("path", "key", "value")
RULE_FIELDS = frozenset({*MATCHERS, "action", "mask", "schemas"})

# A path step that matches every key of an object and every item of an array.
ANY = object()
# What an action returns for a value that must go.
DROP = object()
# How many key names a Redactor remembers the matching key rules of: names repeat from
# event to event, but a schema may allow any key, so the memory is bounded.
KEY_CACHE_SIZE = 4096

Action = Callable[[Any], Any]

_PATH_SEGMENT = re.compile(r"([^.\[\]]+)((?:\[(?:\*|-?\d+)\])*)")
_PATH_INDEX = re.compile(r"\[(\*|-?\d+)\]")


def read_secret(secret: bytes | str | None, secret_file: str | None) -> bytes | None:
    """The key for ``hash``: ``secret`` (a str is UTF-8 encoded), or the content of
    ``secret_file`` without its trailing newline. None when neither is given.

    Raises ``RedactionPolicyError`` when both are given, the file cannot be read, or the
    secret is empty.
    """
    if secret is not None and secret_file is not None:
        raise RedactionPolicyError(
            "give the redaction secret or the file that holds it (redaction_secret_file), not both"
        )
    if secret_file is not None:
        try:
            secret = Path(secret_file).read_bytes().rstrip(b"\r\n")
        except OSError as err:
            raise RedactionPolicyError(
                f"cannot read the redaction secret file {secret_file!r}: {err.strerror or err}"
            ) from None
        where = f"the redaction secret file {secret_file!r}"
    else:
        where = "the redaction secret"
    if secret is None:
        return None
    if isinstance(secret, str):
        secret = secret.encode()
    if not isinstance(secret, bytes):
        raise RedactionPolicyError(
            f"the redaction secret must be bytes or str, not {type(secret).__name__}"
        )
    if not secret:
        raise RedactionPolicyError(f"{where} is empty")
    return secret


class _Rule:
    """One rule, checked and compiled."""

    __slots__ = ("action", "matcher", "pattern", "schemas", "steps")

    def __init__(self, index: int, rule: Any, secret: bytes | None) -> None:
        where = f"redaction rule {index}"
        if not isinstance(rule, Mapping):
            raise RedactionPolicyError(
                f"{where} must be a dict such as {{'path': 'args.*.path', 'action': 'hash'}}, "
                f"not {type(rule).__name__}"
            )
        unknown = sorted(str(name) for name in set(rule) - RULE_FIELDS)
        if unknown:
            raise RedactionPolicyError(
                f"{where} has unknown field(s) {', '.join(map(repr, unknown))}; a rule has "
                f"one of {', '.join(MATCHERS)}, an action, and optionally mask and schemas"
            )
        matchers = [name for name in MATCHERS if name in rule]
        if len(matchers) != 1:
            raise RedactionPolicyError(
                f"{where} must have exactly one of 'path', 'key' or 'value', "
                f"not {len(matchers)}" + (f" ({', '.join(matchers)})" if matchers else "")
            )
        self.matcher = matcher = matchers[0]
        spec = rule[matcher]
        if not isinstance(spec, str) or not spec:
            raise RedactionPolicyError(f"{where}: {matcher!r} must be a non-empty string")
        self.steps: tuple[Any, ...] = ()
        self.pattern: LinearPattern | None = None
        if matcher == "path":
            self.steps = parse_path(spec, where)
        else:
            try:
                self.pattern = LinearPattern(spec)
            except PatternError as err:
                raise RedactionPolicyError(
                    f"{where}: {matcher!r} {spec!r} is not a regular expression that runs "
                    f"in linear time: {err}"
                ) from None

        action = rule.get("action")
        if action not in ACTIONS:
            raise RedactionPolicyError(
                f"{where}: 'action' must be one of {', '.join(ACTIONS)}, not {action!r}"
            )
        if "mask" in rule and action != "mask":
            raise RedactionPolicyError(f"{where}: 'mask' is only for action 'mask'")
        mask = rule.get("mask", DEFAULT_MASK)
        if not isinstance(mask, str):
            raise RedactionPolicyError(
                f"{where}: 'mask' must be a string, not {type(mask).__name__}"
            )
        if action == "hash" and secret is None:
            raise RedactionPolicyError(
                f"{where} hashes, which needs a secret: set redaction_secret or "
                "redaction_secret_file"
            )

        schemas = rule.get("schemas")
        if schemas is not None and (
            isinstance(schemas, str)
            or not isinstance(schemas, Sequence)
            or not all(isinstance(s, str) and s for s in schemas)
        ):
            raise RedactionPolicyError(
                f"{where}: 'schemas' must be a list of schema $ids, not {schemas!r}"
            )
        self.schemas = None if schemas is None else frozenset(schemas)
        self.action = _action(action, matcher, self.pattern, mask, secret)


def parse_path(path: str, where: str = "path") -> tuple[Any, ...]:
    """The steps of a property path: names (str), ``ANY`` and array indices (int).

    ``args.*.path`` → ("args", ANY, "path"); ``cells[*].source`` → ("cells", ANY,
    "source"). Raises ``RedactionPolicyError`` if it is malformed.
    """
    steps: list[Any] = []
    for segment in path.split("."):
        match = _PATH_SEGMENT.fullmatch(segment)
        if match is None:
            raise RedactionPolicyError(
                f"{where}: path {path!r} is malformed at {segment!r}: write names separated "
                "by '.', '*' for any key, '[*]' or '[N]' for array items "
                "(e.g. 'args.*.path', 'cells[*].source')"
            )
        name, indices = match.groups()
        steps.append(ANY if name == "*" else name)
        for index in _PATH_INDEX.findall(indices):
            steps.append(ANY if index == "*" else int(index))
    return tuple(steps)


def _action(
    action: str, matcher: str, pattern: LinearPattern | None, mask: str, secret: bytes | None
) -> Action:
    if action == "drop":
        return lambda value: DROP
    if action == "mask":
        replace: Callable[[str], str] = lambda text: mask  # noqa: E731
    else:
        # Keyed once; each value hashes a copy (a third cheaper than hmac.new every time).
        keyed = hmac.new(secret or b"", digestmod=hashlib.sha256)

        def replace(text: str) -> str:
            digest = keyed.copy()
            # surrogatepass: JSON can carry half a surrogate pair, which must hash too.
            digest.update(text.encode("utf-8", "surrogatepass"))
            return digest.hexdigest()

    if matcher == "value":
        assert pattern is not None
        sub = pattern.sub
        return lambda text: sub(replace, text)

    def on_strings(value: Any) -> Any:
        # Strings only: a number or a boolean keeps its type, so its schema still holds.
        if isinstance(value, str):
            return replace(value)
        if isinstance(value, dict):
            return {name: on_strings(item) for name, item in value.items()}
        if isinstance(value, list):
            return [on_strings(item) for item in value]
        return value

    return on_strings


class Redactor:
    """The rules of a policy that apply to one schema; call it on event data."""

    __slots__ = ("_inside", "_key_actions", "_key_rules", "_path_rules", "_value_rules")

    def __init__(self, rules: Sequence[_Rule]) -> None:
        # (the name, for a top-level property; the steps; the action)
        self._path_rules = tuple(
            (_top_level_name(r.steps), r.steps, r.action) for r in rules if r.matcher == "path"
        )
        self._key_rules = tuple((r.pattern, r.action) for r in rules if r.matcher == "key")
        self._value_rules = tuple((r.pattern, r.action) for r in rules if r.matcher == "value")
        # The values worth walking into: strings only when some rule looks at them.
        self._inside = (dict, list, str) if self._value_rules else (dict, list)
        self._key_actions: dict[str, tuple[Action, ...]] = {}

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` redacted; ``data`` itself when nothing matched. Never modifies ``data``."""
        given = data
        for name, steps, action in self._path_rules:
            if name is None:
                data = _at_path(data, steps, 0, action)
            elif name in data:  # the common case, made cheap: one property, no walk
                old = data[name]
                new = action(old)
                if new is not old:
                    if data is given:
                        data = dict(data)
                    if new is DROP:
                        del data[name]
                    else:
                        data[name] = new
        if self._key_rules or self._value_rules:
            data = self._walk(data)
        return data

    def _walk(self, node: Any) -> Any:
        if isinstance(node, str):
            for pattern, action in self._value_rules:
                if pattern.search(node):
                    node = action(node)
                    if node is DROP:
                        return DROP
            return node
        if isinstance(node, dict):
            changed: dict[str, Any] | None = None
            key_actions = self._key_actions
            for name, value in node.items():
                new = value
                actions = key_actions.get(name)
                if actions is None:
                    actions = self._actions_for_key(name)
                for action in actions:
                    new = action(new)
                    if new is DROP:
                        break
                if new is value and isinstance(value, self._inside):  # no key rule took it
                    new = self._walk(value)
                if new is not value:
                    if changed is None:
                        changed = dict(node)
                    if new is DROP:
                        del changed[name]
                    else:
                        changed[name] = new
            return node if changed is None else changed
        if isinstance(node, list):
            items = [self._walk(item) for item in node]
            if all(new is old for new, old in zip(items, node)):
                return node
            return [item for item in items if item is not DROP]
        return node

    def _actions_for_key(self, name: Any) -> tuple[Action, ...]:
        """The actions of the key rules that match ``name``, in order; remembered.

        A name that is not a string (a Python emitter's 1 or None) is matched as JSON
        will write it ("1", "null")."""
        text = name if isinstance(name, str) else json.dumps(name)
        actions = tuple(action for pattern, action in self._key_rules if pattern.search(text))
        if len(self._key_actions) < KEY_CACHE_SIZE:
            self._key_actions[name] = actions
        return actions


def _top_level_name(steps: tuple[Any, ...]) -> str | None:
    return steps[0] if len(steps) == 1 and isinstance(steps[0], str) else None


def _at_path(node: Any, steps: tuple[Any, ...], depth: int, action: Action) -> Any:
    """``node`` with ``action`` applied at ``steps[depth:]``; a new container only if
    something changed, ``DROP`` only from ``action``."""
    step = steps[depth]
    if isinstance(node, dict):
        if step is ANY:
            keys: Sequence[Any] = list(node)
        elif isinstance(step, str) and step in node:
            keys = (step,)
        else:
            return node
    elif isinstance(node, list):
        if step is ANY:
            keys = range(len(node))
        elif isinstance(step, int) and -len(node) <= step < len(node):
            keys = (step % len(node),)
        else:
            return node
    else:
        return node
    last = depth == len(steps) - 1
    changes: dict[Any, Any] = {}
    for key in keys:
        old = node[key]
        new = action(old) if last else _at_path(old, steps, depth + 1, action)
        if new is not old:
            changes[key] = new
    if not changes:
        return node
    if isinstance(node, dict):
        result = dict(node)
        for key, new in changes.items():
            if new is DROP:
                del result[key]
            else:
                result[key] = new
        return result
    return [
        changes.get(index, item)
        for index, item in enumerate(node)
        if changes.get(index) is not DROP
    ]


class RedactionPolicy:
    """A list of rules, checked and compiled; ``for_schema`` gives each schema's
    ``Redactor``.

    ``secret`` is the HMAC key for ``hash`` rules (see ``read_secret``). Raises
    ``RedactionPolicyError``, naming the rule and what is wrong, for a malformed policy.
    """

    def __init__(self, rules: Sequence[Mapping[str, Any]], secret: bytes | None = None) -> None:
        if isinstance(rules, (str, bytes, Mapping)) or not isinstance(rules, Sequence):
            raise RedactionPolicyError(
                f"redactions must be a list of rules, not {type(rules).__name__}"
            )
        self.rules = tuple(_Rule(index, rule, secret) for index, rule in enumerate(rules))
        self._redactors: dict[str, Redactor | None] = {}

    def __bool__(self) -> bool:
        return bool(self.rules)

    def for_schema(self, schema_id: str) -> Redactor | None:
        """The redactor of ``schema_id``'s events, or None if no rule applies to it."""
        try:
            return self._redactors[schema_id]
        except KeyError:
            pass
        rules = [r for r in self.rules if r.schemas is None or schema_id in r.schemas]
        redactor = self._redactors[schema_id] = Redactor(rules) if rules else None
        return redactor
