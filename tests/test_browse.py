"""`tracecli browse`, driven headless through Textual's pilot on real stores: list → tree →
detail → back → quit, search as you type, a page at a time, log markup shown as text, and the
command refusing to draw on a pipe. (pytest-asyncio is not a test dependency: each test runs
its coroutine with asyncio.run.)"""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.conftest import REFERENCE_TRACE, Invoke, StoreCache, Stored, sample_rows
from tracecli.cli.common import read_store
from tracecli.read.browse import PAGE, Query
from tracecli.read.filters import Filters
from tracecli.read.tree import SpanNode
from tracecli.render.browse import (
    SEARCH_PAUSE,
    BrowseApp,
    ListScreen,
    SpanTree,
    TextScreen,
    TraceTable,
    TreeScreen,
)

MARKUP = "[bold red]x[/]"
LINK = "[link=file:///etc/passwd]"
HOSTILE = f"{MARKUP} {LINK}click[/link]"
HOSTILE_TRACE = "trc_[b]hostile[/b]"

Scenario = Callable[[BrowseApp, Pilot[None]], Awaitable[None]]


def drive(db: Path, scenario: Scenario, filters: Filters | None = None) -> BrowseApp:
    """Run the browser over the store `db` headless, through `scenario`; returns the app."""
    async def main() -> BrowseApp:
        with read_store(str(db), None) as con:
            app = BrowseApp(con, Query(filters or Filters()))
            async with app.run_test(size=(160, 50)) as pilot:
                await pilot.pause()
                await scenario(app, pilot)
            return app

    return asyncio.run(main())


def listed(app: BrowseApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, ListScreen)
    assert screen.query_one(TraceTable).row_count == len(screen.ids)
    return list(screen.ids)


def screen_text(app: BrowseApp) -> str:
    """What the terminal shows, as text (the screenshot's SVG without its markup)."""
    svg = app.export_screenshot()
    lines = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    return html.unescape("".join(lines)).replace("\xa0", " ")


def newest_first(cli: Invoke, *args: str) -> list[str]:
    return [t["trace_id"] for t in json.loads(cli("traces", "-n", "0", "-f", "json", *args).stdout)]


async def search(pilot: Pilot[None], text: str) -> None:
    await pilot.press("/")
    screen = pilot.app.screen
    assert isinstance(screen, ListScreen)
    screen.query_one("#search").value = text  # type: ignore[attr-defined]
    await pilot.pause(SEARCH_PAUSE * 3)
    await pilot.pause()


def test_walk_list_tree_detail_back_quit(cli: Invoke, sample_store: None, isolated_store: Path) -> None:
    expected = newest_first(cli)
    seen: dict[str, Any] = {}

    async def scenario(app: BrowseApp, pilot: Pilot[None]) -> None:
        seen["listed"] = listed(app)
        for _ in range(expected.index(REFERENCE_TRACE)):
            await pilot.press("j")
        await pilot.press("y")
        seen["copied"] = app.clipboard
        await pilot.press("enter")
        await pilot.pause()
        tree = app.screen
        assert isinstance(tree, TreeScreen)
        seen["tree"] = tree.trace.summary["trace_id"]
        seen["footer"] = screen_text(app)
        await pilot.press("j", "enter")  # the root's first child: the first LLM call
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        seen["detail"] = app.screen.content.plain  # type: ignore[attr-defined]
        seen["shown"] = screen_text(app)
        await pilot.press("escape")
        assert app.screen is tree
        await pilot.press("w")
        await pilot.pause()
        seen["waterfall"] = screen_text(app)
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, ListScreen)
        seen["back"] = listed(app)
        await pilot.press("q")
        await pilot.pause()
        seen["running"] = app.is_running

    drive(isolated_store, scenario)
    assert seen["listed"] == expected == seen["back"]
    assert seen["copied"] == REFERENCE_TRACE == seen["tree"]
    for key in ("Down", "Up", "Back", "Detail", "Waterfall", "Copy id", "Quit"):
        assert key in seen["footer"]
    detail = seen["detail"]
    for fact in ("#1 chat gpt-4o-mini", "span: ref-span-1", "prompt tokens: 142",
                 "completion tokens: 18", "total tokens: 160", "cost: $0.0000321", "cache: MISS",
                 "retries: 0", "user: Take 3 to the fifth power", "── tool call ──",
                 "tool exponentiate", '"base": 3', "── result ──\n243", "── request ──",
                 '  "model": "gpt-4o-mini",', "── response ──"):
        assert fact in detail, fact
    assert "prompt tokens: 142" in seen["shown"]
    assert "█" in seen["waterfall"] and "critical path" in seen["waterfall"]
    assert seen["running"] is False


