"""Redaction's patterns: Python's syntax and Unicode meaning, RE2's linear time."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest

from jupyter_events_ext.events.patterns import LinearPattern, PatternError, translate

EVERY_CHARACTER = "".join(
    chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code < 0xE000
)


@pytest.mark.parametrize("escape", [r"\w", r"\d", r"\s"])
def test_classes_match_what_pythons_match(escape):
    python = set(re.findall(escape, EVERY_CHARACTER))
    ours = set(LinearPattern(escape)._compiled.findall(EVERY_CHARACTER))
    # RE2 may know characters this Python's Unicode database does not yet (unassigned
    # here): those may differ; every other character is matched alike.
    differ = {char for char in python ^ ours if unicodedata.category(char) != "Cn"}
    assert differ == set()


@pytest.mark.parametrize("escape", [r"\W", r"\D", r"\S"])
def test_negated_classes_match_the_rest(escape):
    sample = "".join(char for char in EVERY_CHARACTER[::97] if unicodedata.category(char) != "Cn")
    python = set(re.findall(escape, sample))
    assert set(LinearPattern(escape)._compiled.findall(sample)) == python
    assert python.isdisjoint(re.findall(escape.lower(), sample))


def test_classes_inside_brackets_and_literal_brackets():
    assert translate(r"[\w.+-]") == r"[\p{L}\p{N}_.+-]"
    assert translate(r"[]\d]") == r"[]\p{Nd}]"
    assert translate(r"[^]\s]x") == r"[^]" + translate(r"[\s]")[1:] + "x"
    assert translate(r"\[\w\]") == r"\[[\p{L}\p{N}_]\]"
    assert translate(r"a\Z") == r"a\z"


def test_sub_replaces_each_match_and_keeps_the_rest():
    pattern = LinearPattern(r"\d+")
    assert pattern.sub(lambda text: f"<{len(text)}>", "a1b22c") == "a<1>b<2>c"
    assert pattern.sub(str.upper, "none") == "none"
    assert pattern.search("x9")
    assert not pattern.search("x")


def test_syntax_errors_say_what_is_wrong():
    with pytest.raises(PatternError, match="missing"):
        LinearPattern("(unclosed")
