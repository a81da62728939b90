"""`show --waterfall`: a trace's spans on one time axis, one line a span. The numbers come first
(start offset, duration, tokens, cost), then a bar scaled to the trace's duration, so parallel
spans show as bars over the same columns and a retry as a bar after a failed one. Lines fit the
width given: labels shorten (with …) before bars do, and every timed bar keeps a character.
Critical bars are drawn █ and the rest ░, so the path reads without colour too."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.text import Text

from tracecli.environment import Environment
from tracecli.read.waterfall import Bar, Waterfall
from tracecli.render import columns, console
from tracecli.render.output import OutputFormat, emit, format_cost, format_ms
from tracecli.render.text import one_line

CRITICAL, OTHER = "█", "░"
LEGEND = f"{CRITICAL} critical path   {OTHER} other span   ↻N retries   ✗ error"
GAP = "  "
INDENT = 2  # columns a level of the tree indents its label
LABEL_MIN = 8  # a label keeps this many columns, and a bar area BAR_MIN, before numbers go
BAR_MIN = 10
BAR_WANTED = 20  # labels grow past LABEL_MIN only while the bar area keeps this many
LABEL_MAX = 40
PIPE_WIDTH = 80  # a chart has no natural width: piped, it is drawn for a classic terminal
# The rows of the other formats: what a script needs to draw its own.
_HEADS = ("start", "took", "tokens", "cost")
_DROPPED = (3, 2, 0, 1)  # on a narrow screen: cost goes first, then tokens, start, duration


@dataclass(frozen=True)
class Layout:
    """Column widths for one width of screen."""

    label: int
    shown: tuple[int, ...]  # which of _HEADS
    numbers: tuple[int, ...]  # their widths
    bar: int


def write(w: Waterfall, fmt: OutputFormat, env: Environment) -> None:
    """The chart on a terminal's width (PIPE_WIDTH piped); the offsets in the other formats."""
    if fmt is OutputFormat.table:
        console.out(env).print(render(w, console.screen(env).width or PIPE_WIDTH))
    else:
        emit([b.to_dict() for b in w.bars], columns.WATERFALL, fmt, document=w.to_dict(), env=env)


def render(w: Waterfall, width: int) -> Group:
    """The chart for a screen `width` columns wide: a header, a line per span, the legend."""
    cells = [_numbers(b) for b in w.bars]
    layout = _layout(w.bars, cells, width)
    lines = [_title(w), _heading(w, layout)]
    lines += [_line(b, c, w.duration_ms, layout) for b, c in zip(w.bars, cells, strict=True)]
    lines.append(Text(LEGEND, style="dim"))
    for line in lines:  # a screen narrower than a label and a duration: cut, never wrapped
        line.truncate(width, overflow="ellipsis")
    return Group(*lines)


def _title(w: Waterfall) -> Text:
    s = w.summary
    parts = [f"trace {one_line(s.get('trace_id'))}",
             format_ms(w.duration_ms) if w.duration_ms is not None else "no times",
             f"{len(w.bars)} span{'s' if len(w.bars) != 1 else ''}"]
    return Text(one_line(" · ".join(parts)), style="bold")


def _numbers(b: Bar) -> tuple[str, ...]:
    cost = b.span.get("cost_usd")
    return (_ms(b.start_offset_ms), _ms(b.duration_ms),
            f"{b.tokens:,}" if b.tokens is not None else "",
            format_cost(float(cost)) if cost is not None else "")


def _ms(value: float | None) -> str:
    return "—" if value is None else format_ms(value)


def _layout(bars: list[Bar], cells: list[tuple[str, ...]], width: int) -> Layout:
    """The numbers at their natural widths, as many as leave LABEL_MIN and BAR_MIN; what is left
    goes to the bars (BAR_WANTED), then to labels up to their longest, then back to the bars."""
    sizes = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(_HEADS)]
    shown = list(range(len(_HEADS)))
    natural = min(LABEL_MAX, max([len("span"), *(_label_size(b) for b in bars)]))

    def room() -> int:
        return width - sum(sizes[i] for i in shown) - len(GAP) * (len(shown) + 1)

    for i in _DROPPED:
        if room() >= min(LABEL_MIN, natural) + BAR_MIN:
            break
        shown.remove(i)
    label = max(min(natural, room() - BAR_WANTED), min(LABEL_MIN, natural))
    return Layout(label=label, shown=tuple(shown), numbers=tuple(sizes[i] for i in shown),
                  bar=max(1, room() - label))


def _label_size(b: Bar) -> int:
    return INDENT * b.depth + len(one_line(b.label)) + len(_suffix(b))


def _suffix(b: Bar) -> str:
    """Retries and errors, kept when the label is cut."""
    retries = b.span.get("retries")
    return (f" ↻{retries}" if retries else "") + (" ✗" if b.span.get("status") == "error" else "")


def _heading(w: Waterfall, layout: Layout) -> Text:
    t = Text("span".ljust(layout.label), style="bold")
    for i, size in zip(layout.shown, layout.numbers, strict=True):
        t.append(GAP + _HEADS[i].rjust(size), style="bold")
    end = format_ms(w.duration_ms) if w.duration_ms else ""
    axis = "0" + end.rjust(layout.bar - 1) if layout.bar > len(end) + 1 else "0"
    t.append(GAP + axis[: layout.bar], style="dim")
    t.rstrip()
    return t


def _line(b: Bar, cells: tuple[str, ...], axis: float | None, layout: Layout) -> Text:
    t = Text()
    t.append(_cut_label(b, layout.label), style="bold red" if b.span.get("status") == "error" else "")
    for i, size in zip(layout.shown, layout.numbers, strict=True):
        t.append(GAP + cells[i].rjust(size))
    t.append(GAP)
    columns = bar_columns(b, axis, layout.bar)
    if columns is not None:
        first, last = columns
        glyph, style = (CRITICAL, "yellow") if b.critical else (OTHER, "cyan")
        t.append(" " * first)
        t.append(glyph * (last - first), style="red" if b.span.get("status") == "error" else style)
    t.rstrip()
    return t


def _cut_label(b: Bar, size: int) -> str:
    """The label indented by depth and cut to `size` (its retries and error mark kept),
    padded to it."""
    suffix = _suffix(b)
    indent = min(INDENT * b.depth, max(0, size - len(suffix) - 2))
    room = size - indent - len(suffix)
    text = one_line(b.label, room) if room > 0 else ""
    return (" " * indent + text + suffix)[:size].ljust(size)


def bar_columns(b: Bar, axis: float | None, width: int) -> tuple[int, int] | None:
    """The columns [first, last) a bar covers in a bar area `width` wide scaled to `axis` ms:
    edges rounded to the nearest column, so spans one after the other never share a column,
    and at least one. None for a span without times."""
    if b.start_offset_ms is None or b.end_offset_ms is None:
        return None
    scale = width / axis if axis else 0.0
    first = min(width - 1, round(b.start_offset_ms * scale))
    last = min(width, max(first + 1, round(b.end_offset_ms * scale)))
    return first, last
