"""One output path for every listing: table, json, jsonl, csv, markdown."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from rich.table import Table
from rich.text import Text

from tracecli.environment import Environment
from tracecli.render import console
from tracecli.render.text import one_line, safe, terminal_json

Kind = Literal["text", "int", "cost", "ms", "time", "list", "map", "float"]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    markdown = "markdown"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: Kind = "text"
    width: int = 0  # table only: cut long cells to this many characters


def jsonable(value: Any) -> Any:
    """Python values from DuckDB as stable JSON: ISO-8601 UTC times, dicts for maps."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds") + ("Z" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity (a store written before ingest dropped them)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(jsonable(value), ensure_ascii=False, indent=indent)


def cell(value: Any, kind: Kind) -> str:
    """Human text for a table cell."""
    if value is None:
        return "" if kind not in ("cost",) else "—"
    if kind in ("int", "float") and not math.isfinite(float(value)):
        return "—"  # NaN or infinity, from a store written before ingest made them unknown
    if kind == "int":
        return f"{int(value):,}"
    if kind == "float":
        return f"{float(value):,.2f}"
    if kind == "cost":
        return format_cost(float(value))
    if kind == "ms":
        return format_ms(float(value))
    if kind == "time":
        return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else str(value)
    if kind == "list":
        return ", ".join(str(v) for v in value)
    if kind == "map":  # underscore keys (Portkey's _user, _environment) stay in machine formats
        return " ".join(f"{k}={v}" for k, v in value.items() if not str(k).startswith("_"))
    return str(value)


def format_cost(usd: float) -> str:
    """Dollars with enough decimals to show the first three significant digits of small costs;
    "—" for NaN or infinity (a store written before ingest made them unknown)."""
    if not math.isfinite(usd):
        return "—"
    if usd == 0:
        return "$0"
    if abs(usd) >= 1:
        return f"${usd:,.2f}"
    decimals = max(2, 2 - math.floor(math.log10(abs(usd))))
    return f"${usd:.{decimals}f}".rstrip("0").rstrip(".")


def format_ms(ms: float) -> str:
    if not math.isfinite(ms):  # as format_cost
        return "—"
    if ms >= 60_000:
        return f"{int(ms // 60_000)}m{(ms % 60_000) / 1000:04.1f}s"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:.0f} ms"


def _flat(value: Any) -> Any:
    """CSV cells: nested values as JSON text."""
    value = jsonable(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_json(value: Any, env: Environment, *, indent: int | None = 2) -> None:
    """One JSON document on stdout: --format json (indented), or one jsonl line. Piped it is
    exact; on a terminal, characters that would drive it are written as JSON escapes."""
    text = dumps(value, indent=indent)
    env.stdout.write((terminal_json(text) if env.stdout_isatty else text) + "\n")


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[Column], fmt: OutputFormat,
         *, footer: dict[str, Any] | None = None, document: Any = None,
         env: Environment | None = None) -> None:
    """Write rows to stdout. `footer` is a totals row shown by table/markdown/csv; `document`
    replaces the row list as the --format json value when a command documents an object.
    `env` is the CLI's; a caller outside the CLI gets the process as it is."""
    env = env or Environment.current()
    if fmt is OutputFormat.json:
        write_json(document if document is not None else list(rows), env)
    elif fmt is OutputFormat.jsonl:
        for row in rows:
            write_json(row, env, indent=None)
    elif fmt is OutputFormat.csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([c.key for c in columns])
        for row in [*rows, *([footer] if footer else [])]:
            writer.writerow([_flat(row.get(c.key)) for c in columns])
        # CSV keeps content exact for files and pipes; a terminal gets control characters shown
        env.stdout.write(safe(buf.getvalue()) if env.stdout_isatty else buf.getvalue())
    elif fmt is OutputFormat.markdown:
        env.stdout.write(_markdown(rows, columns, footer))
    else:
        console.out(env).print(_table(rows, columns, footer))
    env.stdout.flush()


def _markdown(rows: Sequence[dict[str, Any]], columns: Sequence[Column],
              footer: dict[str, Any] | None) -> str:
    def esc(text: str) -> str:
        return one_line(text).replace("|", "\\|")

    lines = ["| " + " | ".join(esc(c.header) for c in columns) + " |",
             "| " + " | ".join("---:" if c.kind in ("int", "cost", "ms", "float") else "---"
                               for c in columns) + " |"]
    for row in [*rows, *([footer] if footer else [])]:
        lines.append("| " + " | ".join(esc(cell(row.get(c.key), c.kind)) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[Column],
           footer: dict[str, Any] | None) -> Table:
    """Columns keep their natural width (ids and times are never cut); only columns that
    declare a width are cut, with an ellipsis. Headers can be user input (`--by tag:KEY`):
    Text, so never markup."""
    heads = [one_line(c.header) for c in columns]
    body = [[one_line(cell(row.get(c.key), c.kind)) for c in columns] for row in rows]
    feet = [one_line(cell(footer.get(c.key), c.kind)) for c in columns] if footer else []
    table = Table(show_footer=footer is not None, header_style="bold", box=None, pad_edge=False)
    for i, c in enumerate(columns):
        natural = max([len(heads[i]), *(len(r[i]) for r in body), *(len(f) for f in feet[i:i + 1])])
        table.add_column(Text(heads[i]), justify="right" if c.kind in ("int", "cost", "ms", "float") else "left",
                         footer=Text(feet[i], style="bold") if footer else "",
                         overflow="ellipsis", no_wrap=True,
                         min_width=min(natural, 8) if c.width else natural,
                         max_width=c.width or None)
    for cells in body:
        table.add_row(*(Text(v) for v in cells))
    return table
