"""Secrets are masked at ingest: no raw key reaches the store file or any command's output."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import Invoke, StoreCache, Stored, sample_rows
from tests.test_formats import walk
from tracecli.ingest.redact import redact_text

_rng = random.Random(5)


def _chars(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


OPENAI_KEY = "sk-proj-" + _chars(48)
OTHER_OPENAI_KEY = "sk-proj-" + _chars(48)
ANTHROPIC_KEY = "sk-ant-api03-" + _chars(80) + "-" + _chars(6)
AWS_KEY = "AKIA" + _chars(16, string.ascii_uppercase + string.digits)
PORTKEY_KEY = "pk" + _chars(30)  # not key-shaped: only its header name gives it away
VIRTUAL_KEY = "vk-" + _chars(20)
COOKIE = "session=" + _chars(40)
JWT = "eyJ" + _chars(30) + "." + _chars(40) + "." + _chars(20)
SECRETS = [OPENAI_KEY, OTHER_OPENAI_KEY, ANTHROPIC_KEY, AWS_KEY, PORTKEY_KEY, VIRTUAL_KEY, COOKIE, JWT]
# the middle of each secret, which its masked form never keeps (it keeps at most 8 + 4 ends)
CORES = [s[8:-4] if len(s) > 24 else s[4:-4] for s in SECRETS]


def _headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {OPENAI_KEY}", "x-api-key": ANTHROPIC_KEY,
            "x-portkey-api-key": PORTKEY_KEY, "x-portkey-virtual-key": VIRTUAL_KEY, "Cookie": COOKIE,
            "api-key": OTHER_OPENAI_KEY, "content-type": "application/json"}


def leaky_rows() -> list[dict[str, Any]]:
    """The sample's reference run, with secrets everywhere a log can hold them."""
    rows = [r for r in sample_rows() if r["trace_id"] == "trc_7f3a2c91e4b0"]
    first = rows[0]
    first["request"]["messages"][1]["content"] += f" (my key is {OPENAI_KEY}, aws {AWS_KEY})"
    first["request"]["headers"] = _headers()  # some gateways log headers inside the body
    call = first["response"]["choices"][0]["message"]["tool_calls"][0]["function"]
    call["arguments"] = json.dumps({"base": 3, "exponent": 5, "headers": {"x-api-key": PORTKEY_KEY}})
    first["metadata"] = {**first["metadata"], "authorization": f"Bearer {JWT}", "note": OTHER_OPENAI_KEY,
                         "cookie": COOKIE}
    rows[1]["request"]["messages"][3]["content"] = f"81 (fetched with Authorization: Bearer {JWT})"
    rows[-1]["response"]["choices"][0]["message"]["content"] += f" Debug: {ANTHROPIC_KEY} {AWS_KEY}"
    # the single-log API shape: an envelope with the request headers beside the body
    envelope = dict(sample_rows()[-1], id="envelope-1", trace_id="trc_envelope")
    envelope["request"] = {"url": "https://api.openai.com/v1/chat/completions", "method": "POST",
                           "headers": _headers(), "body": envelope["request"]}
    failed = dict(sample_rows()[-1], id="failed-1", trace_id="trc_failed", is_success=False,
                  response_status_code=401,
                  response={"error": {"message": f"Incorrect API key provided: {OPENAI_KEY}. "
                                                 f"Header was Bearer {JWT}", "type": "auth"}})
    return [*rows, envelope, failed]


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _in_store(db: Path, needle: str) -> list[str]:
    """Every table.column of the store whose text holds `needle`."""
    hits = []
    with duckdb.connect(str(db), read_only=True) as con:
        columns = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                              "WHERE table_schema = 'main'").fetchall()
        for table, column in columns:
            sql = f'SELECT count(*) FROM "{table}" WHERE contains(CAST("{column}" AS VARCHAR), $1)'  # noqa: S608
            if con.execute(sql, [needle]).fetchone()[0]:
                hits.append(f"{table}.{column}")
    return hits


def _raw_files(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())


def _all_outputs(cli: Invoke) -> str:
    runs = [
        ["traces"], ["traces", "--format", "json"], ["traces", "--search", "key"],
        ["show", "trc_7f3a2c91e4b0", "--full"], ["show", "trc_7f3a2c91e4b0", "--format", "json"],
        ["show", "trc_envelope", "--full"], ["show", "trc_failed", "--full"],
        ["show", "trc_failed", "--format", "json"],
        ["spans", "--format", "jsonl"], ["spans", "--format", "csv"], ["spans"],
        ["cost", "--by", "tag"], ["cost", "--by", "tag:authorization", "--format", "json"],
        ["replay", "trc_7f3a2c91e4b0", "--speed", "0"], ["replay", "trc_7f3a2c91e4b0", "--format", "json"],
    ]
    out = []
    for args in runs:
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
        out.append(result.output)
    return "\n".join(out)


@pytest.fixture
def leaky_store(store_cache: StoreCache, stored: Stored, isolated_store: Path) -> Path:
    stored(str(store_cache.file("leaky.jsonl", leaky_rows())))
    return isolated_store


