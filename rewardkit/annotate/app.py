"""The Starlette app behind the labelling page: static files plus a four-route JSON API.

``GET /api/state?annotator=NAME`` progress and the next pair; ``POST /api/label`` one label;
``POST /api/undo`` withdraws the annotator's last label; ``GET /api/health``. The page moves on
only after the server has committed the label, so what it shows as done is on disk.

The server listens on loopback only, and still guards against other web pages the annotator has
open: the Host header must name the loopback (no DNS rebinding) and writes must be
``application/json`` (a cross-site form cannot send that without a CORS preflight, which this
app never answers).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..serve.limits import HTTPError, Limits, read_json
from .db import CHOICES, AlreadyLabelled, LabelDB
from .security import SecurityHeaders

STATIC = Path(__file__).parent / "static"
MAX_REASON = 10_000
MAX_NAME = 64
NO_STORE = {"Cache-Control": "no-store"}
# A label is a few hundred bytes (reason at most MAX_REASON characters): 1 MiB is plenty.
BODY_LIMITS = Limits(max_body_bytes=1024 * 1024, timeout_s=30.0)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=NO_STORE)


def annotator_name(value: Any) -> str:
    """A cleaned annotator name; ValueError with the reason where it is not usable."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("annotator name is empty")
    name = value.strip()
    if len(name) > MAX_NAME:
        raise ValueError(f"annotator name longer than {MAX_NAME} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError("annotator name has control characters")
    return name


def create_app(db: LabelDB, default_annotator: str, db_label: str = "labels.sqlite",
               allowed_hosts: list[str] | None = None) -> Starlette:
    """The labelling app over ``db``; ``default_annotator`` is used when the page names nobody."""

    def index(request: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=NO_STORE)

    def config(request: Request) -> JSONResponse:
        return JSONResponse({"default_annotator": default_annotator, "db": db_label,
                             "choices": list(CHOICES)}, headers=NO_STORE)

    def state(request: Request) -> JSONResponse:
        try:
            who = annotator_name(request.query_params.get("annotator", default_annotator))
        except ValueError as e:
            return _error(400, str(e))
        return JSONResponse(db.state(who), headers=NO_STORE)

    async def body_of(request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise _Refused(415, "send the body as application/json")
        try:
            # Bounded: a body over BODY_LIMITS is refused (413) from its Content-Length or as it
            # streams in, never read whole; deep nesting and lone surrogates are a 400.
            body = await read_json(request, BODY_LIMITS)
        except HTTPError as e:
            raise _Refused(e.status, e.reason) from None
        if not isinstance(body, dict):
            raise _Refused(400, "body must be a JSON object")
        try:
            body["annotator"] = annotator_name(body.get("annotator"))
        except ValueError as e:
            raise _Refused(400, str(e)) from None
        return body

    async def label(request: Request) -> JSONResponse:
        try:
            body = await body_of(request)
        except _Refused as e:
            return _error(e.status, e.message)
        pair_id, choice = body.get("pair_id"), body.get("choice")
        reason, seconds = body.get("reason", ""), body.get("seconds")
        if not isinstance(pair_id, int) or isinstance(pair_id, bool):
            return _error(400, "pair_id must be an integer")
        if not 0 <= pair_id < 2**63:  # SQLite integers are 64-bit: 10**30 is no pair, not a crash
            return _error(404, "no pair with that pair_id (ids are small positive integers)")
        if choice not in CHOICES:
            return _error(400, f"choice must be one of {', '.join(CHOICES)}")
        if not isinstance(reason, str) or len(reason) > MAX_REASON:
            return _error(400, f"reason must be text of at most {MAX_REASON} characters")
        if seconds is not None and (not isinstance(seconds, (int, float)) or not math.isfinite(seconds)
                                    or seconds < 0):
            seconds = None  # a clock glitch in the page is no reason to lose the label
        try:
            # Plain sqlite3 call: a millisecond with a lock held, not worth a thread hop.
            db.record(body["annotator"], pair_id, choice, reason.strip(), seconds)
        except KeyError:
            return _error(404, f"no pair {pair_id}")
        except AlreadyLabelled:
            state = db.state(body["annotator"])
            return JSONResponse({"error": f"pair {pair_id} is already labelled by {body['annotator']}",
                                 **state}, status_code=409, headers=NO_STORE)
        return JSONResponse(db.state(body["annotator"]), headers=NO_STORE)

    async def undo(request: Request) -> JSONResponse:
        try:
            body = await body_of(request)
        except _Refused as e:
            return _error(e.status, e.message)
        undone = db.undo(body["annotator"])
        return JSONResponse({**db.state(body["annotator"]), "undone": undone}, headers=NO_STORE)

    def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "pairs": db.total()}, headers=NO_STORE)

    routes = [
        Route("/", index),
        Route("/api/config", config),
        Route("/api/state", state),
        Route("/api/label", label, methods=["POST"]),
        Route("/api/undo", undo, methods=["POST"]),
        Route("/api/health", health),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    hosts = allowed_hosts if allowed_hosts is not None else ["127.0.0.1", "localhost", "[::1]"]
    # SecurityHeaders first (outermost): the Host check's refusals carry the headers too.
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders),
                                                Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message
