"""One output path for every listing: table, json, jsonl, csv, markdown."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from rich.cells import cell_len, set_cell_size

from tracecli.environment import Environment
from tracecli.render import console
from tracecli.render.text import markdown, one_line, safe, terminal_json

if TYPE_CHECKING:  # the store's text, typed only: --help imports no duckdb
    from tracecli.read.export import Chunk

Kind = Literal["text", "int", "cost", "ms", "time", "list", "map", "float", "percent", "score",
               "labelled", "number"]
# Kinds whose values every format rounds to MONEY_DIGITS significant digits: money, and numbers
# of unknown meaning (a `tracecli sql` DOUBLE), which would otherwise print float noise.
_ROUNDED = ("cost", "number")


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
    votes: str = ""  # a "score" column: the key of the row's count of votes (`format_score`)


# Money keeps this many significant digits in every format (README: Money). Sums of binary
# fractions then print as the amounts they are: 0.0001275, not 0.00012749999999999998.
MONEY_DIGITS = 10


def money(usd: Any) -> float | None:
    """A dollar amount rounded to MONEY_DIGITS significant digits: the value every machine
    format writes (commands call it for the money in the documents they build). None for no
    amount, NaN or infinity; never -0."""
    if usd is None or not math.isfinite(value := float(usd)):
        return None
    return float(f"{value:.{MONEY_DIGITS}g}") + 0.0


def money_text(usd: Any) -> str:
    """`money` as a plain decimal, never an exponent (CSV: 0.00000022, not 2.2e-07); the SQL
    twin is the macro tc_money_text. Empty for no amount."""
    rounded = money(usd)
    return "" if rounded is None else format(Decimal(f"{rounded:.{MONEY_DIGITS}g}"), "f")


def with_money(value: Any, columns: Sequence[Column]) -> Any:
    """A row or document with the values of its cost columns' keys rounded (`money`), in its
    dicts and lists at any depth (a document nests rows: `{rows: [...], total: {...}}`)."""
    keys = {c.key for c in columns if c.kind in _ROUNDED}
    return _rounded(value, keys) if keys else value


def _rounded(value: Any, keys: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: money(v) if k in keys else _rounded(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, keys) for v in value]
    return value


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
        return "—" if kind == "cost" else ""
    return _CELL[kind](value)


def format_score(score: Any, votes: Any) -> str:
    """User feedback as every human view shows it: `+9.0 (1 vote)`, `-2.5 (3 votes)`; empty
    for a trace without any (machine formats write the number: feedback_score)."""
    if not votes:
        return ""
    return f"{cell(score, 'score') or '?'} ({votes} vote{'' if votes == 1 else 's'})"


def _int(value: Any) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    # NaN or infinity, from a store written before ingest made them unknown
    return f"{int(value):,}" if math.isfinite(float(value)) else "—"


def _float(value: Any) -> str:
    return f"{float(value):,.2f}" if math.isfinite(float(value)) else "—"  # as _int


def _signed(value: Any) -> str:
    """A feedback score: one decimal, always signed (+9.0, -4.0)."""
    return f"{float(value):+.1f}" if math.isfinite(float(value)) else "—"  # as _int


def _time(value: Any) -> str:
    if not isinstance(value, datetime):
        return str(value)
    if value.year >= 1000 and value.tzinfo is None:  # the same text, four times as fast
        return value.isoformat(" ", "seconds")
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _text(value: Any) -> str:
    """Text as it is; a structured value as its JSON, never a Python repr."""
    return value if isinstance(value, str) else dumps(value) if isinstance(value, dict | list) else str(value)


def _labelled(value: Any) -> str:
    """[{label, text}] (replay's lines) as `label: text` pairs, one after another."""
    return " · ".join(f"{item.get('label')}: {item.get('text')}" for item in value)


def _map(value: Any) -> str:
    """Underscore keys (Portkey's _user, _environment) stay in machine formats."""
    return " ".join([f"{k}={v}" for k, v in value.items() if not str(k).startswith("_")])


_CELL: dict[str, Callable[[Any], str]] = {
    "int": _int, "float": _float, "score": _signed, "cost": lambda v: format_cost(float(v)),
    "ms": lambda v: format_ms(float(v)), "time": _time, "percent": lambda v: f"{float(v):.1%}",
    "list": lambda v: ", ".join(str(x) for x in v), "map": _map, "text": _text,
    "number": lambda v: money_text(v) or "—",
    "labelled": _labelled,
}


def format_cost(usd: float) -> str:
    """Dollars with enough decimals to show the first three significant digits of small costs;
    "—" for NaN or infinity (a store written before ingest made them unknown)."""
    rounded = money(usd)
    if rounded is None:
        return "—"
    if rounded == 0:
        return "$0"
    # rounded half up from the amount `money` keeps, never from the float's binary noise: the
    # same cost shows the same digits however it was summed (0.0001275 is $0.000128)
    amount = Decimal(f"{rounded:.{MONEY_DIGITS}g}")
    if abs(rounded) >= 1:
        return f"${amount.quantize(Decimal('0.01'), ROUND_HALF_UP):,}"
    decimals = max(2, 2 - math.floor(math.log10(abs(rounded))))
    return f"${amount.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP):f}".rstrip("0").rstrip(".")


def format_ms(ms: float) -> str:
    if not math.isfinite(ms):  # as format_cost
        return "—"
    if ms >= 60_000:
        return f"{int(ms // 60_000)}m{(ms % 60_000) / 1000:04.1f}s"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:.0f} ms"


