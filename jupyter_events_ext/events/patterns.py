"""Regular expressions that run in linear time: redaction's ``key`` and ``value`` rules.

Redaction runs over whatever a client sends (strings up to the server's 64 KiB event
limit), on the server's event loop. Python's ``re`` backtracks: the e-mail rule of the
docs' example policy takes quadratic time on a long run of letters (11 s on 64 KiB), and nested
repetition takes exponential time. RE2 (``google-re2``) runs in time linear in the text,
whatever the pattern, by refusing the few constructs that need backtracking (lookaround,
backreferences).

Patterns are written as for Python, and mean what they mean in Python: RE2's ``\\w``,
``\\d`` and ``\\s`` are ASCII-only, so they are rewritten into the Unicode classes
Python's are (``\\w`` is ``[\\p{L}\\p{N}_]``), or the e-mail rule would miss
``josé@example.org``. What cannot be rewritten is refused with a message: ``\\W``,
``\\D`` and ``\\S`` inside ``[...]``, and ``\\b`` and ``\\B`` (RE2's word boundaries are
ASCII-only).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable

__all__ = ["LinearPattern", "PatternError"]

# Python's \s on str: the characters for which str.isspace() holds.
_SPACE = (
    r"\t\n\x{0b}\f\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
    r"\x{202f}\x{205f}\x{3000}"
)
# Each of Python's Unicode classes as RE2 writes it inside [...].
_IN_CLASS = {"w": r"\p{L}\p{N}_", "d": r"\p{Nd}", "s": _SPACE}
# JSON text may hold half a surrogate pair, which RE2 (UTF-8) cannot read: matched as
# U+FFFD, one character for one, so that positions stay the same.
_SURROGATES = dict.fromkeys(range(0xD800, 0xE000), "\ufffd")


class PatternError(ValueError):
    """A pattern that does not compile, or that needs backtracking; ``str()`` says why."""


def translate(pattern: str) -> str:
    """``pattern`` (Python syntax) in RE2 syntax, meaning the same; raises
    ``PatternError`` for what RE2 cannot run."""
    out: list[str] = []
    in_class = False
    at_class_start = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        starting = at_class_start
        at_class_start = False
        if char == "\\" and index + 1 < len(pattern):
            escaped = pattern[index + 1]
            index += 2
            out.append(_escape(escaped, in_class))
            continue
        if in_class:
            if char == "]" and not starting:
                in_class = False
            elif char == "^" and starting and out[-1] == "[":
                at_class_start = True  # "]" right after "[^" is still a literal
        elif char == "[":
            in_class = at_class_start = True
        elif char == "(" and pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), index):
            raise PatternError("a lookaround needs backtracking, which RE2 does not do")
        elif char == "(" and pattern.startswith("(?P=", index):
            raise PatternError("a backreference needs backtracking, which RE2 does not do")
        out.append(char)
        index += 1
    return "".join(out)


def _escape(char: str, in_class: bool) -> str:
    lower = char.lower()
    if lower in _IN_CLASS:
        if char == lower:
            return _IN_CLASS[char] if in_class else f"[{_IN_CLASS[char]}]"
        if in_class:
            raise PatternError(
                r"\W, \D and \S cannot be inside [...] here: write [^...] with \w, \d or \s, "
                r"or list what you mean"
            )
        return f"[^{_IN_CLASS[lower]}]"
    if char in "bB" and not in_class:
        raise PatternError(
            r"\b and \B are ASCII-only in RE2, unlike Python's: match the characters "
            r"around the word instead, e.g. (?:^|[^\w])word(?:[^\w]|$)"
        )
    if char == "b":  # [\b] is a backspace
        return r"\x08"
    if char in "123456789" and not in_class:
        raise PatternError("a backreference needs backtracking, which RE2 does not do")
    if char == "Z":  # Python's end of text is RE2's \z
        return r"\z"
    return f"\\{char}"


class LinearPattern:
    """A compiled pattern: ``search`` says whether it occurs in a text, ``sub`` replaces
    each match. Raises ``PatternError`` when ``pattern`` cannot be compiled."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        import re2

        self.pattern = pattern
        try:
            self._compiled = re2.compile(translate(pattern))
        except re2.error as err:
            reason = err.args[0] if err.args else err
            if isinstance(reason, bytes):
                reason = reason.decode("utf-8", "replace")
            raise PatternError(str(reason)) from None

    def search(self, text: str) -> bool:
        try:
            return self._compiled.search(text) is not None
        except UnicodeEncodeError:
            return self._compiled.search(text.translate(_SURROGATES)) is not None

    def sub(self, replace: Callable[[str], str], text: str) -> str:
        """``text`` with each match replaced by ``replace(matched text)``."""
        parts = []
        end = 0
        for start, stop in self._spans(text):
            parts.append(text[end:start])
            parts.append(replace(text[start:stop]))
            end = stop
        if not parts:
            return text
        parts.append(text[end:])
        return "".join(parts)

    def _spans(self, text: str) -> Iterator[tuple[int, int]]:
        try:
            matches: Any = self._compiled.finditer(text)
            first = next(matches, None)
        except UnicodeEncodeError:
            matches = self._compiled.finditer(text.translate(_SURROGATES))
            first = next(matches, None)
        while first is not None:
            yield first.span()
            first = next(matches, None)
