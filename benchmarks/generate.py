"""Synthetic logs for the benchmarks, by seed: Portkey exports, OTLP JSON, LiteLLM bucket folders.

Every trace is the sample's reference agent run (sample_logs/generate.py `agent_run`: four chat
calls, three tool round trips) with its model, tags, user, timing and ids varied, some cache
hits, retries, and failed final calls. Rows come out in time order, as an export has them.

- Portkey export rows (JSONL, and Parquet with bodies as JSON text), N requests.
- OTLP JSON as the collector's file exporter writes it (one `TracesData` per line, a batch of
  up to 512 spans in the order they ended), N spans: the same agent runs as GenAI-convention
  spans (`--convention genai`: opentelemetry-instrumentation-openai-v2's span attributes) or as
  OpenInference spans (`openinference`: openinference-instrumentation-langchain's tree of
  AGENT / CHAIN / PROMPT / LLM / TOOL spans), each question carrying retrieved context.
- A LiteLLM bucket: one StandardLoggingPayload per file, as its S3/GCS loggers write them
  (`litellm-logs/{YYYY-MM-DD}/time-{HH-MM-SS-ffffff}_{id}.json`), N files.
- A small OTLP pair: 22 GenAI spans without content, and their content as log records.
- A gzip whose one line expands about 200x, and a JSONL file with one line past the line limit.

    python benchmarks/generate.py --n 100000 --seed 1          # benchmarks/data/portkey_100000_s1.*
    python benchmarks/generate.py --n 2200000 --no-parquet     # a ~5 GB JSONL file
    python benchmarks/generate.py --otlp 13600 --convention openinference
    python benchmarks/generate.py --litellm 2000
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import random
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
DATA = HERE / "data"


def _load(name: str, path: Path) -> Any:
    """A module loaded by its path (sample_logs/generate.py shares this module's name)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sample = _load("sample_generate", HERE.parent / "sample_logs" / "generate.py")
agent_run = sample.agent_run
# The format fixtures' builders: the attribute shapes tracecli reads, and the reference run.
fixtures = _load("format_fixtures", HERE.parent / "tests" / "fixtures" / "formats" / "build.py")
ref = fixtures.ref

CALLS_PER_TRACE = 4
MODELS = [("gpt-4o-mini", 60), ("gpt-4o", 25), ("claude-3-5-sonnet-20241022", 15)]
ENVS = [("prod", 70), ("staging", 20), ("dev", 10)]
FEATURES = ["math-agent", "support-bot", "triage", "summaries", "code-review"]
WORDS = ("invoice refund login latency cache region billing export quota deploy rollback "
         "ticket webhook schema retry timeout").split()
START = datetime(2025, 3, 1, tzinfo=UTC)
SPAN = timedelta(days=30)  # the whole file covers a month of traffic
RATE_LIMIT = {"error": {"message": "Rate limit reached for requests", "type": "requests",
                        "param": None, "code": "rate_limit_exceeded"}}
SERVER_ERROR = {"error": {"message": "The server had an error while processing your request.",
                          "type": "server_error", "param": None, "code": None}}


def _weighted(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _fail(row: dict[str, Any], rng: random.Random) -> None:
    """Turn a successful call into a provider error, as Portkey logs one."""
    status = rng.choice([429, 500])
    row.update(is_success=False, response_status_code=status, res_units=0,
               total_units=row["req_units"], cost=0.0,
               response=RATE_LIMIT if status == 429 else SERVER_ERROR)


def traces(n_requests: int, seed: int) -> Iterator[list[dict[str, Any]]]:
    """Agent runs of four calls each until n_requests rows (the last run may be cut short)."""
    rng = random.Random(seed)
    n_traces = -(-n_requests // CALLS_PER_TRACE)
    step = SPAN / max(n_traces, 1)
    left = n_requests
    for i in range(n_traces):
        model = _weighted(rng, MODELS)
        meta = {"env": _weighted(rng, ENVS), "feature": rng.choice(FEATURES),
                "_user": f"u_{rng.randrange(20000)}"}
        roll = rng.random()
        rows = agent_run(
            f"trc_{rng.getrandbits(64):016x}", START + step * i + timedelta(seconds=rng.random()),
            model, meta, prefix=f"s{seed}x{i:x}",
            cache_call=rng.randrange(1, 5) if roll < 0.10 else None,
            retry_call=rng.randrange(1, 5) if 0.10 <= roll < 0.15 else None,
            retries=rng.randrange(1, 4))
        note = " ".join(rng.choice(WORDS) for _ in range(6))  # per-trace text, as users vary
        for row in rows:
            row["request"]["messages"][1]["content"] += f" (context: {note})"
        if rng.random() < 0.03:
            _fail(rows[-1], rng)
        yield rows[:left]
        left -= len(rows[:left])


def write_jsonl(path: Path, n_requests: int, seed: int) -> int:
    with open(path, "w", encoding="utf-8") as fh:
        for rows in traces(n_requests, seed):
            fh.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    return path.stat().st_size


def write_parquet(path: Path, n_requests: int, seed: int, chunk: int = 50_000) -> int:
    """The same rows; bodies and metadata as JSON text columns, like the sample's Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer: pq.ParquetWriter | None = None
    buf: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal writer
        table = pa.Table.from_pylist(buf, schema=writer.schema if writer else None)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table)
        buf.clear()

    for rows in traces(n_requests, seed):
        buf.extend({k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in r.items()}
                   for r in rows)
        if len(buf) >= chunk:
            flush()
    if buf:
        flush()
    if writer:
        writer.close()
    return path.stat().st_size


# ---------------------------------------------------------------- agent runs for OTLP and LiteLLM

CONTEXT_WORDS = 170  # words of retrieved context per question, on average
VOCAB = (" ".join(WORDS) + " account balance customer order shipment warehouse contract renewal "
         "discount license seat usage limit alert incident outage status page dashboard metric "
         "report quarter revenue forecast budget approval policy security audit").split()
RESPONSE_MODELS = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18", "gpt-4o": "gpt-4o-2024-08-06",
                   "claude-3-5-sonnet-20241022": "claude-3-5-sonnet-20241022"}
API_HOSTS = {"openai": "api.openai.com", "anthropic": "api.anthropic.com"}
RATE_LIMITED = "Error code: 429 - Rate limit reached for requests"


@dataclass(frozen=True)
class AgentRun:
    """One run of the reference agent, varied: what the OTLP and LiteLLM writers render."""

    index: int
    seed: int  # of the run's own span and call ids
    trace_id: str  # 32 hex digits
    start: datetime
    pace: float  # latencies against the reference run's
    model: str
    env: str
    feature: str
    user: str
    session: str
    question: str  # the reference question with this run's retrieved context
    context_tokens: int
    failed: bool  # the last call was rate limited
    old_names: bool  # GenAI: an older instrumentation (deprecated names, structured values)

    @property
    def prefix(self) -> str:
        return f"{self.seed & 0xFFFFFFFF:08x}"

    @property
    def provider(self) -> str:
        return str(sample.PROVIDERS[self.model])

    @property
    def response_model(self) -> str:
        return RESPONSE_MODELS[self.model]

    def at(self, t: datetime) -> datetime:
        offset: timedelta = t - ref.T0
        return self.start + offset * self.pace

    def timeline(self) -> list[tuple[str, int, datetime, datetime]]:
        return [(what, n, self.at(s), self.at(e)) for what, n, s, e in ref.timeline()]

    def end(self) -> datetime:
        return self.at(ref.end_time())

    def messages(self, n: int) -> list[dict[str, Any]]:
        """The chat messages sent with LLM call n."""
        messages: list[dict[str, Any]] = ref.openai_messages(n, self.prefix)
        messages[1]["content"] = self.question
        return messages

    def output(self, n: int) -> dict[str, Any] | None:
        """What LLM call n answered (None: it failed)."""
        return None if self.failed and n == 3 else ref.openai_output(n, self.prefix)

    def tokens(self, n: int) -> tuple[int, int]:
        if self.output(n) is None:
            return 0, 0
        return ref.PROMPT_TOKENS[n] + self.context_tokens, ref.COMPLETION_TOKENS[n]

    def cost(self, n: int) -> float:
        """USD, at the sample's list prices."""
        rate_in, rate_out = sample.PRICES[self.model]
        p, c = self.tokens(n)
        return float(round((p * rate_in + c * rate_out) / 1e6, 10))


def agent_runs(seed: int, count: int) -> Iterator[AgentRun]:
    """Runs spread over the month as `count` of them would be (more follow at the same pace)."""
    rng = random.Random(seed)
    step = SPAN / max(count, 1)
    i = 0
    while True:
        words = rng.randint(CONTEXT_WORDS // 2, CONTEXT_WORDS * 3 // 2)
        context = " ".join(rng.choice(VOCAB) for _ in range(words))
        yield AgentRun(
            index=i, seed=rng.getrandbits(64), trace_id=f"{rng.getrandbits(128):032x}",
            start=START + step * i + timedelta(seconds=rng.random()), pace=rng.uniform(0.6, 1.8),
            model=_weighted(rng, MODELS), env=_weighted(rng, ENVS), feature=rng.choice(FEATURES),
            user=f"u_{rng.randrange(20000)}", session=f"sess_{rng.getrandbits(48):012x}",
            question=f"{ref.QUESTION}\n\nContext:\n{context}", context_tokens=len(context) // 4,
            failed=rng.random() < 0.03, old_names=rng.random() < 0.10)
        i += 1


def _ids(run: AgentRun) -> Callable[[], str]:
    """The run's span ids: 16 hex digits, the same for every rendering of the run."""
    rng = random.Random(run.seed)
    return lambda: f"{rng.getrandbits(64):016x}"


# ---------------------------------------------------------------- OTLP JSON

BATCH = 512  # spans per export: the OpenTelemetry SDK BatchSpanProcessor's max_export_batch_size
SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"
GENAI_SCOPES = {"openai": ("opentelemetry.instrumentation.openai_v2", "2.1b0"),
                "anthropic": ("opentelemetry.instrumentation.anthropic", "0.1b0")}
OI_SCOPE = ("openinference.instrumentation.langchain", "0.1.51")
OK: dict[str, Any] = {"code": 1}
UNSET: dict[str, Any] = {}
FAILED = {"code": 2, "message": RATE_LIMITED}

Scope = tuple[str, str]
Emitted = tuple[Scope, dict[str, Any]]  # a span and the instrumentation scope that wrote it


def _span(run: AgentRun, span_id: str, parent: str, name: str, kind: int, start: datetime,
          end: datetime, values: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    """An OTLP JSON span as the collector's file exporter writes it (int64 as strings)."""
    return {"traceId": run.trace_id, "spanId": span_id, "parentSpanId": parent, "name": name,
            "kind": kind, "startTimeUnixNano": str(ref.nanos(start)),
            "endTimeUnixNano": str(ref.nanos(end)), "attributes": fixtures.attrs(values),
            "status": status}


def _resource(run: AgentRun) -> tuple[str, dict[str, Any]]:
    """The process that traced the run: its key and resource attributes."""
    host = f"{run.feature}-{run.env}-{run.index % 3}"
    return host, {"service.name": run.feature, "service.version": "1.4.2",
                  "deployment.environment.name": run.env, "host.name": host,
                  "telemetry.sdk.name": "opentelemetry", "telemetry.sdk.language": "python",
                  "telemetry.sdk.version": "1.38.0", "process.runtime.name": "cpython",
                  "process.runtime.version": "3.12.7"}


def _genai_message(message: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI chat message in the GenAI conventions' parts form."""
    if message["role"] == "tool":
        return {"role": "tool", "parts": [{"type": "tool_call_response",
                                           "id": message["tool_call_id"],
                                           "response": message["content"]}]}
    parts: list[dict[str, Any]] = []
    if message.get("content"):
        parts.append({"type": "text", "content": message["content"]})
    for call in message.get("tool_calls") or []:
        parts.append({"type": "tool_call", "id": call["id"], "name": call["function"]["name"],
                      "arguments": json.loads(call["function"]["arguments"])})
    return {"role": message["role"], "parts": parts}


def _genai_content(run: AgentRun, n: int) -> tuple[list[Any], list[Any], list[Any] | None]:
    """LLM call n's system instructions, input messages and output messages (None: failed)."""
    system, *sent = [_genai_message(m) for m in run.messages(n)]
    out = run.output(n)
    if out is None:
        return system["parts"], sent, None
    finish = "tool_call" if out.get("tool_calls") else "stop"
    return system["parts"], sent, [{**_genai_message(out), "finish_reason": finish}]


def _genai_chat(run: AgentRun, n: int, span_id: str, parent: str, start: datetime,
                end: datetime, content: bool) -> dict[str, Any]:
    """A chat span as opentelemetry-instrumentation-openai-v2 writes it with content capture on
    (JSON strings); an older instrumentation's: deprecated names, structured values."""
    old = run.old_names
    p, c = run.tokens(n)
    values: dict[str, Any] = {
        "gen_ai.operation.name": "chat", ("gen_ai.system" if old else "gen_ai.provider.name"):
        run.provider, "gen_ai.request.model": run.model, "gen_ai.request.temperature": 0.0,
        "server.address": API_HOSTS[run.provider], "server.port": 443}
    system, sent, answer = _genai_content(run, n)
    if answer is not None:
        values.update({
            "gen_ai.response.model": run.response_model,
            "gen_ai.response.id": f"chatcmpl-{run.prefix}{n + 1}",
            "gen_ai.response.finish_reasons": [answer[0]["finish_reason"]],
            ("gen_ai.usage.prompt_tokens" if old else "gen_ai.usage.input_tokens"): p,
            ("gen_ai.usage.completion_tokens" if old else "gen_ai.usage.output_tokens"): c})
    else:
        values["error.type"] = "429"
    if content and old:
        values["gen_ai.input.messages"] = [{"role": "system", "parts": system}, *sent]
        values["gen_ai.output.messages"] = answer
    elif content:
        values["gen_ai.system_instructions"] = json.dumps(system)
        values["gen_ai.input.messages"] = json.dumps(sent)
        values["gen_ai.output.messages"] = json.dumps(answer) if answer else None
        values["gen_ai.tool.definitions"] = json.dumps(ref.TOOLS)
    return _span(run, span_id, parent, f"chat {run.model}", 3, start, end, values,
                 UNSET if answer is not None else FAILED)


def genai_spans(run: AgentRun, content: bool = True) -> list[Emitted]:
    """The run as GenAI-convention spans, in the order they ended (the agent span last).
    content=False leaves messages to log records (`genai_log_records`)."""
    ids = _ids(run)
    agent_id = ids()
    scope = (f"{run.feature}.agent", "1.4.2")
    out: list[Emitted] = []
    for what, n, start, end in run.timeline():
        if what == "llm":
            out.append((GENAI_SCOPES[run.provider],
                        _genai_chat(run, n, ids(), agent_id, start, end, content)))
            continue
        name, args, result = ref.STEPS[n]
        out.append((scope, _span(run, ids(), agent_id, f"execute_tool {name}", 1, start, end, {
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name,
            "gen_ai.tool.call.id": ref.call_id(n, run.prefix), "gen_ai.tool.type": "function",
            "gen_ai.tool.call.arguments": json.dumps(args), "gen_ai.tool.call.result": result},
            OK)))
    out.append((scope, _span(run, agent_id, "", f"invoke_agent {run.feature}", 1, run.start,
                             run.end(), {
        "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": run.feature,
        "gen_ai.provider.name": run.provider, "gen_ai.request.model": run.model,
        "gen_ai.conversation.id": run.session, "user.id": run.user},
        FAILED if run.failed else OK)))
    return out


def genai_log_records(run: AgentRun, spans: list[Emitted]) -> list[dict[str, Any]]:
    """The content of the run's chat spans among `spans`, as the GenAI inference event's log
    records (structured values), each naming its span."""
    records = []
    chats = [span for _, span in spans if span["name"].startswith("chat ")]
    for n, span in enumerate(chats):
        system, sent, answer = _genai_content(run, n)
        records.append({
            "timeUnixNano": span["endTimeUnixNano"], "observedTimeUnixNano": span["endTimeUnixNano"],
            "severityNumber": 9, "eventName": "gen_ai.client.inference.operation.details",
            "body": {}, "attributes": fixtures.attrs({
                "gen_ai.operation.name": "chat", "gen_ai.request.model": run.model,
                "gen_ai.system_instructions": system, "gen_ai.input.messages": sent,
                "gen_ai.output.messages": answer}),
            "traceId": run.trace_id, "spanId": span["spanId"], "flags": 1})
    return records


def _lc_action(run: AgentRun, k: int) -> dict[str, Any]:
    """Tool call k as LangChain serialises the agent's ToolAgentAction (dumpd)."""
    name, args, _ = ref.STEPS[k]
    asked = fixtures.lc_message(ref.openai_output(k, run.prefix))
    return {"lc": 1, "type": "constructor",
            "id": ["langchain", "agents", "output_parsers", "tools", "ToolAgentAction"],
            "kwargs": {"tool": name, "tool_input": args, "tool_call_id": ref.call_id(k, run.prefix),
                       "log": f"\nInvoking: `{name}` with `{args}`\n\n\n", "message_log": [asked]}}


def _lc_decision(run: AgentRun, n: int) -> Any:
    """What the agent's output parser made of LLM call n: an action list, or AgentFinish."""
    if n < 3:
        return [_lc_action(run, n)]
    return {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "agent", "AgentFinish"],
            "kwargs": {"return_values": {"output": ref.ANSWER}, "log": ref.ANSWER}}


def _io(values: dict[str, Any], key: str, value: Any) -> None:
    """input.value / output.value as openinference-instrumentation-langchain records them."""
    if isinstance(value, str):
        values[f"{key}.value"] = value
    else:
        values[f"{key}.value"] = json.dumps(value)
        values[f"{key}.mime_type"] = "application/json"


def _oi_llm(run: AgentRun, n: int, common: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """LLM call n's attributes (tests/fixtures/formats/build.py `oi_llm_attributes`, varied),
    and whether it answered."""
    sent, out = run.messages(n), run.output(n)
    p, c = run.tokens(n)
    values: dict[str, Any] = {
        "openinference.span.kind": "LLM", "llm.provider": run.provider, "llm.system": run.provider,
        "llm.model_name": run.response_model if out else run.model,
        "llm.invocation_parameters": json.dumps({"model": run.model, "model_name": run.model,
                                                 "temperature": 0.0, "stream": False,
                                                 "_type": "openai-chat"}),
        **common, "metadata": json.dumps({**json.loads(common["metadata"]),
                                          "ls_provider": run.provider, "ls_model_name": run.model,
                                          "ls_model_type": "chat", "ls_temperature": 0.0})}
    _io(values, "input", {"messages": [[fixtures.lc_message(m) for m in sent]]})
    for i, tool in enumerate(ref.TOOLS):
        values[f"llm.tools.{i}.tool.json_schema"] = json.dumps(tool)
    values.update(fixtures.oi_flat_messages("llm.input_messages", sent))
    if out is None:
        return values, False
    message = fixtures.lc_message(out)
    finish = "tool_calls" if out.get("tool_calls") else "stop"
    _io(values, "output", {"generations": [[{
        "text": out.get("content") or "", "generation_info": {"finish_reason": finish},
        "type": "ChatGeneration", "message": message}]],
        "llm_output": {"token_usage": {"prompt_tokens": p, "completion_tokens": c,
                                       "total_tokens": p + c},
                       "model_name": run.response_model}, "run": None, "type": "LLMResult"})
    values.update(fixtures.oi_flat_messages("llm.output_messages", [out]))
    values.update({"llm.token_count.prompt": p, "llm.token_count.completion": c,
                   "llm.token_count.total": p + c})
    if run.index % 2 == 0:  # newer instrumentations record the cost too
        rate_in, rate_out = sample.PRICES[run.model]
        values.update({"llm.cost.prompt": p * rate_in / 1e6, "llm.cost.completion": c * rate_out / 1e6,
                       "llm.cost.total": run.cost(n)})
    return values, True


def _exception(end: datetime) -> dict[str, Any]:
    return {"timeUnixNano": str(ref.nanos(end)), "name": "exception", "attributes": fixtures.attrs({
        "exception.type": "openai.RateLimitError", "exception.message": RATE_LIMITED,
        "exception.stacktrace": "Traceback (most recent call last):\n  ...\n"
                                f"openai.RateLimitError: {RATE_LIMITED}",
        "exception.escaped": "False"})}


def oi_spans(run: AgentRun) -> list[Emitted]:
    """The run as openinference-instrumentation-langchain traces an AgentExecutor (the tree of
    tests/fixtures/formats/build.py `oi_langchain_spans`), every runnable with its inputs and
    outputs, in the order the spans ended."""
    ids = _ids(run)
    root = ids()
    common = {"session.id": run.session, "user.id": run.user, "tag.tags": [run.feature, run.env],
              "metadata": json.dumps({"env": run.env, "feature": run.feature,
                                      "session_id": run.session, "user_id": run.user})}
    chain = {"openinference.span.kind": "CHAIN", "session.id": run.session,
             "metadata": common["metadata"]}
    spans: list[tuple[datetime, int, dict[str, Any]]] = []  # (end, depth, span)

    def add(depth: int, span_id: str, parent: str, name: str, start: datetime, end: datetime,
            values: dict[str, Any], inputs: Any = None, outputs: Any = None,
            status: dict[str, Any] = OK) -> None:
        values = dict(values)
        if inputs is not None:
            _io(values, "input", inputs)
        if outputs is not None:
            _io(values, "output", outputs)
        spans.append((end, depth, _span(run, span_id, parent, name, 1, start, end, values, status)))

    for what, n, start, end in run.timeline():
        if what == "tool":
            name, args, result = ref.STEPS[n]
            values = {"openinference.span.kind": "TOOL", "tool.name": name,
                      "tool.description": ref.TOOLS[0 if name == "multiply" else 1]["function"]["description"],
                      "tool_call.id": ref.call_id(n, run.prefix), **common}
            add(1, ids(), root, name, start, end, values, str(args), result)
            continue
        steps = [[_lc_action(run, k), ref.STEPS[k][2]] for k in range(n)]
        inputs = {"input": run.question, "intermediate_steps": steps}
        pad = [fixtures.lc_message(m) for m in run.messages(n)[2:]]
        prompt = {"lc": 1, "type": "constructor", "id": ["langchain", "prompts", "chat", "ChatPromptValue"],
                  "kwargs": {"messages": [fixtures.lc_message(m) for m in run.messages(n)]}}
        llm_values, answered = _oi_llm(run, n, common)
        seq, assign, parallel, lam, tmpl, llm, parser = (ids() for _ in range(7))
        failed = None if answered else FAILED
        add(1, seq, root, "RunnableSequence", start, end, chain, inputs,
            _lc_decision(run, n) if answered else None, failed or OK)
        add(2, assign, seq, "RunnableAssign<agent_scratchpad>", start, start, chain, inputs,
            {**inputs, "agent_scratchpad": pad})
        add(3, parallel, assign, "RunnableParallel<agent_scratchpad>", start, start, chain, inputs,
            {"agent_scratchpad": pad})
        add(4, lam, parallel, "RunnableLambda", start, start, chain, inputs, pad)
        add(2, tmpl, seq, "ChatPromptTemplate", start, start,
            {**chain, "openinference.span.kind": "PROMPT"}, {**inputs, "agent_scratchpad": pad},
            prompt)
        add(2, llm, seq, f"Chat{'Anthropic' if run.provider == 'anthropic' else 'OpenAI'}",
            start, end, llm_values, status=failed or OK)
        if not answered:
            spans[-1][2]["events"] = [_exception(end)]
            continue
        add(2, parser, seq, "ToolsAgentOutputParser", end, end, chain,
            fixtures.lc_message(run.output(n)), _lc_decision(run, n))
    add(0, root, "", "AgentExecutor", run.start, run.end(),
        {"openinference.span.kind": "AGENT", **common}, {"input": run.question},
        None if run.failed else {"output": ref.ANSWER}, FAILED if run.failed else OK)
    spans.sort(key=lambda s: (s[0], -s[1]))
    return [(OI_SCOPE, span) for _, _, span in spans]


CONVENTIONS: dict[str, Callable[[AgentRun], list[Emitted]]] = {
    "genai": genai_spans, "openinference": oi_spans}
SPANS_PER_RUN = {"genai": 8, "openinference": 32}  # a run that did not fail


def _exported(batch: list[tuple[AgentRun, Scope, dict[str, Any]]], resources_key: str,
              scopes_key: str, items_key: str) -> dict[str, Any]:
    """One export (TracesData, LogsData): the batch's items under their resources and scopes."""
    resources: dict[str, tuple[dict[str, Any], dict[Scope, list[dict[str, Any]]]]] = {}
    for run, scope, item in batch:
        key, values = _resource(run)
        resources.setdefault(key, (values, {}))[1].setdefault(scope, []).append(item)
    return {resources_key: [{
        "resource": {"attributes": fixtures.attrs(values)},
        scopes_key: [{"scope": {"name": name, "version": version}, items_key: items}
                     for (name, version), items in scopes.items()],
        "schemaUrl": SCHEMA_URL} for values, scopes in resources.values()]}


def _traces_data(batch: list[tuple[AgentRun, Scope, dict[str, Any]]]) -> dict[str, Any]:
    return _exported(batch, "resourceSpans", "scopeSpans", "spans")


def _line(value: Any) -> str:
    return json.dumps(value, separators=(",", ":")) + "\n"


def write_otlp(path: Path, n_spans: int, seed: int, convention: str) -> int:
    """n_spans spans of agent runs in `convention`, BATCH to a line (the last run may be cut)."""
    build = CONVENTIONS[convention]
    batch: list[tuple[AgentRun, Scope, dict[str, Any]]] = []
    left = n_spans
    with open(path, "w", encoding="utf-8") as fh:
        for run in agent_runs(seed, -(-n_spans // SPANS_PER_RUN[convention])):
            for scope, span in build(run)[:left]:
                batch.append((run, scope, span))
                left -= 1
                if len(batch) == BATCH:
                    fh.write(_line(_traces_data(batch)))
                    batch.clear()
            if not left:
                break
        if batch:
            fh.write(_line(_traces_data(batch)))
    return path.stat().st_size


SMALL_SPANS = 22


def write_otlp_small(folder: Path, seed: int) -> None:
    """SMALL_SPANS GenAI spans without content (traces.jsonl), and their chat content as log
    records (logs.jsonl): tests/fixtures/formats/otlp/split, a few runs long."""
    batch: list[tuple[AgentRun, Scope, dict[str, Any]]] = []
    records: list[tuple[AgentRun, Scope, dict[str, Any]]] = []
    for run in agent_runs(seed, 3):
        spans = genai_spans(run, content=False)[: SMALL_SPANS - len(batch)]
        batch.extend((run, scope, span) for scope, span in spans)
        records.extend((run, GENAI_SCOPES[run.provider], record)
                       for record in genai_log_records(run, spans))
        if len(batch) == SMALL_SPANS:
            break
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "traces.jsonl").write_text(_line(_traces_data(batch)))
    (folder / "logs.jsonl").write_text(_line(_exported(records, "resourceLogs", "scopeLogs",
                                                       "logRecords")))


# ---------------------------------------------------------------- LiteLLM bucket folders

def litellm_payloads(run: AgentRun) -> list[dict[str, Any]]:
    """The run's LLM calls as StandardLoggingPayloads (tests/fixtures/formats/build.py
    `litellm_payload`, varied), as a LiteLLM proxy logs them."""
    rng = random.Random(run.seed)
    out = []
    for what, n, start, end in run.timeline():
        if what != "llm":
            continue
        call = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        p, c = run.tokens(n)
        rate_in, rate_out = sample.PRICES[run.model]
        cost = run.cost(n)
        rec: dict[str, Any] = fixtures.litellm_payload(n, run.trace_id, run.prefix, string_times=False)
        api_base = f"https://{API_HOSTS[run.provider]}/v1"
        rec.update({
            "id": call, "litellm_call_id": call, "trace_id": run.trace_id,
            "custom_llm_provider": run.provider, "model": run.model, "model_group": run.model,
            "model_id": f"{run.model}-deployment-1", "api_base": api_base,
            "startTime": start.timestamp(), "endTime": end.timestamp(),
            "completionStartTime": end.timestamp(), "response_time": (end - start).total_seconds(),
            "prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c,
            "response_cost": cost, "cost_breakdown": {"input_cost": p * rate_in / 1e6,
                                                      "output_cost": c * rate_out / 1e6,
                                                      "total_cost": cost},
            "end_user": run.user, "request_tags": [run.feature, run.env],
            "messages": run.messages(n),
            "metadata": {**rec["metadata"], "user_api_key_user_id": run.user,
                         "spend_logs_metadata": {"env": run.env},
                         "requester_metadata": {"feature": run.feature}},
            "hidden_params": {**rec["hidden_params"], "response_cost": cost, "api_base": api_base,
                              "model_id": f"{run.model}-deployment-1"},
            "model_map_information": {"model_map_key": run.model, "model_map_value": None}})
        answer = run.output(n)
        if answer is None:
            rec.update({"status": "failure", "response": None, "error_str": f"litellm.RateLimitError: {RATE_LIMITED}",
                        "error_information": {"error_code": "429", "error_class": "RateLimitError",
                                              "llm_provider": run.provider, "traceback": "",
                                              "error_message": f"litellm.RateLimitError: {RATE_LIMITED}"}})
        else:
            rec["response"] = {
                "id": f"chatcmpl-{run.prefix}{n + 1}", "object": "chat.completion",
                "created": int(start.timestamp()), "model": run.response_model,
                "choices": [{"index": 0, "message": answer,
                             "finish_reason": "tool_calls" if answer.get("tool_calls") else "stop"}],
                "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}}
        out.append(rec)
    return out


def litellm_key(rec: dict[str, Any]) -> str:
    """Where LiteLLM's S3 logger puts a payload: `{s3_path}/{YYYY-MM-DD}/{get_logging_id}.json`
    (litellm/integrations/s3_v2.py, litellm/utils.py `get_logging_id`)."""
    start = datetime.fromtimestamp(rec["startTime"], UTC)
    return f"litellm-logs/{start:%Y-%m-%d}/time-{start:%H-%M-%S-%f}_{rec['id']}.json"


def write_litellm_folder(folder: Path, n_files: int, seed: int) -> int:
    """n_files one-call JSON files of agent runs; returns their bytes."""
    total, left = 0, n_files
    for run in agent_runs(seed, -(-n_files // CALLS_PER_TRACE)):
        for rec in litellm_payloads(run)[:left]:
            path = folder / litellm_key(rec)
            path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(rec)  # the logger's safe_dumps: json.dumps defaults
            path.write_text(text)
            total += len(text)
            left -= 1
        if not left:
            return total
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- inputs past the limits

def write_gzip_line(path: Path, expanded: int) -> int:
    """One Portkey row whose user message makes the line `expanded` bytes, gzipped about 200:1
    (a short phrase repeated, eight random hex digits every 4 KiB)."""
    rng = random.Random(0)
    head = ('{"id":"big-1","trace_id":"trc_big","created_at":"2025-03-04T10:15:02.123Z",'
            '"ai_model":"gpt-4o-mini","request":{"model":"gpt-4o-mini","messages":'
            '[{"role":"user","content":"')
    tail = '"}]},"response":{"choices":[]}}\n'
    phrase = b"invoice refund login latency cache region "
    block = (phrase * (4096 // len(phrase) + 1))[:4088]
    with gzip.open(path, "wb", compresslevel=6) as fh:
        fh.write(head.encode())
        left = expanded - len(head) - len(tail)
        while left > 0:
            chunk = b"".join(block + f"{rng.getrandbits(32):08x}".encode() for _ in range(256))
            fh.write(chunk[:left])
            left -= len(chunk)
        fh.write(tail.encode())
    return path.stat().st_size


def write_long_line(path: Path, size: int, seed: int) -> int:
    """A Portkey export whose third row is `size` bytes long (a pasted document), the others
    ordinary."""
    rows = [r for run in traces(8, seed) for r in run]
    text = " ".join(WORDS) + " "
    filler = (text * (1_000_000 // len(text) + 1))[:1_000_000]
    with open(path, "w", encoding="utf-8") as fh:
        for i, row in enumerate(rows):
            if i != 2:
                fh.write(_line(row))
                continue
            line = _line(row)
            at = line.index('"content":"') + len('"content":"')
            fh.write(line[:at])
            left = size - len(line)
            while left > 0:
                fh.write(filler[:left])
                left -= len(filler)
            fh.write(line[at:])
    return path.stat().st_size


# ---------------------------------------------------------------- files by name, made once

def _made(path: Path, write: Callable[[Path], Any]) -> Path:
    """`path`, written by `write` unless present (same arguments give the same bytes)."""
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        if tmp.is_dir():
            shutil.rmtree(tmp)
        write(tmp)
        tmp.rename(path)
    return path


def ensure_otlp(n_spans: int, seed: int, convention: str) -> Path:
    return _made(DATA / f"otlp_{convention}_{n_spans}_s{seed}.jsonl",
                 lambda p: write_otlp(p, n_spans, seed, convention))


def ensure_otlp_small(seed: int) -> Path:
    """A folder: traces.jsonl and logs.jsonl."""
    return _made(DATA / f"otlp_small_s{seed}", lambda p: write_otlp_small(p, seed))


def ensure_litellm_folder(n_files: int, seed: int) -> Path:
    """A folder holding `litellm-logs/{day}/{file}.json` (glob: `{folder}/*/*/*.json`)."""
    return _made(DATA / f"litellm_{n_files}_s{seed}",
                 lambda p: write_litellm_folder(p, n_files, seed))


def ensure_gzip_line(expanded: int) -> Path:
    return _made(DATA / f"one_line_{expanded // 1_000_000}MB.jsonl.gz",
                 lambda p: write_gzip_line(p, expanded))


def ensure_long_line(size: int, seed: int) -> Path:
    return _made(DATA / f"long_line_{size // 1_000_000}MB_s{seed}.jsonl",
                 lambda p: write_long_line(p, size, seed))


def paths(n_requests: int, seed: int) -> tuple[Path, Path]:
    stem = DATA / f"portkey_{n_requests}_s{seed}"
    return stem.with_suffix(".jsonl"), stem.with_suffix(".parquet")


def ensure(n_requests: int, seed: int, parquet: bool = True) -> tuple[Path, Path]:
    """Write the files unless present (same n and seed give the same bytes)."""
    DATA.mkdir(parents=True, exist_ok=True)
    jsonl, pq_path = paths(n_requests, seed)
    if not jsonl.exists():
        tmp = jsonl.with_suffix(".jsonl.part")
        write_jsonl(tmp, n_requests, seed)
        tmp.rename(jsonl)
    if parquet and not pq_path.exists():
        tmp = pq_path.with_suffix(".parquet.part")
        write_parquet(tmp, n_requests, seed)
        tmp.rename(pq_path)
    return jsonl, pq_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="Portkey requests (log rows)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-parquet", action="store_true")
    parser.add_argument("--otlp", type=int, metavar="SPANS", help="write OTLP JSON instead")
    parser.add_argument("--convention", choices=sorted(CONVENTIONS), default="openinference")
    parser.add_argument("--litellm", type=int, metavar="FILES", help="write a LiteLLM bucket folder")
    parser.add_argument("--otlp-small", action="store_true", help="write the 22-span OTLP pair")
    args = parser.parse_args()
    made: list[Path] = []
    if args.otlp:
        made.append(ensure_otlp(args.otlp, args.seed, args.convention))
    if args.litellm:
        made.append(ensure_litellm_folder(args.litellm, args.seed))
    if args.otlp_small:
        made.append(ensure_otlp_small(args.seed))
    if not made:
        jsonl, pq_path = ensure(args.n, args.seed, parquet=not args.no_parquet)
        made += [p for p in (jsonl, pq_path) if p.exists()]
    for path in made:
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() \
            else path.stat().st_size
        print(path, f"{size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
