"""The reference pages are generated from the code, and the code documents every option.

The generators are docs/_ext's Sphinx extensions. Each reports what the code leaves
undocumented (a config trait without help, a setting without a title or description, a
shipped event schema that does not say what it never contains); a warning fails the build,
which CI runs with -W.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import config_reference
import event_catalog
import pytest
import settings_reference
from traitlets import Int
from traitlets.config import Configurable

import jupyter_events_ext
from jupyter_events_ext.events.logger import EventLogger
from jupyter_events_ext.server.app import EventsExtensionApp

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_config_trait_has_help():
    classes = config_reference.configurables(jupyter_events_ext)
    assert {EventLogger, EventsExtensionApp} <= set(classes)
    assert config_reference.missing_help(classes) == []
    page = config_reference.reference(classes)
    for cls in classes:
        for name, trait in config_reference.own_config_traits(cls):
            assert f"{{configtrait}} {cls.__name__}.{name}\n" in page
            assert config_reference.prose(trait.help) in page


def test_a_trait_without_help_is_reported():
    class Undocumented(Configurable):
        knob = Int(3).tag(config=True)
        explained = Int(4, help="Explained. Default: 4.").tag(config=True)

    assert config_reference.missing_help([Undocumented]) == [
        f"{__name__}.test_a_trait_without_help_is_reported.<locals>.Undocumented.knob has no "
        "help text: give the trait help= that says what it does and its default"
    ]
    assert "Type: `Int`. Default: `3`." in config_reference.reference([Undocumented])


def test_the_reference_gives_type_and_default():
    page = config_reference.reference([EventsExtensionApp])
    assert "EventsExtensionApp.max_body_size" in page
    assert "Type: `Int`. Default: `1048576`." in page
    # A default computed at start-up is not shown as the trait's static placeholder.
    handlers = page.split("EventsExtensionApp.event_handlers", 1)[1].split("::::", 1)[0]
    assert "Default: computed when the application starts" in handlers


def build(tmp_path, package_source: str) -> subprocess.CompletedProcess:
    """Build a one-page site whose configuration reference documents a package of ours."""
    (tmp_path / "demo_package").mkdir(parents=True, exist_ok=True)
    (tmp_path / "demo_package" / "__init__.py").write_text("")
    (tmp_path / "demo_package" / "app.py").write_text(textwrap.dedent(package_source))
    site = tmp_path / "site"
    if not site.exists():  # built again: only the package changed
        site.mkdir()
        (site / "conf.py").write_text(
            f"import sys\nsys.path[:0] = [{str(DOCS / '_ext')!r}, {str(tmp_path)!r}]\n"
            'extensions = ["myst_parser", "traitlets.config.sphinxdoc", "config_reference"]\n'
        )
        (site / "index.md").write_text(
            "# Configuration\n\n```{config-reference} demo_package\n```\n"
        )
    sphinx = [sys.executable, "-m", "sphinx", "-n", "-W", "--keep-going", "-q", "-b", "html"]
    return subprocess.run(
        [*sphinx, str(site), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )


APP = """
from traitlets import Int
from traitlets.config import Configurable


class DemoApp(Configurable):
    documented = Int(1, help="Documented. Default: 1.").tag(config=True)
    {added}
"""


def test_a_new_trait_without_help_fails_the_docs_build(tmp_path):
    with_help = build(
        tmp_path / "a", APP.format(added='added = Int(2, help="Added.").tag(config=True)')
    )
    assert with_help.returncode == 0, with_help.stderr
    assert "DemoApp.added" in (tmp_path / "a" / "out" / "index.html").read_text()

    without_help = build(tmp_path / "b", APP.format(added="added = Int(2).tag(config=True)"))
    assert without_help.returncode != 0
    assert "demo_package.app.DemoApp.added has no help text" in without_help.stderr


def test_a_help_text_changed_since_the_last_build_is_rebuilt(tmp_path):
    # Sphinx rebuilds only the pages whose sources changed: the reference's sources are the
    # package's modules. (Texts of different lengths: a .pyc written in the same second is
    # told stale by its source's size.)
    first = build(tmp_path, APP.format(added='added = Int(2, help="Said once.").tag(config=True)'))
    assert first.returncode == 0, first.stderr
    again = build(tmp_path, APP.format(added='added = Int(2, help="Said again.").tag(config=True)'))
    assert again.returncode == 0, again.stderr
    assert "Said again." in (tmp_path / "out" / "index.html").read_text()


def test_every_setting_has_a_title_and_a_description():
    files = settings_reference.settings_files()
    assert [plugin for plugin, _ in files] == ["jupyter-events-ext:plugin"]
    assert settings_reference.undocumented(files) == []
    page = settings_reference.reference(files)
    for _, schema in files:
        for key in schema["properties"]:
            assert f"| `{key}` |" in page


def test_a_setting_without_a_description_is_reported():
    schema = {"properties": {"knob": {"title": "Knob", "type": "boolean", "default": True}}}
    assert settings_reference.undocumented([("demo:plugin", schema)]) == [
        "demo:plugin: the setting 'knob' has no description"
    ]


def test_every_shipped_schema_says_what_it_never_contains():
    schemas = event_catalog.shipped_schemas()
    assert len(schemas) == len(list(event_catalog.SHIPPED_SCHEMAS.glob("*/v*.yaml"))) > 0
    assert event_catalog.incomplete(schemas) == []
    page = event_catalog.catalog(schemas)
    for _, schema in schemas:
        assert schema["$id"] in page
        for item in schema["x-never-contains"]:
            assert event_catalog.prose(item) in page


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"properties": {"a": {"description": "A."}}}, "demo: x-never-contains must list"),
        ({"x-never-contains": ["Text."], "properties": {"a": {}}}, "demo: the field 'a' has no"),
    ],
)
def test_an_incomplete_schema_is_reported(schema, problem):
    [reported] = event_catalog.incomplete([("demo", schema)])
    assert reported.startswith(problem)
