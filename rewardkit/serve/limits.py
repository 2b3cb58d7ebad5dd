"""Request limits of ``rewardkit serve``: body size, batch size, time; and who counts as local."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from rewardkit.jsonsafe import MAX_DEPTH, problem


@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server."""

    max_body_bytes: int = 16 * 1024 * 1024
    max_batch: int = 4096  # rows (or queries) per request
    timeout_s: float = 60.0  # reading the body, then scoring, each bounded by this
    max_concurrency: int | None = None  # requests scored at once, counted once their body has arrived


class HTTPError(Exception):
    """An answer other than 200: a status and a one-line reason, sent as ``{"error": reason}``."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = " ".join(reason.split())  # one line, whatever the cause carried


async def read_json(request: Request, limits: Limits) -> Any:
    """The request body parsed as JSON, refusing bodies over ``limits.max_body_bytes``.

    A declared Content-Length over the limit is refused before reading; a chunked body is
    counted as it arrives, so a client cannot stream past the limit either.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HTTPError(400, f"bad Content-Length header {declared[:40]!r}")
        if int(declared) > limits.max_body_bytes:
            raise HTTPError(413, f"body of {int(declared):,} bytes is over the limit of {limits.max_body_bytes:,} "
                                 "(--max-body-mb)")

    async def read() -> bytes:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body_bytes:
                raise HTTPError(413, f"body is over the limit of {limits.max_body_bytes:,} bytes (--max-body-mb)")
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        body = await asyncio.wait_for(read(), limits.timeout_s)
    except asyncio.TimeoutError:
        raise HTTPError(408, f"request body not received within {limits.timeout_s:g}s (--timeout)") from None
    if not body.strip():
        raise HTTPError(400, "empty body: expected a JSON object")
    try:
        value = json.loads(body)
    except UnicodeDecodeError:
        raise HTTPError(400, "body is not UTF-8 JSON") from None
    except json.JSONDecodeError as e:
        raise HTTPError(400, f"body is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    except ValueError as e:  # an integer past Python's 4300-digit conversion limit
        raise HTTPError(400, f"body is not valid JSON ({' '.join(str(e).split())[:120]})") from None
    except RecursionError:  # [[[[...]]]] deeper than the parser's stack
        raise HTTPError(400, f"body nests deeper than {MAX_DEPTH} levels") from None
    bad = problem(value)
    if bad is not None:
        raise HTTPError(400, f"body: {bad}")
    return value


def check_batch(n: int, limits: Limits, what: str) -> None:
    """Refuse an empty batch or one over ``limits.max_batch``."""
    if n > limits.max_batch:
        raise HTTPError(413, f"batch of {n:,} {what} is over the limit of {limits.max_batch:,} (--max-batch)")


def is_loopback(host: str) -> bool:
    """True when every address ``host`` names is a loopback address (127.0.0.0/8, ::1)."""
    h = host.strip("[]")
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(h, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    addrs = {info[4][0] for info in infos}
    return bool(addrs) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addrs)
