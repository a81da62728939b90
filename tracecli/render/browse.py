"""`tracecli browse`: the store in a Textual app. A trace list (searched as you type, a page
at a time as it scrolls) → a trace's tree → a span's detail, each a screen that Esc leaves.

Log content is data, never markup: every widget that shows it is handed rich Text built with
`append` (DataTable cells and Tree labels parse a plain str as markup; Static content too), and
each piece goes through render.text's `safe`/`one_line` first, as every other view does."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import duckdb
from rich.console import RenderableType
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static, Tree
from textual.widgets.tree import TreeNode

from tracecli.read import tree as trace_tree
from tracecli.read import waterfall
from tracecli.read.browse import PAGE, Query, page
from tracecli.read.messages import request_messages
from tracecli.read.tree import SpanNode, ToolCall, TraceTree
from tracecli.render import waterfall as waterfall_view
from tracecli.render.output import Column, cell, format_cost, format_ms
from tracecli.render.text import one_line, safe, terminal_json
from tracecli.render.tree import PREVIEW, message_label, root_label, span_label

COLUMNS = [
    Column("start_time", "start (UTC)", "time"),
    Column("trace_id", "trace", width=24),
    Column("models", "models", "list", width=24),
    Column("llm_calls", "LLM", "int"),
    Column("tool_calls", "tools", "int"),
    Column("total_tokens", "tokens", "int"),
    Column("cost_usd", "cost", "cost"),
    Column("status", "status"),
    Column("first_message", "first message", width=60),
]
AHEAD = 20  # rows left below the cursor when the next page is fetched
SEARCH_PAUSE = 0.15  # seconds of no typing before the list is asked for again
_DOWN_UP = [Binding("j", "cursor_down", "Down"), Binding("k", "cursor_up", "Up")]

NodeData = SpanNode | ToolCall | None


# Enter is the focused widget's own `select_cursor` (which posts RowSelected / NodeSelected),
# named here so that the footer shows it.
class TraceTable(DataTable[Text]):
    BINDINGS: ClassVar[list[BindingType]] = [
        *_DOWN_UP, Binding("enter", "select_cursor", "Open"),
        Binding("G,end", "scroll_bottom", "Last", show=False),
    ]

    class NearEnd(Message):
        """Scrolled to within AHEAD rows of the rows loaded: time for the next page."""

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value >= self.max_scroll_y - AHEAD:
            self.post_message(self.NearEnd())


class SpanTree(Tree[NodeData]):
    BINDINGS: ClassVar[list[BindingType]] = [*_DOWN_UP, Binding("enter", "select_cursor", "Detail")]


class Pane(VerticalScroll):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("j", "scroll_down", "Down"),
                                             Binding("k", "scroll_up", "Up")]


class BrowseApp(App[None]):
    """The browser over an open store connection, listing what `query` picks."""

    TITLE = "tracecli browse"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

    def __init__(self, con: duckdb.DuckDBPyConnection, query: Query) -> None:
        super().__init__()
        self.con = con
        self.query_ = query

    def on_mount(self) -> None:
        self.push_screen(ListScreen())

    def copy_id(self, value: object) -> None:
        """`y`: an id on the clipboard (the terminal's, by OSC 52), and a note saying which."""
        text = one_line(value)
        self.copy_to_clipboard(text)
        self.notify(f"copied {text}", markup=False)

    def open_waterfall(self, trace_id: str) -> None:
        tree = trace_tree.build(self.con, trace_id)
        chart = waterfall.build(self.con, tree)
        self.push_screen(TextScreen(waterfall_view.render(chart, max(self.size.width - 2, 40))))


class _BrowserScreen(Screen[None]):
    """A screen of the browser, with the store and query the app holds."""

    @property
    def browser(self) -> BrowseApp:
        app = self.app
        assert isinstance(app, BrowseApp)
        return app


class ListScreen(_BrowserScreen):
    """The traces, newest first; a page more is fetched as the cursor nears the end."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("/", "search", "Search"), Binding("w", "waterfall", "Waterfall"), Binding("y", "copy", "Copy id"),
        Binding("escape", "leave_search", "List", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.exhausted = False
        self.pending: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ search: trace id, model, tag, user message", id="search")
        table = TraceTable(cursor_type="row", zebra_stripes=True, id="traces")
        table.add_columns(*(c.header for c in COLUMNS))
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.load_more()
        self.query_one(TraceTable).focus()

    def load_more(self) -> None:
        """The next page of the list, unless the last one was its end."""
        if self.exhausted:
            return
        rows = page(self.browser.con, self.browser.query_, len(self.ids))
        table = self.query_one(TraceTable)
        for row in rows:
            table.add_row(*(_cell(row, c) for c in COLUMNS), key=row["trace_id"])
            self.ids.append(row["trace_id"])
        self.exhausted = len(rows) < PAGE

    def reload(self) -> None:
        self.query_one(TraceTable).clear()
        self.ids, self.exhausted = [], False
        self.load_more()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self.ids) - AHEAD:
            self.load_more()

    def on_trace_table_near_end(self, event: TraceTable.NearEnd) -> None:
        table = self.query_one(TraceTable)
        if table.scroll_y >= table.max_scroll_y - AHEAD:  # still, once the message is read
            self.load_more()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.pending is not None:
            self.pending.stop()
        text = event.value
        self.pending = self.set_timer(SEARCH_PAUSE, lambda: self._search(text))

    def _search(self, text: str) -> None:
        self.browser.query_ = Query(self.browser.query_.filters, text)
        self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(TraceTable).focus()

    def action_search(self) -> None:
        self.query_one(Input).focus()

    def action_leave_search(self) -> None:
        self.query_one(TraceTable).focus()

    def current(self) -> str | None:
        row = self.query_one(TraceTable).cursor_row
        return self.ids[row] if 0 <= row < len(self.ids) else None

    def action_open(self) -> None:
        trace_id = self.current()
        if trace_id is not None:
            self.app.push_screen(TreeScreen(trace_tree.build(self.browser.con, trace_id)))

    def action_waterfall(self) -> None:
        trace_id = self.current()
        if trace_id is not None:
            self.browser.open_waterfall(trace_id)

    def action_copy(self) -> None:
        trace_id = self.current()
        if trace_id is not None:
            self.browser.copy_id(trace_id)


def _cell(row: dict[str, Any], c: Column) -> Text:
    return Text(one_line(cell(row.get(c.key), c.kind), c.width),
                justify="right" if c.kind in ("int", "cost") else "left")


class TreeScreen(_BrowserScreen):
    """One trace as `show` draws it; Enter on a span or tool call opens its detail."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"), Binding("w", "waterfall", "Waterfall"), Binding("y", "copy", "Copy id"),
    ]

    def __init__(self, tree: TraceTree) -> None:
        super().__init__()
        self.trace = tree

    def compose(self) -> ComposeResult:
        widget = SpanTree(root_label(self.trace.summary), data=None, id="tree")
        widget.auto_expand = False  # Enter opens a node's detail; space folds it
        widget.root.expand()
        for node in self.trace.roots:
            _add_node(widget.root, node)
        if self.trace.answer:
            label = Text("answer: ", style="bold green")
            label.append(one_line(self.trace.answer, PREVIEW))
            widget.root.add_leaf(label, data=None)
        yield widget
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(SpanTree).focus()

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        event.stop()
        if event.node.data is not None:
            self.app.push_screen(TextScreen(detail(event.node.data)))

    def action_waterfall(self) -> None:
        self.browser.open_waterfall(self.trace.summary["trace_id"])

    def action_copy(self) -> None:
        """The span's id under the cursor, the trace's on the root."""
        node = self.query_one(SpanTree).cursor_node
        data = node.data if node is not None else None
        span = data.span if isinstance(data, SpanNode) else (data.tool_span if data else None)
        self.browser.copy_id((span or {}).get("span_id") or self.trace.summary["trace_id"])


