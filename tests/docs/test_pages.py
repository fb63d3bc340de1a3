"""The README and the docs pages name only options that exist and link only to files that do."""

from __future__ import annotations

import json
import re
from pathlib import Path

import config_reference
import pytest

import jupyter_events_ext

DOCS = Path(__file__).resolve().parents[2] / "docs"
ROOT = DOCS.parent
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
PAGES = [page for page in PAGES if "_build" not in page.parts]


def options() -> dict[str, set[str]]:
    return {
        cls.__name__: {name for name, _ in config_reference.own_config_traits(cls)}
        for cls in config_reference.configurables(jupyter_events_ext)
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_option_named_exists(page):
    known = options()
    named = re.findall(r"\bc\.(\w+)\.(\w+)", page.read_text(encoding="utf-8"))
    unknown = [f"c.{cls}.{name}" for cls, name in named if cls in known and name not in known[cls]]
    assert unknown == []


def test_the_readme_links_only_to_files_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [target for target in targets if "://" not in target]
    assert local, "the README links into the repository"
    assert [target for target in local if not (ROOT / target).exists()] == []


def test_the_readme_python_example_runs_as_written(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    [line] = (tmp_path / "events.log").read_text().splitlines()
    envelope = json.loads(line)
    assert envelope["__schema__"] == "https://example.org/file-saved/v1"
    assert envelope["path"] == "a.ipynb"
    # The line the README shows after the example, but for the time.
    shown = json.loads(re.search(r"`(\{\"__timestamp__\".*?\})`", readme)[1])
    assert {**shown, "__timestamp__": envelope["__timestamp__"]} == envelope