def _flat(value: Any, kind: Kind) -> Any:
    """CSV cells: nested values as JSON text, money and other rounded numbers as plain decimals."""
    if kind in _ROUNDED:
        return money_text(value)
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
         env: Environment | None = None, pager: bool = False) -> None:
    """Write rows to stdout. `footer` is a totals row shown by table/markdown/csv; `document`
    replaces the row list as the --format json value when a command documents an object.
    Money is rounded (`with_money`): the values of the cost columns' keys, in rows and document.
    `env` is the CLI's; a caller outside the CLI gets the process as it is. `pager`: a table
    longer than the terminal goes through the pager (console.show)."""
    env = env or Environment.current()
    if fmt is OutputFormat.json:
        write_json(with_money(document if document is not None else list(rows), columns), env)
    elif fmt is OutputFormat.jsonl:
        for row in rows:
            write_json(with_money(row, columns), env, indent=None)
    elif fmt is OutputFormat.csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([c.key for c in columns])
        for row in [*rows, *([footer] if footer else [])]:
            writer.writerow([_flat(row.get(c.key), c.kind) for c in columns])
        # CSV keeps content exact for files and pipes; a terminal gets control characters shown
        env.stdout.write(safe(buf.getvalue()) if env.stdout_isatty else buf.getvalue())
    elif fmt is OutputFormat.markdown:
        env.stdout.write(_markdown(rows, columns, footer))
    else:
        console.show(env, table(rows, columns, footer, console.screen(env)), pager=pager)
    env.stdout.flush()


def write_lines(chunks: Iterable[Chunk], fmt: OutputFormat, env: Environment) -> int:
    """Text the store wrote already (jsonl or csv lines, in runs of whole lines), streamed to
    stdout as it comes: exact for pipes and files; on a terminal JSON gets the characters that
    would drive it as escapes, and CSV has them shown, as `emit` writes them. Returns the rows
    written."""
    shown = terminal_json if fmt is OutputFormat.jsonl else safe
    rows = 0
    for chunk in chunks:
        env.stdout.write(shown(chunk.text) if env.stdout_isatty else chunk.text)
        rows += chunk.lines
    env.stdout.flush()
    return rows


