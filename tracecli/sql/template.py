"""The one way tracecli assembles SQL: templates with named `{{holes}}` filled from the code's own
fragments, and quoting for the identifiers and literals those fragments are built from.

User values never fill a hole: they travel as named parameters (`$name`) in a dict beside the
statement. A hole left unfilled, or a fragment given for no hole, is a bug, and `fill` says so
before DuckDB would see half a statement."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_HOLE = re.compile(r"\{\{(\w+)\}\}")


class TemplateError(ValueError):
    """A template and its fragments do not fit: a programming error, never bad input."""


def fill(template: str, *, keep: tuple[str, ...] = (), **fragments: str) -> str:
    """`template` with every `{{name}}` replaced by `fragments[name]`. Fragments may hold holes
    of their own (a shared CTE holding `{{scope}}`): they are filled from the same fragments.
    Holes named in `keep` stay, for a caller that fills them later."""
    used: set[str] = set()
    text = template
    for _ in range(16):  # nesting depth; a fragment holding its own hole would loop forever
        names = set(_HOLE.findall(text)) - set(keep)
        if not names:
            break
        missing = names - fragments.keys()
        if missing:
            raise TemplateError(f"SQL template has unfilled holes: {', '.join(sorted(missing))}")
        used |= names
        text = _HOLE.sub(lambda m: m.group(0) if m.group(1) in keep else fragments[m.group(1)], text)
    else:
        raise TemplateError("SQL template fragments fill each other without end")
    unused = fragments.keys() - used
    if unused:
        raise TemplateError(f"SQL fragments given for no hole: {', '.join(sorted(unused))}")
    return text


def merge(*parts: Mapping[str, Any]) -> dict[str, Any]:
    """Named parameters of several fragments as one dict; a name given two values is a bug."""
    out: dict[str, Any] = {}
    for part in parts:
        for name, value in part.items():
            if name in out and out[name] is not value and out[name] != value:
                raise TemplateError(f"SQL parameter ${name} given two values")
            out[name] = value
    return out


def ident(name: str) -> str:
    """A quoted identifier (declared column names contain dots: `metadata.key`)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A quoted string literal, for constants that must be part of a statement's text (DDL,
    macro bodies, read_json options): never for user values."""
    return "'" + text.replace("'", "''") + "'"


def struct_literal(fields: Mapping[str, str]) -> str:
    """A `{'name': 'value', …}` STRUCT literal of constants (read_json's `columns`)."""
    return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in fields.items()) + "}"
