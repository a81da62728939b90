"""Write the bundled sample logs: a Portkey log export (JSONL), the same rows as Parquet, and
user feedback on some of the traces.

Deterministic: `python sample_logs/generate.py` rewrites identical files. The rows follow the
Portkey export fields in ../shared/FORMATS.md, with OpenAI chat bodies inside. The benchmark
generator (benchmarks/generate.py) builds on `agent_run` and `portkey_row`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent

# list prices, USD per million tokens (input, output), used to write realistic logged costs
PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "claude-3-5-sonnet-20241022": (3.00, 15.00),
    "text-embedding-3-small": (0.02, 0.0),
}
PROVIDERS = {"gpt-4o-mini": "openai", "gpt-4o": "openai", "text-embedding-3-small": "openai",
             "claude-3-5-sonnet-20241022": "anthropic"}

TOOLS = [
    {"type": "function", "function": {
        "name": "multiply", "description": "Multiply two integers together.",
        "parameters": {"type": "object", "properties": {
            "first_int": {"type": "integer"}, "second_int": {"type": "integer"}},
            "required": ["first_int", "second_int"]}}},
    {"type": "function", "function": {
        "name": "exponentiate", "description": "Exponentiate the base to the exponent power.",
        "parameters": {"type": "object", "properties": {
            "base": {"type": "integer"}, "exponent": {"type": "integer"}},
            "required": ["base", "exponent"]}}},
]
SYSTEM = "You are a helpful assistant"
QUESTION = "Take 3 to the fifth power and multiply that by thirty six, then square the result"
STEPS = [("exponentiate", {"base": 3, "exponent": 5}, 243),
         ("multiply", {"first_int": 243, "second_int": 36}, 8748),
         ("exponentiate", {"base": 8748, "exponent": 2}, 76527504)]
ANSWER = ("The result of taking 3 to the fifth power, multiplying that by thirty six, "
          "and then squaring the result is 76,527,504.")


def cost_cents(model: str, prompt: int, completion: int) -> float:
    p_in, p_out = PRICES[model]
    return round((prompt * p_in + completion * p_out) / 1e6 * 100, 8)


def completion(cid: str, model: str, created: int, message: dict[str, Any], finish: str,
               prompt: int, compl: int) -> dict[str, Any]:
    return {"id": cid, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": compl,
                      "total_tokens": prompt + compl,
                      "prompt_tokens_details": {"cached_tokens": 0},
                      "completion_tokens_details": {"reasoning_tokens": 0}},
            "system_fingerprint": "fp_0ba0d124f1"}


def portkey_row(*, log_id: str, trace_id: str, span_id: str, when: datetime, model: str,
                request: dict[str, Any], response: dict[str, Any], latency: int,
                metadata: dict[str, str], status: int = 200, cache: str = "MISS",
                retries: int = 0, url: str = "https://api.openai.com/v1/chat/completions",
                span_name: str | None = None, parent: str | None = None) -> dict[str, Any]:
    usage = response.get("usage") or {}
    prompt = int(usage.get("prompt_tokens", 0))
    compl = int(usage.get("completion_tokens", 0))
    ok = status < 400
    return {
        "id": log_id, "trace_id": trace_id, "span_id": span_id, "span_name": span_name,
        "parent_span_id": parent,
        "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
        "is_success": ok, "response_status_code": status, "response_time": latency,
        "ai_org": PROVIDERS[model], "ai_model": model, "request_url": url,
        "request_method": "POST", "req_units": prompt, "res_units": compl,
        "total_units": prompt + compl,
        "cost": 0.0 if cache == "HIT" or not ok else cost_cents(model, prompt, compl),
        "cost_currency": "USD", "cache_status": cache,
        "cache_type": "simple" if cache != "DISABLED" else None, "stream_mode": 0,
        "retry_success_count": retries, "mode": "single", "config": "pc-math-agent-7f3a21",
        "prompt_slug": None, "virtual_key": "openai-prod-vk-21f9",
        "metadata": metadata, "request": request, "response": response,
    }


def agent_run(trace_id: str, start: datetime, model: str, metadata: dict[str, str],
              *, prefix: str, cache_call: int | None = None, retry_call: int | None = None,
              retries: int = 2) -> list[dict[str, Any]]:
    """The reference run: four chat calls, three tool round trips, one trace id."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM},
                                      {"role": "user", "content": QUESTION}]
    rows = []
    when = start
    prompt = 142
    for n in range(4):
        request = {"model": model, "messages": [dict(m) for m in messages], "tools": TOOLS,
                   "temperature": 0, "stream": False}
        created = int(when.timestamp())
        if n < 3:
            name, args, result = STEPS[n]
            call_id = f"call_{prefix}{n + 1}_xK3pQ9vL"
            tool_call = {"id": call_id, "type": "function",
                         "function": {"name": name, "arguments": json.dumps(args)}}
            message = {"role": "assistant", "content": None, "tool_calls": [tool_call],
                       "refusal": None}
            response = completion(f"chatcmpl-{prefix}{n + 1}", model, created, message,
                                  "tool_calls", prompt, 18 + n)
        else:
            message = {"role": "assistant", "content": ANSWER, "refusal": None}
            response = completion(f"chatcmpl-{prefix}{n + 1}", model, created, message,
                                  "stop", prompt, 27)
        cache = "HIT" if cache_call == n + 1 else "MISS"
        latency = 41 if cache == "HIT" else 690 + 137 * n + (1900 if retry_call == n + 1 else 0)
        rows.append(portkey_row(
            log_id=f"{prefix}-log-{n + 1}", trace_id=trace_id, span_id=f"{prefix}-span-{n + 1}",
            when=when, model=model, request=request, response=response, latency=latency,
            metadata=metadata, cache=cache, retries=retries if retry_call == n + 1 else 0,
            span_name=f"agent-step-{n + 1}"))
        when += timedelta(milliseconds=latency + 60)
        if n < 3:
            messages.append(message)
            messages.append({"role": "tool", "tool_call_id": call_id, "content": str(result)})
        prompt += 31
    return rows


