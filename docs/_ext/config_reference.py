"""The configuration reference, read from the traits themselves.

Every class in the package that has configuration traits of its own (``EventLogger``,
``EventsExtensionApp``, and any added later) gets a section; each trait its help, type and
default. A trait without help text is a build warning (an error in CI, which builds with
``-W``): the help is the one place a setting is explained.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from types import ModuleType

from markdown_text import GeneratedMarkdown, code, prose
from traitlets import Container, TraitType, Undefined, Union
from traitlets.config import Configurable


def modules(package: ModuleType) -> list[ModuleType]:
    """Every module of ``package``, imported."""
    return [
        importlib.import_module(module.name)
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
    ]


def configurables(package: ModuleType) -> list[type[Configurable]]:
    """The Configurable classes defined in ``package`` with config traits of their own."""
    found = {}
    for module in modules(package):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Configurable)
                and cls.__module__.startswith(f"{package.__name__}.")
                and any(own_config_traits(cls))
            ):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


def own_config_traits(cls: type[Configurable]) -> Iterator[tuple[str, TraitType]]:
    """The config traits ``cls`` defines itself, in the order of its source."""
    for name, trait in vars(cls).items():
        if isinstance(trait, TraitType) and trait.metadata.get("config"):
            yield name, trait


def type_name(trait: TraitType) -> str:
    if isinstance(trait, Union):
        name = " or ".join(type_name(inner) for inner in trait.trait_types)
    elif isinstance(trait, Container) and getattr(trait, "_trait", None) is not None:
        name = f"{type(trait).__name__} of {type_name(trait._trait)}"
    else:
        name = type(trait).__name__
    return f"{name} or None" if trait.allow_none else name


def default_text(cls: type[Configurable], name: str, trait: TraitType) -> str:
    if name in cls._trait_default_generators:
        return "computed when the application starts (see above)"
    value = trait.default()
    return "none (must be set)" if value is Undefined else code(repr(value))


def missing_help(classes: list[type[Configurable]]) -> list[str]:
    """What is wrong, one line per config trait without help text."""
    return [
        f"{cls.__module__}.{cls.__qualname__}.{name} has no help text: give the trait "
        "help= that says what it does and its default"
        for cls in classes
        for name, trait in own_config_traits(cls)
        if not trait.help.strip()
    ]


def reference(classes: list[type[Configurable]]) -> str:
    """Markdown for ``classes``: a section per class, a configtrait entry per trait."""
    out = []
    for cls in classes:
        out += [f"## {cls.__name__}", "", f"{code(f'{cls.__module__}.{cls.__qualname__}')}", ""]
        if cls.__doc__:
            out += [prose(cls.__doc__.split("\n\n")[0]), ""]
        for name, trait in own_config_traits(cls):
            out += [
                f"::::{{configtrait}} {cls.__name__}.{name}",
                prose(trait.help) or "(no help text)",
                "",
                f"Type: {code(type_name(trait))}. Default: {default_text(cls, name, trait)}.",
                "::::",
                "",
            ]
    return "\n".join(out)


class ConfigReference(GeneratedMarkdown):
    """``{config-reference} [package]``: the configurables of a package (this one by default)."""

    optional_arguments = 1

    def markdown(self) -> str:
        package = importlib.import_module(
            self.arguments[0] if self.arguments else "jupyter_events_ext"
        )
        for module in modules(package):  # an incremental build reads the page again
            self.env.note_dependency(module.__file__)
        classes = configurables(package)
        self.warn_each(missing_help(classes))
        return reference(classes)


def setup(app):
    app.add_directive("config-reference", ConfigReference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
