"""The Starlette application behind ``rewardkit serve``.

Routes:

- ``POST /get_reward``: OpenRLHF's remote reward protocol. Body ``{"query": [...], "prompts":
  [...], "labels": [...]}`` (``prompts`` and ``labels`` optional); answer ``{"rewards": [...],
  "scores": [...], "extra_logs": {label: [...]}}`` (see :mod:`rewardkit.integrations.openrlhf`).
- ``POST /score``: ``{"rows": [{"prompt": ..., "completion": ..., <columns>}, ...]}`` -> ``{"rows":
  [...]}``, each row as ``rewardkit score`` writes it (the input row plus ``reward`` and ``rewards``).
- ``GET /health``: ``{"status": "ok", "rewards": [labels]}``, open without a token.

Reward calls run in a thread pool, never on the event loop, so a slow batch does not hold up
other requests or the health check. Every failure is ``{"error": "<one line>"}`` with a 4xx
status for a bad request, 401 for a bad token, 504 for a timeout, 500 when a reward raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from rewardkit import __version__
from rewardkit.compose import Composite
from rewardkit.errors import DataError, RewardError
from rewardkit.integrations.openrlhf import score_queries
from rewardkit.rows import score_rows

from .auth import BearerAuth
from .limits import HTTPError, Limits, check_batch, read_json

log = logging.getLogger("rewardkit.serve")


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


def _parse_score(body: Any, limits: Limits) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or "rows" not in body:
        raise HTTPError(422, 'expected a JSON object {"rows": [{"prompt": ..., "completion": ...}, ...]}')
    rows = body["rows"]
    if not isinstance(rows, list):
        raise HTTPError(422, f"'rows' must be a list of objects, got {type(rows).__name__}")
    check_batch(len(rows), limits, "rows")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise HTTPError(422, f"rows[{i}]: expected an object, got {type(row).__name__}")
        if "completion" not in row:
            raise HTTPError(422, f"rows[{i}]: row has no 'completion' field (fields: {', '.join(row) or 'none'})")
        for key in ("prompt", "completion"):
            if key in row and not isinstance(row[key], (str, list)):
                raise HTTPError(422, f"rows[{i}].{key}: expected a string or a list of chat messages, "
                                     f"got {type(row[key]).__name__}")
    return rows


def _string_list(body: dict[str, Any], key: str, n: int | None, required: bool) -> list[Any] | None:
    value = body.get(key)
    if value is None:
        if required:
            raise HTTPError(422, f"'{key}' is required: a list of strings")
        return None
    if not isinstance(value, list):
        raise HTTPError(422, f"'{key}' must be a list, got {type(value).__name__}")
    if n is not None and len(value) != n:
        raise HTTPError(422, f"'{key}' has {len(value)} items for {n} queries")
    if key != "labels":
        for i, v in enumerate(value):
            if not isinstance(v, str):
                raise HTTPError(422, f"{key}[{i}]: expected a string, got {type(v).__name__}")
    return value


def _parse_get_reward(body: Any, limits: Limits) -> tuple[list[str], list[str] | None, list[Any] | None]:
    if not isinstance(body, dict):
        raise HTTPError(422, 'expected a JSON object {"query": [...], "prompts": [...], "labels": [...]}')
    queries = _string_list(body, "query", None, required=True)
    assert queries is not None
    check_batch(len(queries), limits, "queries")
    return queries, _string_list(body, "prompts", len(queries), False), _string_list(body, "labels", len(queries), False)


def create_app(composite: Composite, *, limits: Limits | None = None, token: str | None = None,
               workers: int = 4) -> Starlette:
    """The ASGI app serving ``composite``; ``token`` (if set) guards every route but ``/health``."""
    limits = limits or Limits()
    executor: ThreadPoolExecutor | None = None

    async def in_pool(fn: Callable[[], Any]) -> Any:
        assert executor is not None, "the app's lifespan has not started"
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(executor, fn)
        try:
            return await asyncio.wait_for(future, limits.timeout_s)
        except asyncio.TimeoutError:
            # The thread cannot be killed; it finishes in the background and its result is dropped.
            raise HTTPError(504, f"scoring took longer than {limits.timeout_s:g}s (--timeout)") from None
        except (DataError, ValueError, TypeError) as e:
            raise HTTPError(422, str(e)) from None
        except RewardError as e:
            raise HTTPError(500, str(e)) from None

    # Scoring slots are taken only once a body has fully arrived: idle or slow connections hold a
    # connection (bounded by uvicorn's limit and the read deadlines), never a slot.
    slots = asyncio.Semaphore(limits.max_concurrency) if limits.max_concurrency else None

    async def handle(request: Request, parse: Callable[[Any, Limits], Any], work: Callable[[Any], Any]) -> JSONResponse:
        try:
            parsed = parse(await read_json(request, limits), limits)
            if slots is None:
                return JSONResponse(await in_pool(lambda: work(parsed)))
            if slots.locked():
                raise HTTPError(503, f"all {limits.max_concurrency} scoring slots are busy (--max-concurrency); "
                                     "retry shortly")
            async with slots:
                return JSONResponse(await in_pool(lambda: work(parsed)))
        except HTTPError as e:
            if e.status >= 500:
                log.error("%s %s: %s", request.method, request.url.path, e.reason)
            return _error(e.status, e.reason)
        except Exception as e:
            log.exception("%s %s failed", request.method, request.url.path)
            return _error(500, f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:300]}")

    async def score(request: Request) -> JSONResponse:
        return await handle(request, _parse_score, lambda rows: {"rows": score_rows(composite, rows)})

    async def get_reward(request: Request) -> JSONResponse:
        return await handle(request, _parse_get_reward, lambda p: score_queries(composite, *p))

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__, "rewards": composite.labels})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal executor
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rewardkit-serve")
        try:
            yield
        finally:
            # In-flight requests have been answered by now (uvicorn drains them before lifespan
            # shutdown); queued work that outlived its timeout is dropped.
            executor.shutdown(wait=False, cancel_futures=True)

    return Starlette(
        routes=[
            Route("/get_reward", get_reward, methods=["POST"]),
            Route("/score", score, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        middleware=[Middleware(BearerAuth, token=token)],
        lifespan=lifespan,
    )
