"""The package as a drop-in for jupyter_events 0.12: names, import cost, dependencies."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import pytest

# Public names of jupyter_events 0.12.1, module by module (its own, not what it imports).
UPSTREAM_NAMES = {
    "": ["EVENTS_METADATA_VERSION", "EventLogger", "EventSchema", "__version__"],
    "logger": [
        "EVENTS_METADATA_VERSION",
        "CoreMetadataError",
        "EventLogger",
        "ListenerError",
        "ModifierError",
        "SchemaNotRegistered",
    ],
    "schema": [
        "EventSchema",
        "EventSchemaFileAbsent",
        "EventSchemaLoadingError",
        "EventSchemaUnrecognized",
        "SchemaType",
    ],
    "schema_registry": ["SchemaRegistry", "SchemaRegistryException"],
    "validators": [
        "EVENT_CORE_SCHEMA",
        "EVENT_CORE_SCHEMA_FILEPATH",
        "EVENT_METASCHEMA",
        "EVENT_METASCHEMA_FILEPATH",
        "JUPYTER_EVENTS_CORE_VALIDATOR",
        "JUPYTER_EVENTS_SCHEMA_VALIDATOR",
        "METASCHEMA_PATH",
        "METASCHEMA_REGISTRY",
        "PROPERTY_METASCHEMA",
        "PROPERTY_METASCHEMA_FILEPATH",
        "SCHEMA_STORE",
        "draft7_format_checker",
        "validate_schema",
    ],
    "traits": ["Handlers"],
    "yaml": ["SafeDumper", "SafeLoader", "dump", "dumps", "load", "loads"],
    "cli": ["EMOJI", "RC", "main", "validate"],
    "pytest_plugin": [
        "jp_event_handler",
        "jp_event_logger",
        "jp_event_schemas",
        "jp_event_sink",
        "jp_read_emitted_events",
    ],
}


@pytest.mark.parametrize("module", sorted(UPSTREAM_NAMES))
def test_every_upstream_name_exists(module):
    ours = importlib.import_module("jupyter_events_ext.events" + (f".{module}" if module else ""))
    assert [name for name in UPSTREAM_NAMES[module] if not hasattr(ours, name)] == []


def test_the_list_above_matches_jupyter_events():
    import jupyter_events

    for module, names in UPSTREAM_NAMES.items():
        if module in ("cli",):  # needs rich, which we do not
            continue
        upstream = importlib.import_module("jupyter_events" + (f".{module}" if module else ""))
        assert all(hasattr(upstream, name) for name in names), module
    assert jupyter_events.__version__.startswith("0.12")


def test_errors_are_the_same_classes_everywhere():
    from jupyter_events_ext.events import errors, logger, schema, schema_registry

    assert schema.EventSchemaFileAbsent is errors.EventSchemaFileAbsent
    assert schema_registry.SchemaRegistryException is errors.SchemaRegistryException
    assert logger.ModifierError is errors.ModifierError
    assert logger.SchemaNotRegistered is errors.SchemaNotRegistered
    assert set(errors.__all__) == {
        name for name, value in vars(errors).items() if isinstance(value, type)
    }


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout


def test_import_is_cheap():
    loaded = json.loads(
        run_python(
            "import sys, json; import jupyter_events_ext.events; "
            "print(json.dumps(list(sys.modules)))"
        )
    )
    heavy = {"jsonschema", "traitlets", "yaml", "tornado", "jupyter_server", "referencing"}
    assert heavy.isdisjoint(loaded)


def test_no_module_imports_tornado_or_jupyter_server():
    import jupyter_events_ext.events
    import jupyter_events_ext.sinks

    modules = [
        info.name
        for package in (jupyter_events_ext.events, jupyter_events_ext.sinks)
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + ".")
    ]
    assert "jupyter_events_ext.events.logger" in modules
    assert "jupyter_events_ext.sinks.redis_stream" in modules
    imports = "; ".join(f"import {m}" for m in modules)
    loaded = run_python(f"import sys; {imports}; print(sorted(sys.modules))")
    assert "tornado" not in loaded
    assert "jupyter_server" not in loaded


def test_version():
    import jupyter_events_ext
    import jupyter_events_ext.events

    assert jupyter_events_ext.events.__version__ == jupyter_events_ext.__version__
    with pytest.raises(AttributeError):
        jupyter_events_ext.events.NoSuchName  # noqa: B018
    assert "EventLogger" in dir(jupyter_events_ext.events)


def test_pytest_plugin_fixtures(jp_event_logger, jp_read_emitted_events, jp_event_schemas):
    assert jp_event_schemas == []
    assert jp_read_emitted_events() is None
    assert jp_event_logger.handlers
