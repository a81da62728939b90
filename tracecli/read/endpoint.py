"""An OpenAI-compatible endpoint over HTTP, bounded: connect and read timeouts, a total deadline
per call (a server dripping a byte a second never outlasts it), and retries with exponential
backoff and jitter on what a retry can cure (429, 5xx, connection errors), at most 5 attempts,
honouring Retry-After. Its errors never show the API key or a password in the URL."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tracecli.errors import ExitCode, TraceCliError, first_line

ATTEMPTS = 5  # as the seed's gateway retries
BACKOFF_S = 0.25  # the first wait; each retry doubles it, up to BACKOFF_CAP_S, jittered
BACKOFF_CAP_S = 8.0
MASK = "***"
_SECRET_WORDS = ("key", "token", "secret", "password", "auth", "sig", "cookie", "credential")


def secret_name(name: str) -> bool:
    """A header or query parameter whose value is a credential, by its name."""
    return any(word in name.lower() for word in _SECRET_WORDS)


def safe_url(url: str) -> str:
    """The URL as messages show it: a password, and query values named like keys, masked."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}:{MASK}@{parts.hostname or ''}"
        netloc += f":{parts.port}" if parts.port else ""
    query = urlencode([(k, MASK if secret_name(k) else v) for k, v in parse_qsl(parts.query)],
                      safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


@dataclass(frozen=True)
class Reply:
    """A chat completion body, how long the call took in all (retries included), and how many
    retries it needed."""

    body: dict[str, Any]
    ms: float
    retries: int


class _Deadline(Exception):
    pass


def retryable(status: int) -> bool:
    return status == 429 or status >= 500


def retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (a number or an HTTP date); None without one."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def backoff(retry: int, jitter: Callable[[], float]) -> float:
    """The wait before retry number `retry` (1-based): doubling from BACKOFF_S, capped, and
    jittered to between half and all of it so that clients retrying together spread out."""
    full: float = min(BACKOFF_S * 2.0 ** (retry - 1), BACKOFF_CAP_S)
    return full * (0.5 + jitter() / 2)


class Endpoint:
    """POSTs chat requests to `{base_url}/chat/completions`; each call ends by `timeout` seconds,
    every attempt and wait included."""

    def __init__(self, base_url: str, *, api_key: str | None, headers: dict[str, str],
                 timeout: float, sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random) -> None:
        import httpx  # only replay against an endpoint needs it

        self.url = base_url.rstrip("/") + "/chat/completions"
        self.headers = {**headers, **({"Authorization": f"Bearer {api_key}"} if api_key else {})}
        self._key = api_key
        self._timeout = timeout
        self._sleep, self._jitter = sleep, jitter
        self._client = httpx.Client(headers=self.headers, timeout=timeout)
        self._transport_errors = (httpx.TransportError,)
        self._httpx = httpx

    def close(self) -> None:
        self._client.close()

    def chat(self, body: dict[str, Any]) -> Reply:
        started = time.monotonic()
        end = started + self._timeout
        retries = 0
        for attempt in range(1, ATTEMPTS + 1):
            wait: float | None = None
            try:
                status, headers, content = self._attempt(body, end - time.monotonic())
            except _Deadline:
                raise self._failed(f"no complete response within {self._timeout:g} s "
                                   f"(--timeout){_after(attempt)}") from None
            except self._transport_errors as exc:
                problem = first_line(exc)
            else:
                if status < 400:
                    return Reply(self._completion(content), (time.monotonic() - started) * 1000,
                                 retries)
                problem = f"HTTP {status}{_said(content)}"
                if not retryable(status):
                    raise self._failed(problem)
                wait = retry_after(headers.get("retry-after"))
            if attempt == ATTEMPTS:
                break
            delay = backoff(attempt, self._jitter) if wait is None else wait
            if time.monotonic() + delay >= end:
                raise self._failed(f"{problem}{_after(attempt)}; a retry would pass the "
                                   f"{self._timeout:g} s deadline (--timeout)")
            self._sleep(delay)
            retries += 1
        raise self._failed(f"{problem}{_after(ATTEMPTS)}")

    def _attempt(self, body: dict[str, Any], remaining: float) -> tuple[int, Any, bytes]:
        """One POST, read to its end by a worker thread the caller stops waiting for at the
        deadline (httpx's timeouts bound each read, not a response that keeps trickling)."""
        if remaining <= 0:
            raise _Deadline
        box: dict[str, Any] = {}
        stop = threading.Event()
        timeout = self._httpx.Timeout(min(self._timeout, remaining))

        def run() -> None:
            try:
                with self._client.stream("POST", self.url, json=body, timeout=timeout) as response:
                    chunks = []
                    for chunk in response.iter_bytes():
                        if stop.is_set():
                            return
                        chunks.append(chunk)
                    box["reply"] = (response.status_code, response.headers, b"".join(chunks))
            except Exception as exc:  # handed to the caller's thread  # noqa: BLE001
                box["error"] = exc

        worker = threading.Thread(target=run, name="tracecli-endpoint", daemon=True)
        worker.start()
        worker.join(remaining)
        if worker.is_alive():
            stop.set()
            raise _Deadline
        if "error" in box:
            raise box["error"]
        reply: tuple[int, Any, bytes] = box["reply"]
        return reply

    def _completion(self, content: bytes) -> dict[str, Any]:
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("choices"), list):
            raise self._failed("the answer is not a JSON chat completion")
        return body

    def _failed(self, problem: str) -> TraceCliError:
        message = f"endpoint {safe_url(self.url.removesuffix('/chat/completions'))}: {problem}"
        if self._key:
            message = message.replace(self._key, MASK)
        return TraceCliError(message, ExitCode.REMOTE)


def _after(attempts: int) -> str:
    return f" (after {attempts} attempts)" if attempts > 1 else ""


def _said(content: bytes) -> str:
    """`: message` of an error body, if it has one."""
    try:
        body = json.loads(content)
    except ValueError:
        text = content.decode("utf-8", "replace").strip()
        return f": {text.splitlines()[0][:200]}" if text else ""
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    return f": {str(message).splitlines()[0][:200]}" if message else ""
