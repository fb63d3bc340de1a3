"""Generated MyST Markdown: quoting text taken from the code, and parsing it into the page."""

from __future__ import annotations

import inspect
import re

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

# Outside code spans, every ASCII punctuation character is escaped, so that prose from a
# help string or a schema's description is shown as written (never as emphasis, a list,
# a table cell or a directive).
_PUNCTUATION = re.compile(r"([!-/:-@\[-^{-~])")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)


def prose(text: str) -> str:
    """Plain text as Markdown paragraphs: `code` spans kept, everything else literal.

    Lines of one paragraph are joined (help strings are wrapped to the source's width);
    blank lines separate paragraphs.
    """
    paragraphs = re.split(r"\n\s*\n", inspect.cleandoc(text))
    return "\n\n".join(_inline(" ".join(p.split())) for p in paragraphs if p.strip())


def _inline(text: str) -> str:
    parts, end = [], 0
    for span in _CODE_SPAN.finditer(text):
        parts.append(_PUNCTUATION.sub(r"\\\1", text[end : span.start()]))
        parts.append(span.group(0))
        end = span.end()
    parts.append(_PUNCTUATION.sub(r"\\\1", text[end:]))
    return "".join(parts)


def code(value: str) -> str:
    """``value`` as one code span, whatever backticks it holds."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def cell(text: str) -> str:
    """Markdown for one cell of a table: one line, its pipes escaped (code spans too)."""
    return re.sub(r"(?<!\\)\|", r"\\|", " ".join(text.split()))


class GeneratedMarkdown(SphinxDirective):
    """A directive whose content is Markdown generated from the code, parsed in place."""

    has_content = False

    def markdown(self) -> str:
        raise NotImplementedError

    def warn_each(self, problems: list[str]) -> None:
        """Report what the code leaves undocumented: warnings, which CI's ``-W`` makes errors."""
        for problem in problems:
            logger.warning(problem, location=self.get_location())

    def run(self) -> list[nodes.Node]:
        container = nodes.section()
        lines = StringList(self.markdown().splitlines(), source=self.get_source_info()[0])
        self.state.nested_parse(lines, self.content_offset, container, match_titles=True)
        return container.children
