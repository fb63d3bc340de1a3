"""Trait types for the event library."""

from __future__ import annotations

import logging
from typing import Any

from traitlets import TraitError, TraitType


class Handlers(TraitType):  # type: ignore[type-arg]
    """A list of ``logging.Handler`` instances, or a callable that returns one.

    The callable form exists because traitlets deep-copies configuration values and
    handlers (which hold locks and open files) cannot be copied: config loading wraps
    the list in a function and this trait unwraps it.
    """

    info_text = "a list of logging handlers"

    def validate(self, obj: Any, value: Any) -> Any:
        if callable(value):
            value = value()
        if not isinstance(value, list):
            self.error(obj, value)
        self.validate_elements(obj, value)
        return value

    def validate_elements(self, obj: Any, value: list[Any]) -> None:
        """Raise ``TraitError`` unless every element is a ``logging.Handler``."""
        for element in value:
            if not isinstance(element, logging.Handler):
                self.element_error(obj)

    def element_error(self, obj: Any) -> None:
        """Raise the ``TraitError`` for a list element that is not a handler."""
        msg = (
            f"Elements in the '{self.name}' trait of an {obj.__class__.__name__} instance "
            "must be Python `logging` handler instances."
        )
        raise TraitError(msg)


def pass_handlers_uncopied(section: Any, name: str) -> None:
    """Let the ``name`` entry of a configurable's config ``section`` skip traitlets' copy.

    traitlets deep-copies configuration values, and handlers (locks, open files) cannot
    be copied: a configured list is handed over inside a function, which is not copied
    and which ``Handlers`` unwraps. Call it from ``_find_my_config``.
    """
    handlers = section.get(name)
    if isinstance(handlers, list):
        section[name] = lambda: handlers
