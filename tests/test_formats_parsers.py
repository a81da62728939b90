"""Property tests for the SQL value decoders the trace readers share (tracecli.ingest.formats.shapes)."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fixtures.formats.build import av
from tracecli.ingest.formats import shapes as convert
from tracecli.sql import macros


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    macros.install(c)
    convert.install(c)
    return c


# strings holding the decoder's own syntax must come through untouched
tricky_text = st.lists(st.sampled_from(list('ab"\\{}[]:,é\n') + ['{"stringValue":"x"}', '{"key":',
                                                                   ']}}', '{"intValue":"5"}']),
                       max_size=6).map("".join)
scalars = (st.booleans() | st.integers(min_value=-(2**62), max_value=2**62)
           | st.floats(allow_nan=False, allow_infinity=False, width=32) | tricky_text)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(alphabet="abc._", min_size=1, max_size=4), inner,
                                        max_size=3), max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(value=values, int_as_string=st.booleans())
def test_any_value_decodes_to_plain_json(con: duckdb.DuckDBPyConnection, value: Any,
                                         int_as_string: bool) -> None:
    encoded = json.dumps(av(value, int_as_string=int_as_string))
    row = con.execute("SELECT tcx_av(?::JSON)", [encoded]).fetchone()
    assert row is not None and row[0] is not None, encoded
    decoded = json.loads(row[0])
    assert _normal(decoded) == _normal(value)


def _normal(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3) if abs(value) < 1e15 else value
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value) if abs(value) < 1e15 else value
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


@settings(max_examples=60, deadline=None)
@given(base=st.integers(-10**6, 10**6), text=st.text(max_size=20), flag=st.booleans())
def test_python_repr_arguments_become_json(con: duckdb.DuckDBPyConnection, base: int, text: str,
                                           flag: bool) -> None:
    """LangChain logs tool input as str(dict); when it converts, it converts exactly."""
    args = {"base": base, "flag": flag, "none": None}
    row = con.execute("SELECT tcx_loose_json(?)", [str(args)]).fetchone()
    assert row is not None and json.loads(row[0]) == args
    row = con.execute("SELECT tcx_loose_json(?)", [json.dumps({"t": text})]).fetchone()
    assert row is not None and json.loads(row[0]) == {"t": text}


@pytest.mark.parametrize(("raw", "expected"), [
    ("4bf92f3577b34da6a3ce929d0e0e4736", "4bf92f3577b34da6a3ce929d0e0e4736"),
    ("4BF92F3577B34DA6A3CE929D0E0E4736", "4bf92f3577b34da6a3ce929d0e0e4736"),
    ("0x00f067aa0ba902b7", "00f067aa0ba902b7"),
    ("S/kvNXezTaajzpKdDg5HNg==", "4bf92f3577b34da6a3ce929d0e0e4736"),  # proto3 JSON bytes
    ("APBnqgupArc=", "00f067aa0ba902b7"),
    ("", None),
])
def test_span_ids_in_every_encoding(con: duckdb.DuckDBPyConnection, raw: str, expected: str | None) -> None:
    row = con.execute("SELECT tcx_id(?)", [raw]).fetchone()
    assert row is not None and row[0] == expected


def test_genai_parts_become_openai_messages(con: duckdb.DuckDBPyConnection) -> None:
    msgs = [{"role": "user", "parts": [{"type": "text", "content": "hi"}]},
            {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "f",
                                             "arguments": {"a": 1}}]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": 2},
                                       {"type": "tool_call_response", "id": "c2", "result": "x"}]}]
    for encoded in (json.dumps(msgs), json.dumps(json.dumps(msgs))):  # structured or JSON string
        row = con.execute("SELECT tcx_genai_msgs(?::JSON)", [encoded]).fetchone()
        assert row is not None
        assert json.loads(row[0]) == [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                                  "function": {"name": "f", "arguments": '{"a":1}'}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "2"},
            {"role": "tool", "tool_call_id": "c2", "content": "x"}]


def test_langchain_messages_in_every_shape(con: duckdb.DuckDBPyConnection) -> None:
    serialised = {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", "AIMessage"],
                  "kwargs": {"content": "", "type": "ai",
                             "tool_calls": [{"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]}}
    as_dict = {"type": "human", "data": {"content": "yo", "type": "human"}}
    plain = {"role": "assistant", "content": "", "additional_kwargs": {"tool_calls": [
        {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}}
    tool = {"type": "tool", "content": "3", "tool_call_id": "c1"}
    row = con.execute("SELECT tcx_lc_msgs(?::JSON)", [json.dumps([[serialised, as_dict, plain, tool]])]).fetchone()
    assert row is not None
    assert json.loads(row[0]) == [
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                              "function": {"name": "f", "arguments": '{"a":1}'}}]},
        {"role": "user", "content": "yo"},
        {"role": "assistant", "tool_calls": [{"id": "c2", "type": "function",
                                              "function": {"name": "g", "arguments": "{}"}}]},
        {"role": "tool", "content": "3", "tool_call_id": "c1"}]