def _add_node(parent: TreeNode[NodeData], node: SpanNode) -> None:
    branch = parent.add(span_label(node), data=node, expand=True)
    for call in node.tool_calls:
        branch.add_leaf(_tool_label(call), data=call)
    for child in node.children:
        _add_node(branch, child)
    if not node.tool_calls and not node.children:
        branch.allow_expand = False


def _tool_label(call: ToolCall) -> Text:
    t = Text("tool ", style="bold yellow")
    t.append(one_line(call.signature, PREVIEW))
    t.append(" → ", style="bold")
    if call.result is None:
        t.append("(no result recorded)", style="dim")
    else:
        t.append(one_line(call.result, PREVIEW), style="green")
    return t


class TextScreen(Screen[None]):
    """A span's detail or a trace's waterfall: one scrolling text, Esc back."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, content: RenderableType) -> None:
        super().__init__()
        self.content = content

    def compose(self) -> ComposeResult:
        with Pane(id="pane"):
            yield Static(self.content, markup=False, id="content")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Pane).focus()


def detail(data: SpanNode | ToolCall) -> Text:
    """Everything recorded about a span (or a tool call), in full."""
    return _call_detail(data) if isinstance(data, ToolCall) else _span_detail(data)


def _span_detail(node: SpanNode) -> Text:
    s = node.span
    t = span_label(node)
    t.append("\n")
    _fields(t, [("span", s.get("span_id")), ("parent", s.get("parent_span_id")),
                ("name", s.get("name")), ("kind", s.get("kind")), ("provider", s.get("provider")),
                ("model", s.get("model")), ("status", s.get("status")),
                ("http status", s.get("http_status")), ("start (UTC)", cell(s.get("start_time"), "time")),
                ("duration", _ms(s.get("duration_ms"))), ("prompt tokens", s.get("prompt_tokens")),
                ("completion tokens", s.get("completion_tokens")),
                ("cached tokens", s.get("cached_tokens")), ("total tokens", s.get("total_tokens")),
                ("cost", _cost(s.get("cost_usd"), s.get("cost_source"))),
                ("cache", s.get("cache_status")), ("retries", s.get("retries"))])
    if s.get("error"):
        _section(t, "error")
        t.append(safe(s["error"]), style="red")
    messages = request_messages(s.get("request"))
    if messages:
        _section(t, "messages")
        for message in messages:
            t.append_text(message_label(message))
            for call in message.get("tool_calls") or []:
                t.append("\n  → ", style="bold")
                t.append(safe(json.dumps(call, ensure_ascii=False)))
            t.append("\n")
    for call in node.tool_calls:
        _section(t, "tool call")
        t.append_text(_call_detail(call))
    if node.output_text:
        _section(t, "assistant")
        t.append(safe(node.output_text) + "\n")
    for key in ("request", "response", "metadata"):
        if s.get(key):
            _section(t, key)
            t.append(_json(s[key]))
    return t


def _call_detail(call: ToolCall) -> Text:
    span = call.tool_span or {}
    t = Text("tool ", style="bold yellow")
    t.append(one_line(call.name))
    t.append("\n")
    _fields(t, [("call id", call.call_id), ("order", call.seq), ("span", span.get("span_id")),
                ("duration", _ms(span.get("duration_ms"))), ("status", span.get("status")),
                ("error", span.get("error")), ("result from", call.result_source)])
    _section(t, "arguments")
    t.append(_json(call.arguments))
    _section(t, "result")
    if call.result is None:
        t.append("(no result recorded)", style="dim")
    else:
        t.append(safe(call.result), style="green")
    t.append("\n")
    return t


def _fields(t: Text, fields: list[tuple[str, Any]]) -> None:
    for name, value in fields:
        if value is not None and value != "":
            t.append(f"{name}: ", style="bold")
            t.append(one_line(value))
            t.append("\n")


def _section(t: Text, title: str) -> None:
    t.append(f"\n── {title} ──\n", style="bold cyan")


def _json(value: Any) -> str:
    """A body pretty-printed; text that is not JSON as it is."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return safe(value) + "\n"
    return terminal_json(json.dumps(value, indent=2, ensure_ascii=False, default=str)) + "\n"


def _ms(ms: Any) -> str | None:
    return None if ms is None else format_ms(float(ms))


def _cost(usd: Any, source: Any) -> str | None:
    if usd is None:
        return "unpriced" if source == "unpriced" else None
    return format_cost(float(usd)) + (" (est.)" if source == "computed" else "")