def rag_run(start: datetime) -> list[dict[str, Any]]:
    """A retrieval-style trace: embed the question, then answer from the retrieved passages."""
    question = "What is our refund window for annual plans?"
    meta = {"env": "staging", "feature": "support-rag", "_user": "u_1187"}
    embed_resp = {"object": "list", "model": "text-embedding-3-small",
                  "data": [{"object": "embedding", "index": 0,
                            "embedding": [0.0123, -0.0456, 0.0789, -0.0012]}],
                  "usage": {"prompt_tokens": 11, "total_tokens": 11}}
    rows = [portkey_row(
        log_id="rag-log-1", trace_id="trc_rag_5d21c0", span_id="rag-span-1", when=start,
        model="text-embedding-3-small",
        request={"model": "text-embedding-3-small", "input": question},
        response=embed_resp, latency=183, metadata=meta,
        url="https://api.openai.com/v1/embeddings", span_name="embed-question")]
    context = ("Passage 1: Annual plans can be refunded in full within 30 days of purchase.\n"
               "Passage 2: Monthly plans are not refundable.")
    messages = [{"role": "system", "content": "Answer only from the context.\n" + context},
                {"role": "user", "content": question}]
    answer = "Annual plans can be refunded in full within 30 days of purchase."
    rows.append(portkey_row(
        log_id="rag-log-2", trace_id="trc_rag_5d21c0", span_id="rag-span-2",
        when=start + timedelta(milliseconds=260), model="gpt-4o",
        request={"model": "gpt-4o", "messages": messages, "temperature": 0.2},
        response=completion("chatcmpl-rag2", "gpt-4o", int(start.timestamp()),
                            {"role": "assistant", "content": answer, "refusal": None},
                            "stop", 96, 15),
        latency=1240, metadata=meta, span_name="answer"))
    return rows


def failed_run(start: datetime) -> list[dict[str, Any]]:
    """A call rejected by the provider: HTTP 429 with an OpenAI error body."""
    meta = {"env": "prod", "feature": "math-agent", "_user": "u_2048"}
    request = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": QUESTION}],
               "tools": TOOLS, "temperature": 0}
    response = {"error": {"message": "Rate limit reached for gpt-4o-mini in organization "
                                     "org-demo on tokens per min (TPM): Limit 200000, Used "
                                     "199812, Requested 412.",
                          "type": "tokens", "param": None, "code": "rate_limit_exceeded"}}
    return [portkey_row(log_id="fail-log-1", trace_id="trc_fail_9e04b7", span_id="fail-span-1",
                        when=start, model="gpt-4o-mini", request=request, response=response,
                        latency=212, metadata=meta, status=429, retries=3)]


