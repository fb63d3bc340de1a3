"""Declarative redaction on a real EventLogger, with real schemas and a real handler."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest
from jsonschema.exceptions import ValidationError
from traitlets.config import Config

from jupyter_events_ext.events import EventLogger
from jupyter_events_ext.events.errors import RedactionPolicyError
from jupyter_events_ext.events.redaction import RedactionPolicy, parse_path

SECRET = b"deployment-secret"

ACTION = {
    "$id": "https://example.org/action/v1",
    "version": "1",
    "type": "object",
    "properties": {
        "user": {"type": "string"},
        "count": {"type": "integer"},
        "note": {"type": "string"},
        "api_token": {"type": "string"},
        "args": {"type": "object"},
        "cells": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"source": {"type": "string"}, "n": {"type": "integer"}},
            },
        },
    },
    "required": ["user", "count"],
}
OTHER = {
    "$id": "https://example.org/other/v1",
    "version": "1",
    "type": "object",
    "properties": {"user": {"type": "string"}},
}


def digest(text: str) -> str:
    return hmac.new(SECRET, text.encode(), hashlib.sha256).hexdigest()


def make_logger(redactions: list[Any], **traits: Any) -> tuple[EventLogger, io.StringIO]:
    sink = io.StringIO()
    logger = EventLogger(
        handlers=[logging.StreamHandler(sink)],
        redactions=redactions,
        redaction_secret=traits.pop("redaction_secret", SECRET),
        **traits,
    )
    logger.register_event_schema(ACTION)
    logger.register_event_schema(OTHER)
    return logger, sink


def written(sink: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in sink.getvalue().splitlines()]


def emit(logger: EventLogger, data: dict[str, Any], schema: dict = ACTION) -> dict[str, Any]:
    return logger.emit(schema_id=schema["$id"], data=data)


# -- matching and actions -------------------------------------------------------------


def test_path_with_wildcards_hashes_with_the_secret():
    logger, sink = make_logger([{"path": "args.*.path", "action": "hash"}])
    data = {
        "user": "ada",
        "count": 1,
        "args": {"src": {"path": "/home/ada/a.ipynb"}, "dst": {"path": "b.ipynb", "n": 2}},
    }
    emit(logger, data)
    (event,) = written(sink)
    assert event["args"] == {
        "src": {"path": digest("/home/ada/a.ipynb")},
        "dst": {"path": digest("b.ipynb"), "n": 2},
    }
    assert event["user"] == "ada"
    # The caller's data is left as it was.
    assert data["args"]["src"]["path"] == "/home/ada/a.ipynb"


def test_array_items_by_wildcard_and_by_index():
    cells = [{"source": "secret()", "n": 1}, {"source": "more()", "n": 2}]
    logger, sink = make_logger([{"path": "cells[*].source", "action": "mask"}])
    emit(logger, {"user": "ada", "count": 1, "cells": cells})
    assert written(sink)[0]["cells"] == [
        {"source": "[redacted]", "n": 1},
        {"source": "[redacted]", "n": 2},
    ]
    logger, sink = make_logger([{"path": "cells[-1]", "action": "drop"}])
    emit(logger, {"user": "ada", "count": 1, "cells": cells})
    assert written(sink)[0]["cells"] == [{"source": "secret()", "n": 1}]


def test_key_pattern_drops_at_any_depth():
    logger, sink = make_logger([{"key": "(?i)token|password", "action": "drop"}])
    emit(
        logger,
        {
            "user": "ada",
            "count": 1,
            "api_token": "t0",
            "args": {"Password": "p", "keep": [{"refresh_token": "r", "x": 1}]},
        },
    )
    (event,) = written(sink)
    assert "api_token" not in event
    assert event["args"] == {"keep": [{"x": 1}]}


def test_key_pattern_matches_a_python_key_that_is_not_a_string_as_json_writes_it():
    # JSON writes 7 as "7" and None as "null"; a key rule sees them so, and never fails.
    logger, sink = make_logger([{"key": "^(null|7)$", "action": "drop"}])
    emit(logger, {"user": "ada", "count": 1, "args": {7: "a", None: "b", 8: "c", True: "d"}})
    assert written(sink)[0]["args"] == {"8": "c", "true": "d"}


def test_value_pattern_masks_only_the_match():
    email = r"[\w.+-]+@[\w-]+\.[\w.]+"
    logger, sink = make_logger([{"value": email, "action": "mask", "mask": "<email>"}])
    emit(logger, {"user": "ada@example.org", "count": 1, "note": "ask bob@example.org, or ada"})
    (event,) = written(sink)
    assert event["user"] == "<email>"
    assert event["note"] == "ask <email>, or ada"


def test_value_pattern_hash_and_drop():
    logger, sink = make_logger(
        [
            {"value": r"^/home/\w+", "action": "hash"},
            {"value": "DROPME", "action": "drop"},
        ]
    )
    emit(
        logger,
        {"user": "ada", "count": 1, "note": "/home/ada/x", "args": {"l": ["DROPME", "ok"]}},
    )
    (event,) = written(sink)
    assert event["note"] == digest("/home/ada") + "/x"
    assert event["args"] == {"l": ["ok"]}


def test_mask_and_hash_keep_types_so_the_event_stays_valid():
    logger, sink = make_logger(
        [
            {"key": "^(count|user)$", "action": "mask"},
            {"path": "cells", "action": "hash"},
        ]
    )
    emit(logger, {"user": "ada", "count": 7, "cells": [{"source": "x", "n": 3}]})
    (event,) = written(sink)
    assert event["count"] == 7  # an integer is never masked into a string
    assert event["user"] == "[redacted]"
    assert event["cells"] == [{"source": digest("x"), "n": 3}]
    schema = logger.schemas.get(ACTION["$id"])
    schema.validate({k: v for k, v in event.items() if not k.startswith("__")})


def test_rules_apply_to_the_schemas_they_name():
    logger, sink = make_logger([{"key": "^user$", "action": "drop", "schemas": [OTHER["$id"]]}])
    emit(logger, {"user": "ada", "count": 1})
    emit(logger, {"user": "ada"}, OTHER)
    action, other = written(sink)
    assert action["user"] == "ada"
    assert "user" not in other


def test_the_original_is_validated_and_the_envelope_never_redacted():
    logger, sink = make_logger([{"key": ".*", "action": "drop"}])
    with pytest.raises(ValidationError):
        emit(logger, {"user": "ada"})  # count missing: judged on what was emitted
    envelope = logger.emit(
        schema_id=ACTION["$id"], data={"user": "ada", "count": 1}, metadata={"__user__": "ada"}
    )
    (event,) = written(sink)
    assert event == envelope
    assert set(event) == {
        "__timestamp__",
        "__schema__",
        "__schema_version__",
        "__metadata_version__",
        "__user__",
    }


async def test_listeners_and_returned_envelope_see_the_redacted_event():
    logger, sink = make_logger([{"key": "^note$", "action": "mask"}])
    heard: list[tuple[bool, dict]] = []

    def listen_modified(*, logger: Any, schema_id: str, data: dict) -> None:
        heard.append((True, data))

    def listen_unmodified(*, logger: Any, schema_id: str, data: dict) -> None:
        heard.append((False, data))

    logger.add_modifier(modifier=lambda *, schema_id, data: {**data, "count": data["count"] + 1})
    logger.add_listener(listener=listen_modified)
    logger.add_listener(modified=False, listener=listen_unmodified)
    envelope = emit(logger, {"user": "ada", "count": 1, "note": "private"})
    await logger.gather_listeners()
    assert envelope["note"] == "[redacted]"
    assert written(sink)[0]["note"] == "[redacted]"
    assert sorted(heard, key=lambda item: item[0]) == [
        (False, {"user": "ada", "count": 1, "note": "[redacted]"}),
        (True, {"user": "ada", "count": 2, "note": "[redacted]"}),
    ]


def test_no_policy_builds_no_redactor():
    logger, _ = make_logger([])
    emit(logger, {"user": "ada", "count": 1})
    route = logger._newest[ACTION["$id"]]
    assert route.redact is None
    assert (
        RedactionPolicy([{"path": "a", "action": "drop", "schemas": ["x"]}]).for_schema("y") is None
    )


def test_nothing_matched_returns_the_same_data():
    redactor = RedactionPolicy([{"path": "a.b", "action": "drop"}]).for_schema("s")
    data = {"a": {"c": 1}, "d": [1]}
    assert redactor(data) is data


def test_setting_the_policy_later_reroutes():
    logger, sink = make_logger([])
    emit(logger, {"user": "ada", "count": 1})
    logger.redactions = [{"key": "^user$", "action": "hash"}]
    emit(logger, {"user": "ada", "count": 1})
    assert [event["user"] for event in written(sink)] == ["ada", digest("ada")]


# -- the secret ------------------------------------------------------------------------


def test_secret_from_a_file(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_bytes(SECRET + b"\n")
    logger, sink = make_logger(
        [{"key": "^user$", "action": "hash"}],
        redaction_secret=None,
        redaction_secret_file=str(secret_file),
    )
    emit(logger, {"user": "ada", "count": 1})
    assert written(sink)[0]["user"] == digest("ada")


def test_config_reaches_the_logger(tmp_path):
    config = Config()
    config.EventLogger.redactions = [{"path": "user", "action": "hash"}]
    config.EventLogger.redaction_secret = "deployment-secret"
    sink = io.StringIO()
    logger = EventLogger(config=config, handlers=[logging.StreamHandler(sink)])
    logger.register_event_schema(ACTION)
    emit(logger, {"user": "ada", "count": 1})
    assert written(sink)[0]["user"] == digest("ada")


# -- malformed policies fail when set --------------------------------------------------


@pytest.mark.parametrize(
    ("redactions", "traits", "message"),
    [
        ({"path": "a", "action": "drop"}, {}, "redactions must be a list of rules, not dict"),
        (["args.path"], {}, "redaction rule 0 must be a dict"),
        ([{"path": "a", "action": "drop", "when": 1}], {}, "unknown field(s) 'when'"),
        ([{"action": "drop"}], {}, "exactly one of 'path', 'key' or 'value', not 0"),
        ([{"path": "a", "key": "b", "action": "drop"}], {}, "not 2 (path, key)"),
        ([{"path": "", "action": "drop"}], {}, "'path' must be a non-empty string"),
        ([{"path": 3, "action": "drop"}], {}, "'path' must be a non-empty string"),
        ([{"path": "a..b", "action": "drop"}], {}, "path 'a..b' is malformed at ''"),
        ([{"path": "a[x]", "action": "drop"}], {}, "malformed at 'a[x]'"),
        ([{"path": "a[*", "action": "drop"}], {}, "malformed at 'a[*'"),
        ([{"key": "(unclosed", "action": "drop"}], {}, "is not a regular expression"),
        ([{"value": "[", "action": "mask"}], {}, "'value' '[' is not a regular expression"),
        ([{"path": "a"}], {}, "'action' must be one of drop, mask, hash, not None"),
        ([{"path": "a", "action": "erase"}], {}, "not 'erase'"),
        ([{"path": "a", "action": "drop", "mask": "x"}], {}, "'mask' is only for action 'mask'"),
        ([{"path": "a", "action": "mask", "mask": 0}], {}, "'mask' must be a string, not int"),
        ([{"path": "a", "action": "drop", "schemas": "x"}], {}, "list of schema $ids"),
        ([{"path": "a", "action": "hash"}], {"redaction_secret": None}, "needs a secret"),
        (
            [{"path": "a", "action": "hash"}],
            {"redaction_secret": ""},
            "the redaction secret is empty",
        ),
        (
            [{"path": "a", "action": "hash"}],
            {"redaction_secret_file": "/nonexistent/secret"},
            "cannot read the redaction secret file '/nonexistent/secret'",
        ),
        (
            [{"path": "a", "action": "hash"}],
            {"redaction_secret": "s", "redaction_secret_file": "/etc/hostname"},
            "not both",
        ),
    ],
)
def test_a_malformed_policy_is_refused_with_a_message(redactions, traits, message):
    if "redaction_secret_file" not in traits:
        traits.setdefault("redaction_secret", SECRET)
    with pytest.raises(RedactionPolicyError) as caught:
        set_policy(redactions, traits)
    assert message in str(caught.value)


def set_policy(redactions: Any, traits: dict[str, Any]) -> None:
    # A list goes through the logger's trait; anything else straight to the policy,
    # since the trait itself refuses what is not a list (TraitError).
    if isinstance(redactions, list):
        EventLogger(redactions=redactions, **traits)
    else:
        RedactionPolicy(redactions, SECRET)


def test_an_empty_secret_file_is_refused(tmp_path):
    empty = tmp_path / "secret"
    empty.write_text("\n")
    with pytest.raises(RedactionPolicyError, match=r"secret file .* is empty"):
        EventLogger(redactions=[{"path": "a", "action": "hash"}], redaction_secret_file=str(empty))


def test_a_malformed_policy_set_later_is_refused_too():
    logger, _ = make_logger([])
    with pytest.raises(RedactionPolicyError, match="rule 0"):
        logger.redactions = [{"path": "a", "action": "nope"}]


def test_paths_parse():
    assert parse_path("a.b") == ("a", "b")
    assert parse_path("cells[*].source")[0] == "cells"
    assert parse_path("x[2][-1]")[1:] == (2, -1)


def test_top_level_properties_drop_and_mask_without_touching_the_data():
    logger, sink = make_logger(
        [{"path": "note", "action": "drop"}, {"path": "user", "action": "mask"}]
    )
    data = {"user": "ada", "count": 1, "note": "n"}
    emit(logger, data)
    emit(logger, {"user": "bob", "count": 2})  # no note: nothing to drop
    assert written(sink) == [
        {**written(sink)[0], "user": "[redacted]", "count": 1},
        {**written(sink)[1], "user": "[redacted]", "count": 2},
    ]
    assert "note" not in written(sink)[0]
    assert data == {"user": "ada", "count": 1, "note": "n"}


def test_key_rules_hold_beyond_the_remembered_names(monkeypatch):
    monkeypatch.setattr("jupyter_events_ext.events.redaction.KEY_CACHE_SIZE", 1)
    redactor = RedactionPolicy([{"key": "^secret", "action": "drop"}]).for_schema("s")
    for _ in range(2):
        assert redactor({"a": 1, "secret_a": 2, "b": {"secret_b": 3, "c": 4}}) == {
            "a": 1,
            "b": {"c": 4},
        }


# -- hostile input ------------------------------------------------------------------------

REDACTION_PAGE = Path(__file__).parents[2] / "docs" / "operators" / "redaction.md"


def page_rules() -> list[dict[str, Any]]:
    """The example policy of docs/operators/redaction.md, as an operator would copy it."""
    text = REDACTION_PAGE.read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", text, flags=re.DOTALL)[1]
    c = Config()
    exec(block, {"c": c})
    return c.EventsExtensionApp.redactions


PAGE_RULES = page_rules()
# 64 KiB: the largest event data the server accepts (max_event_size), in one string.
HOSTILE = 64 * 1024
HOSTILE_STRINGS = [
    "a" * HOSTILE,  # a backtracking engine tries the e-mail rule from every start: quadratic
    "a@" * (HOSTILE // 2),
    "a.a@" * (HOSTILE // 4),
    "a@a" + ".a" * (HOSTILE // 2 - 2),
    "é" * HOSTILE,
]
# A generous bound on redacting one hostile event. Python's backtracking `re` took about
# 10 s on the first string here (quadratic: 0.18 s at 8 KiB); a linear-time engine takes
# well under a millisecond. One second leaves a thousandfold margin for a loaded CI
# machine while still catching any return of super-linear matching.
HOSTILE_EVENT_SECONDS = 1.0


@pytest.mark.parametrize("text", HOSTILE_STRINGS, ids=lambda text: f"{text[:4]}...")
def test_the_documented_rules_take_linear_time_on_hostile_strings(text):
    logger, sink = make_logger(PAGE_RULES)
    for data in ({"user": text, "count": 1}, {"user": "u", "count": 1, "args": {text: "v"}}):
        started = time.perf_counter()
        emit(logger, data)
        elapsed = time.perf_counter() - started
        assert elapsed < HOSTILE_EVENT_SECONDS, f"{elapsed:.3f} s for one event"
    assert len(written(sink)) == 2


def test_value_rules_match_unicode_as_python_does():
    # \w, \d and \s keep Python's Unicode meaning: an address with accents is masked whole.
    logger, sink = make_logger([*PAGE_RULES, {"value": r"\d+\s\d+", "action": "mask"}])
    emit(
        logger,
        {"user": "write to josé@exämple.org", "count": 1, "note": "\u0663\u0664\u3000\u0665"},
    )
    (event,) = written(sink)
    assert event["user"] == "write to <email>"
    assert event["note"] == "[redacted]"


def test_a_lone_surrogate_is_matched_around_and_kept():
    # JSON can carry half a surrogate pair; the text around it is still redacted.
    logger, sink = make_logger(PAGE_RULES)
    emit(logger, {"user": "\ud800 ada@x.org \udfff", "count": 1})
    (line,) = sink.getvalue().splitlines()
    assert json.loads(line)["user"] == "\ud800 <email> \udfff"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(?=a)b", "lookaround"),
        (r"(a)\1", "backreference"),
        (r"[\W.]", r"\W, \D and \S cannot be inside [...]"),
        (r"\bword\b", r"\b and \B"),
    ],
)
def test_patterns_a_linear_engine_cannot_run_are_refused(pattern, message):
    with pytest.raises(RedactionPolicyError) as caught:
        EventLogger(redactions=[{"value": pattern, "action": "mask"}])
    assert message in str(caught.value)