def test_search_narrows_the_list_as_you_type(cli: Invoke, sample_store: None,
                                             isolated_store: Path) -> None:
    everything = newest_first(cli)
    claude = [t["trace_id"] for t in json.loads(cli("traces", "-n", "0", "-f", "json").stdout)
              if any("claude" in m for m in t["models"])]
    found: dict[str, list[str]] = {}

    async def scenario(app: BrowseApp, pilot: Pilot[None]) -> None:
        for text in ("TRC_7F3A", "claude", "haiku about", "fifth power", "no such thing", ""):
            await search(pilot, text)
            found[text] = listed(app)
        await pilot.press("escape", "j", "enter")  # back in the list: keys move it again
        await pilot.pause()
        found["opened"] = [app.screen.trace.summary["trace_id"]]  # type: ignore[attr-defined]

    drive(isolated_store, scenario)
    assert found["TRC_7F3A"] == [REFERENCE_TRACE]
    assert found["claude"] == claude and claude
    assert found["haiku about"] == ["trc_cl_52bb10"]
    assert REFERENCE_TRACE in found["fifth power"] and len(found["fifth power"]) < len(everything)
    assert found["no such thing"] == []
    assert found[""] == everything
    assert found["opened"] == [everything[1]]


def test_the_commands_filters_apply(cli: Invoke, sample_store: None, isolated_store: Path) -> None:
    expected = newest_first(cli, "--model", "gpt-4o-mini")
    result: list[str] = []

    async def scenario(app: BrowseApp, pilot: Pilot[None]) -> None:
        result.extend(listed(app))

    drive(isolated_store, scenario, Filters(models=["gpt-4o-mini"]))
    assert result == expected and 0 < len(expected) < len(newest_first(cli))


def many_traces(n: int) -> list[dict[str, Any]]:
    """n one-call traces, a second apart."""
    base = sample_rows()[0]
    return [dict(base, id=f"log-{i}", trace_id=f"trc_many_{i:04d}", span_id=f"span-{i}",
                 created_at=f"2025-03-04T10:{i // 60:02d}:{i % 60:02d}.000Z") for i in range(n)]


def test_the_list_loads_a_page_at_a_time(store_cache: StoreCache, stored: Stored,
                                        isolated_store: Path) -> None:
    total = PAGE * 2 + 30
    stored(str(store_cache.file("browse-many.jsonl", many_traces(total))))
    counts: list[int] = []

    async def scenario(app: BrowseApp, pilot: Pilot[None]) -> None:
        counts.append(len(listed(app)))
        for _ in range(3):
            await pilot.press("G")
            await pilot.pause()
            counts.append(len(listed(app)))
        ids = listed(app)
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == total

    drive(isolated_store, scenario)
    assert counts[0] == PAGE and counts[1] > PAGE and counts[-1] == total


def hostile_rows() -> list[dict[str, Any]]:
    rows = [dict(r, trace_id=HOSTILE_TRACE) for r in sample_rows() if r["trace_id"] == REFERENCE_TRACE]
    for row in rows:
        row["request"]["messages"][1]["content"] = f"question {HOSTILE}"
    rows[0]["span_name"] = f"step {HOSTILE}"
    rows[0]["metadata"] = {"env": HOSTILE}
    rows[1]["request"]["messages"][3]["content"] = f"243 {HOSTILE}"
    return rows


def test_markup_in_log_content_shows_literally(store_cache: StoreCache, stored: Stored,
                                               isolated_store: Path) -> None:
    stored(str(store_cache.file("browse-hostile.jsonl", hostile_rows())))
    shown: dict[str, str] = {}

    async def scenario(app: BrowseApp, pilot: Pilot[None]) -> None:
        shown["list"] = screen_text(app)
        await pilot.press("y", "enter")
        await pilot.pause()
        shown["copied"] = str(app.clipboard)
        tree = app.screen.query_one(SpanTree)
        labels = [tree.root.label.plain]
        labels += [n.label.plain for n in tree.root.children]
        shown["labels"] = "\n".join(labels)
        shown["tree"] = screen_text(app)
        node = tree.root.children[0]
        assert isinstance(node.data, SpanNode)
        await pilot.press("j", "enter")
        await pilot.pause()
        shown["detail"] = screen_text(app)
        shown["detail_text"] = app.screen.content.plain  # type: ignore[attr-defined]

    drive(isolated_store, scenario)
    assert shown["copied"] == HOSTILE_TRACE
    assert HOSTILE_TRACE in shown["list"] and f"question {MARKUP} {LINK}" in shown["list"]
    assert HOSTILE_TRACE in shown["labels"] and f"step {MARKUP}" in shown["labels"]
    assert HOSTILE_TRACE in shown["tree"] and f"(step {MARKUP} [link=file:" in shown["tree"]
    assert f"user: question {HOSTILE}" in shown["detail_text"]
    assert f"question {MARKUP} {LINK}click[/link]" in shown["detail"]
    assert f"243 {HOSTILE}" in shown["detail_text"] and f'"env": "{HOSTILE}"' in shown["detail_text"]
    assert f'"content": "question {HOSTILE}"' in shown["detail"]  # the request, pretty-printed


@pytest.mark.parametrize("args", [[], ["--from", "-"]], ids=["store", "stdin"])
def test_refuses_to_run_without_a_terminal(cli: Invoke, sample_store: None, args: list[str]) -> None:
    result = cli("browse", *args, input="")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "tracecli: error: browse needs a terminal (stdin and stdout); for a pipe use "
        "`tracecli traces` or `tracecli show ID`"]