def chat_run(trace_id: str, start: datetime, model: str, question: str, answer: str,
             meta: dict[str, str], prompt: int, compl: int, status: int = 200) -> dict[str, Any]:
    request = {"model": model, "messages": [{"role": "user", "content": question}],
               "max_tokens": 512}
    if status >= 400:
        response: dict[str, Any] = {"error": {"message": "The server had an error while "
                                              "processing your request. Sorry about that!",
                                              "type": "server_error", "code": None}}
    else:
        response = completion(f"chatcmpl-{trace_id[-6:]}", model, int(start.timestamp()),
                              {"role": "assistant", "content": answer, "refusal": None},
                              "stop", prompt, compl)
    return portkey_row(log_id=f"{trace_id}-log", trace_id=trace_id, span_id=f"{trace_id}-span",
                       when=start, model=model, request=request, response=response,
                       latency=900 + compl * 9, metadata=meta, status=status,
                       url=("https://api.anthropic.com/v1/messages"
                            if model.startswith("claude") else
                            "https://api.openai.com/v1/chat/completions"))


def all_rows() -> list[dict[str, Any]]:
    t0 = datetime(2025, 3, 4, 10, 15, 2, 123000, tzinfo=UTC)
    rows = agent_run("trc_7f3a2c91e4b0", t0, "gpt-4o-mini",
                     {"env": "prod", "feature": "math-agent", "_user": "u_1001"}, prefix="ref")
    rows += agent_run("trc_b81d0e55a7c2", t0 + timedelta(minutes=42), "gpt-4o-mini",
                      {"env": "prod", "feature": "math-agent", "_user": "u_1002"},
                      prefix="rep", cache_call=1, retry_call=3)
    rows += failed_run(t0 + timedelta(hours=1, minutes=3))
    rows += rag_run(t0 + timedelta(hours=2, minutes=11))
    rows.append(chat_run("trc_cl_41aa09", t0 + timedelta(hours=3), "claude-3-5-sonnet-20241022",
                         "Summarise the incident report in two sentences.",
                         "A config push disabled the cache for 14 minutes. Latency rose 3x "
                         "until the change was rolled back.",
                         {"env": "dev", "feature": "summaries", "_user": "u_77"}, 412, 38))
    rows.append(chat_run("trc_cl_52bb10", t0 + timedelta(hours=3, minutes=9),
                         "claude-3-5-sonnet-20241022", "Write a haiku about tracing.",
                         "Spans fall like autumn / each parent holds its children / "
                         "the root knows the cost",
                         {"env": "dev", "feature": "summaries", "_user": "u_78"}, 15, 22))
    rows.append(chat_run("trc_4o_63cc21", t0 + timedelta(hours=4), "gpt-4o",
                         "Classify this ticket: 'app crashes on login'", "",
                         {"env": "prod", "feature": "triage", "_user": "u_2300"}, 31, 0,
                         status=500))
    rows.append(chat_run("trc_4o_74dd32", t0 + timedelta(hours=4, minutes=2), "gpt-4o",
                         "Classify this ticket: 'app crashes on login'", "bug/authentication",
                         {"env": "prod", "feature": "triage", "_user": "u_2300"}, 31, 5))
    return rows


def feedback_rows() -> list[dict[str, Any]]:
    """User feedback on three of the traces, as Portkey's feedback API records it."""
    return [
        {"trace_id": "trc_7f3a2c91e4b0", "value": 9, "weight": 1,
         "metadata": {"_user": "u_1001", "comment": "correct and fast"},
         "created_at": "2025-03-04T10:16:10Z"},
        {"trace_id": "trc_b81d0e55a7c2", "value": 5, "weight": 0.5,
         "metadata": {"_user": "u_1002"}, "created_at": "2025-03-04T10:58:01Z"},
        {"trace_id": "trc_4o_74dd32", "value": -4,
         "metadata": {"_user": "u_2300", "comment": "wrong label: should be bug/login"},
         "created_at": "2025-03-04T14:20:00Z"},
    ]


def main() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = all_rows()
    with open(HERE / "portkey_export.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, separators=(",", ":")) + "\n")
    (HERE / "feedback").mkdir(exist_ok=True)  # a separate stream, as Portkey keeps it
    with open(HERE / "feedback" / "portkey_feedback.jsonl", "w", encoding="utf-8") as fh:
        for row in feedback_rows():
            fh.write(json.dumps(row, separators=(",", ":")) + "\n")
    # Parquet exports keep bodies and metadata as JSON text columns
    flat = [{k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in row.items()}
            for row in rows]
    pq.write_table(pa.Table.from_pylist(flat), HERE / "portkey_export.parquet")


if __name__ == "__main__":
    main()
