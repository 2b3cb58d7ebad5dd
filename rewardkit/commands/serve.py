"""``rewardkit serve CONFIG``: serve the composite over HTTP (OpenRLHF's remote protocol and /score)."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import ConfigError
from .pairs import non_negative_float
from .score import positive_int

TOKEN_ENV = "REWARDKIT_TOKEN"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help="serve the rewards over HTTP (OpenRLHF remote reward protocol, /score, /health)",
        description="Serve a rewards YAML over HTTP: POST /get_reward (OpenRLHF's --remote_rm_url "
        "protocol), POST /score ({\"rows\": [...]} as `rewardkit score` rows), GET /health. Binds to "
        f"127.0.0.1 unless --host says otherwise; any other host needs a bearer token (--token or ${TOKEN_ENV}).",
    )
    p.add_argument("config", help="rewards YAML")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=port_number, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--token", default=None,
                   help=f"bearer token clients must send (default ${TOKEN_ENV}); required off loopback. "
                   "Prefer the environment variable: a command line is visible to other users")
    p.add_argument("--workers", type=positive_int, default=4, help="threads running reward calls (default 4)")
    p.add_argument("--max-batch", type=positive_int, default=4096, help="rows or queries per request (default 4096)")
    p.add_argument("--max-body-mb", type=positive_float, default=16.0, help="request body limit in MiB (default 16)")
    p.add_argument("--timeout", type=positive_float, default=60.0,
                   help="seconds a request may take to arrive, and then to score (default 60)")
    p.add_argument("--max-concurrency", type=positive_int, default=256,
                   help="requests scored at once, counted once their body has arrived; beyond it, 503 (default 256)")
    p.add_argument("--max-connections", type=positive_int, default=1024,
                   help="open connections, idle ones included; beyond it, 503 (default 1024)")
    p.add_argument("--idle-timeout", type=positive_float, default=10.0,
                   help="seconds a connection may take to send its request headers, or stay idle "
                   "between requests, before it is closed (default 10)")
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.set_defaults(func=run)


def port_number(text: str) -> int:
    """argparse type: a TCP port, 0 to 65535."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return int(text)


def positive_float(text: str) -> float:
    """argparse type: a finite number above 0."""
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..serve import Limits, create_app
        from ..serve.limits import is_loopback
        from ..serve.server import Server, bind, guarded_protocol
    except ImportError as e:
        raise ConfigError(f"rewardkit serve needs starlette and uvicorn ({e}); pip install 'rewardkit[serve]'") from None

    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV)
    token = token or None
    local = is_loopback(args.host)
    if not local and token is None:
        raise ConfigError(
            f"--host {args.host} is reachable from other machines, and whoever can post to a reward server "
            f"steers the training: set a bearer token with ${TOKEN_ENV} (or --token), or bind 127.0.0.1"
        )
    from ..compose import load

    composite = load(args.config)  # config errors surface before the port opens
    limits = Limits(max_body_bytes=int(args.max_body_mb * 1024 * 1024), max_batch=args.max_batch,
                    timeout_s=args.timeout, max_concurrency=args.max_concurrency)
    app = create_app(composite, limits=limits, token=token, workers=args.workers)
    sock = bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    # uvicorn's limit counts open connections (idle ones too), so it is the connection cap; scoring
    # slots are the app's (create_app), and idle or slow-loris connections are closed on a deadline.
    config = uvicorn.Config(
        app, log_level="warning", access_log=args.access_log, lifespan="on",
        limit_concurrency=max(args.max_connections, args.max_concurrency + 1),
        timeout_graceful_shutdown=max(args.timeout, 1.0),
        timeout_keep_alive=max(1, round(args.idle_timeout)), http=guarded_protocol(args.idle_timeout),
    )
    server = Server(config)
    print(
        f"rewardkit serve: {', '.join(f'{w:g}*{lbl}' for lbl, w in zip(composite.labels, composite.weights))} "
        f"on http://{shown}:{port} (POST /get_reward, POST /score, GET /health; "
        f"{'bearer token required' if token else 'no token: loopback only'})",
        file=sys.stderr, flush=True,
    )
    with sock:
        server.run(sockets=[sock])
    print(f"rewardkit serve: stopped ({server.stopped_by or 'shutdown'})", file=sys.stderr, flush=True)
    return 0

