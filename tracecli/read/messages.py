"""Request and response bodies read as text, one way for every view: a message's content, the
assistant's answer, the messages a request sent, and a tool call as `name(args)`."""

from __future__ import annotations

import json
from typing import Any


def content_text(content: Any) -> str | None:
    """A message's content as text: a string, or the text parts of a content array joined (the
    Python twin of the SQL macro tc_content); other values as their JSON; None for none."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_part_text(p) for p in content)
    return json.dumps(content, ensure_ascii=False)


def _part_text(part: Any) -> str:
    """A string part, or a text part's text; images, audio and the like say nothing."""
    if isinstance(part, str):
        return part
    text = part.get("text") if isinstance(part, dict) else None
    return text if isinstance(text, str) else ""


def message_text(message: dict[str, Any]) -> str | None:
    """What a sent message says: its content, else a Responses-API item's output. None for a
    message that only asks for tools, which each view words its own way."""
    content = message.get("content")
    if content is None and message.get("tool_calls"):
        return None
    text = content_text(content if content is not None else message.get("output"))
    return "" if text is None else text


def assistant_text(response: Any) -> str | None:
    """The assistant's text in an OpenAI chat completion, Responses API or Anthropic body."""
    if not isinstance(response, dict):
        return None
    choices = response.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        message = choices[0].get("message") or {}
        if not isinstance(message, dict):
            return None
        return content_text(message.get("content")) or None
    if isinstance(response.get("output"), list):
        parts = [content_text(item.get("content")) for item in response["output"]
                 if isinstance(item, dict) and item.get("type") == "message"]
        return "".join(p for p in parts if p) or None
    if isinstance(response.get("content"), list):
        return content_text(response["content"]) or None
    return None


def request_messages(request: Any) -> list[dict[str, Any]]:
    """Chat messages or Responses-API input items of a request body; an embeddings input too."""
    if not isinstance(request, dict):
        return []
    for key in ("messages", "input"):
        value = request.get(key)
        if isinstance(value, list):
            return [m if isinstance(m, dict) else {"role": "user", "content": m} for m in value]
        if isinstance(value, str):
            return [{"role": "user", "content": value}]
    return []


def call_signature(name: str | None, arguments: Any, *, sort_keys: bool = False) -> str:
    """`exponentiate(base=3, exponent=5)`: keyword arguments as the model sent them, values as
    JSON. `sort_keys` puts them in one order, so that two calls compare by what they ask."""
    def as_json(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=sort_keys)

    if isinstance(arguments, dict):
        items = sorted(arguments.items()) if sort_keys else arguments.items()
        inner = ", ".join(f"{k}={as_json(v)}" for k, v in items)
    else:
        inner = "" if arguments is None else as_json(arguments)
    return f"{name or '?'}({inner})"