def _markdown(rows: Sequence[dict[str, Any]], columns: Sequence[Column],
              footer: dict[str, Any] | None) -> str:
    """A GitHub table: cells as a table shows them, each one line, with what Markdown would act
    on escaped (`text.markdown`; the numbers tracecli writes need nothing but a pipe escaped)."""
    def esc(text: str, kind: Kind) -> str:
        return markdown(text) if kind in _TEXT else one_line(text).replace("|", "\\|")

    lines = ["| " + " | ".join(markdown(c.header) for c in columns) + " |",
             "| " + " | ".join("---:" if c.kind in _NUMERIC else "---" for c in columns) + " |"]
    for row in [*rows, *([footer] if footer else [])]:
        lines.append("| " + " | ".join(esc(_shown(row, c), c.kind) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def _shown(row: dict[str, Any], c: Column) -> str:
    """A row's cell as a human view shows it (a score with its votes)."""
    if c.kind == "score" and c.votes:
        return format_score(row.get(c.key), row.get(c.votes))
    return cell(row.get(c.key), c.kind)


_NUMERIC = ("int", "cost", "ms", "float", "percent", "score", "number")
_TEXT = ("text", "list", "map", "labelled")  # kinds whose cells show what the logs hold
_GAP = "  "  # between columns
_LEAST = 8  # a column that declares a width gives way down to this on a narrow terminal
_BOLD, _PLAIN = "\x1b[1m", "\x1b[0m"


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column], footer: dict[str, Any] | None,
          screen: console.Screen) -> str:
    """A table as text: a header, a line a row, then the footer (a totals row), measured from
    the data. Columns keep their natural width (ids and times are never cut); only columns that
    declare a width are cut, with an ellipsis. Piped, that is all. On a terminal too narrow for
    it, the declared widths give way first (down to 8); if that is not enough, each row becomes
    a block of `header value` lines, so that no column is ever dropped. Text from the logs
    arrives as text, never markup (`one_line`). Made a column at a time, with str's own padding
    where a character is a cell: 25,000 traces in 0.4 s, where Rich's Table took 100 s."""
    heads = [one_line(c.header) for c in columns]
    body = [_column([*rows, *([footer] if footer else [])], c) for c in columns]
    natural = [max([_size(head), *map(_size, texts)]) for head, texts in zip(heads, body, strict=True)]
    widths = [min(n, c.width) if c.width else n for n, c in zip(natural, columns, strict=True)]
    if screen.width is not None:
        fitted = _fit(widths, [min(n, _LEAST) if c.width else n
                               for n, c in zip(natural, columns, strict=True)], screen.width)
        if fitted is None:
            return _blocks(heads, body, screen.colour)
        widths = fitted
    right = [c.kind in _NUMERIC for c in columns]
    padded = [_padded([head, *texts], width, r)
              for head, texts, width, r in zip(heads, body, widths, right, strict=True)]
    lines = list(map(_GAP.join, zip(*padded, strict=True)))
    if screen.colour:  # header and footer in bold
        lines[0] = f"{_BOLD}{lines[0]}{_PLAIN}"
        if footer:
            lines[-1] = f"{_BOLD}{lines[-1]}{_PLAIN}"
    return "\n".join(lines) + "\n"


def _column(rows: Sequence[dict[str, Any]], c: Column) -> list[str]:
    """A column's cells, one line of text each, as `cell` writes them: what it makes of a number
    or a time is plain already; text from the logs is made safe."""
    if c.kind == "score" and c.votes:
        return [_shown(row, c) for row in rows]
    make, none = _CELL[c.kind], cell(None, c.kind)
    values = [row.get(c.key) for row in rows]
    if c.kind in _TEXT:
        return [none if v is None else one_line(make(v)) for v in values]
    return [none if v is None else make(v) for v in values]


def _size(text: str) -> int:
    """Terminal cells a line of text takes (ASCII at once, the rest as Rich measures it)."""
    return len(text) if text.isascii() else cell_len(text)


def _fit(widths: list[int], least: list[int], room: int) -> list[int] | None:
    """Widths that fit `room` cells, narrowing the widest column that may give way, one cell at
    a time; None when even the narrowest widths do not fit."""
    excess = sum(widths) + len(_GAP) * (len(widths) - 1) - room
    if excess > sum(widths) - sum(least):
        return None
    fitted = list(widths)
    for _ in range(max(excess, 0)):
        i = max((i for i in range(len(fitted)) if fitted[i] > least[i]), key=lambda i: fitted[i])
        fitted[i] -= 1
    return fitted


def _padded(texts: list[str], width: int, right: bool) -> list[str]:
    """Each text in exactly `width` cells."""
    pad = str.rjust if right else str.ljust
    return [pad(text, width) if text.isascii() and len(text) <= width else _fill(text, width, right)
            for text in texts]


def _fill(text: str, width: int, right: bool) -> str:
    """Text in exactly `width` cells: cut with an ellipsis when longer, padded when shorter."""
    size = _size(text)
    if size > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - size)
    return pad + text if right else text + pad


def _blocks(heads: list[str], body: list[list[str]], colour: bool) -> str:
    """One block of `header  value` lines per row (the footer last), blocks apart by a blank
    line: what a table becomes on a terminal too narrow for its columns. Values are whole."""
    width = max(map(_size, heads))
    labels = [_fill(h, width, False) for h in heads]
    if colour:
        labels = [f"{_BOLD}{label}{_PLAIN}" for label in labels]
    blocks = ["\n".join(f"{label}{_GAP}{value}".rstrip() for label, value in zip(labels, cells, strict=True))
              for cells in zip(*body, strict=True)]
    return "\n\n".join(blocks) + "\n"