def test_no_secret_reaches_the_store(leaky_store: Path) -> None:
    raw = _raw_files(leaky_store)
    for secret, core in zip(SECRETS, CORES, strict=True):
        assert _in_store(leaky_store, core) == [], secret
        assert secret.encode() not in raw and core.encode() not in raw


def test_no_secret_in_any_output_and_masks_tell_keys_apart(cli: Invoke, leaky_store: Path) -> None:
    out = _all_outputs(cli)
    for secret, core in zip(SECRETS, CORES, strict=True):
        assert core not in out, secret
    assert f"sk-proj-…REDACTED…{OPENAI_KEY[-4:]}" in out
    assert f"sk-proj-…REDACTED…{OTHER_OPENAI_KEY[-4:]}" in out
    assert f"AKIA…REDACTED…{AWS_KEY[-4:]}" in out
    assert f"Bearer {JWT[:4]}…REDACTED…{JWT[-4:]}" in out
    # the run itself still reads as before
    show = json.loads(cli("show", "trc_7f3a2c91e4b0", "--format", "json").stdout)
    assert show["trace"]["tool_calls"] == 3 and "76,527,504" in show["answer"]


def test_header_fields_are_masked_by_name(cli: Invoke, leaky_store: Path) -> None:
    show = json.loads(cli("show", "trc_7f3a2c91e4b0", "--format", "json").stdout)
    arguments = next(c["arguments"] for n in walk(show["spans"]) for c in n["tool_calls"]
                     if c["name"] == "exponentiate")
    with duckdb.connect(str(leaky_store), read_only=True) as con:
        (metadata,) = con.execute("SELECT metadata FROM spans WHERE record_key = 'portkey:ref-log-1'").fetchone()
        (headers,) = con.execute("SELECT request->'headers' FROM spans "
                                 "WHERE record_key = 'portkey:ref-log-1'").fetchone()
    assert arguments["headers"]["x-api-key"] == f"{PORTKEY_KEY[:4]}…REDACTED…{PORTKEY_KEY[-4:]}"
    assert metadata["cookie"] == f"sess…REDACTED…{COOKIE[-4:]}"
    assert metadata["env"] == "prod"  # ordinary tags untouched
    headers = json.loads(headers)
    assert headers["x-portkey-virtual-key"].startswith("vk-") and VIRTUAL_KEY not in headers["x-portkey-virtual-key"]
    assert headers["content-type"] == "application/json"


def test_redacted_store_exports_and_reingests_unchanged(cli: Invoke, leaky_store: Path, tmp_path: Path) -> None:
    export = cli("spans", "--format", "jsonl").stdout
    again = tmp_path / "again.duckdb"
    path = tmp_path / "export.jsonl"
    path.write_text(export)
    assert cli("ingest", "--db", str(again), str(path)).exit_code == 0
    assert cli("spans", "--db", str(again), "--format", "jsonl").stdout == export


def test_no_redact_keeps_secrets(cli: Invoke, isolated_store: Path, tmp_path: Path) -> None:
    result = cli("ingest", "--no-redact", str(_write(tmp_path / "leaky.jsonl", leaky_rows())))
    assert result.exit_code == 0
    assert _in_store(isolated_store, CORES[0])  # the control: the data does carry the key


def test_secrets_in_error_messages_are_masked(cli: Invoke, tmp_path: Path) -> None:
    missing = tmp_path / f"export-{OPENAI_KEY}.jsonl"
    result = cli("ingest", str(missing))
    assert result.exit_code == 3 and "no such file" in result.stderr
    assert CORES[0] not in result.stderr and "…REDACTED…" in result.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(sample_rows()[0]) + "\n" + f'{{"Authorization": "Bearer {JWT}", oops\n')
    result = cli("ingest", str(bad))
    assert result.exit_code == 3 and "bad.jsonl:2" in result.stderr and CORES[-1] not in result.stderr


@pytest.mark.parametrize("text, expected", [
    ("key sk-proj-abcdefghijklmnopqrstuvwxyz0123", "key sk-proj-…REDACTED…0123"),
    ('"authorization": "Basic dXNlcjpwYXNz"', '"authorization": "Basi…REDACTED…YXNz"'),
    ('"Cookie": "a=b"', '"Cookie": "[REDACTED]"'),
    ('"x-api-key": "with \\"quote\\" inside and more"', '"x-api-key": "[REDACTED]"'),
    ("AKIAIOSFODNN7EXAMPLE", "AKIA…REDACTED…MPLE"),
    ("task-manager-for-the-whole-team-of-people", "task-manager-for-the-whole-team-of-people"),
    ("the bearer of bad news", "the bearer of bad news"),
    ('{"args": "{\\"api-key\\": \\"abcdefghijklmnopqrst\\"}"}',
     '{"args": "{\\"api-key\\": \\"abcd…REDACTED…qrst\\"}"}'),
    ('"api_key": ""', '"api_key": ""'),
])
def test_masking_rules(text: str, expected: str) -> None:
    assert redact_text(text) == expected
    assert redact_text(expected) == expected  # idempotent: masked text is never masked again
