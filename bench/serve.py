"""Benchmark ``rewardkit serve``: requests/s and p50/p99 latency at a few concurrency levels.

Starts ``rewardkit serve`` on a free 127.0.0.1 port (a real subprocess), then for each
concurrency level sends a fixed number of ``POST /score`` requests (``--batch`` rows each,
length + format rewards) from an asyncio httpx client and times every answer.

The peer is the shape of OpenRLHF's own ``serve_rm``: the same Starlette/uvicorn stack, but the
reward called inline in the async handler (on the event loop). Both servers run as separate
processes, measured interleaved at each level on the same requests; ``ratio`` is ours / peer
requests per second at the highest level. With these fast, CPU-bound rewards the inline peer
saves a thread hop; what the thread pool buys (other requests and /health answered while a
slow reward runs) shows in tests/test_serve.py, not in this number.

A second server (``--max-concurrency 8 --idle-timeout 2``) is then measured for a real client (concurrency 4)
without and with hostile traffic: 8 idle sockets (one per slot) plus 8 slow-loris senders (a
header byte every 0.5 s), re-opened whenever the server cuts them, for the whole run; loopback
only, bounded in count and time. ``hostile`` in the JSON holds both results and the ratio.

    python bench/serve.py [--quick]

The last line of standard output is one JSON object.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this folder comes first on sys.path, and bench/math.py would shadow the
# standard library's math (imported by random, statistics, torch...): drop the folder.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import asyncio
import json
import random
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """
rewards:
  - use: length
    weight: 0.5
    with: {mode: band, unit: words, min_tokens: 5, max_tokens: 40, buffer: 20}
  - use: format
    as: fmt
    weight: 1.0
    with: {mode: partial}
"""

PEER = r'''
import json, sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
import rewardkit
from rewardkit.commands.score import score_rows
from rewardkit.serve.server import bind

composite = rewardkit.load(sys.argv[1])

async def score(request):  # OpenRLHF serve_rm's shape: the reward runs on the event loop
    body = await request.json()
    return JSONResponse({"rows": score_rows(composite, body["rows"])})

app = Starlette(routes=[Route("/score", score, methods=["POST"])])
sock = bind("127.0.0.1", 0)
print(f"peer on http://127.0.0.1:{sock.getsockname()[1]}", file=sys.stderr, flush=True)
uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])
'''


def start(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if " on http://127.0.0.1:" in line:
            return proc, line.split(" on ", 1)[1].split()[0]
    proc.kill()
    raise SystemExit(f"server did not start: {' '.join(cmd)}")


def make_requests(n: int, batch: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    words = ["the", "answer", "is", "four", "because", "two", "plus", "two", "makes", "four", "and", "nothing", "else"]
    out = []
    for _ in range(n):
        rows = []
        for _ in range(batch):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 60)))
            if rng.random() < 0.5:
                text = f"<think>{text}</think><answer>4</answer>"
            rows.append({"prompt": "What is 2+2?", "completion": text})
        out.append({"rows": rows})
    return out


async def load(url: str, bodies: list[dict], concurrency: int, headers: dict[str, str]) -> dict:
    import httpx

    sem = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(client: httpx.AsyncClient, body: dict) -> None:
        async with sem:
            t0 = time.perf_counter()
            r = await client.post(f"{url}/score", json=body, headers=headers)
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200 or len(r.json()["rows"]) != len(body["rows"]):
                raise SystemExit(f"bad answer {r.status_code}: {r.text[:200]}")

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        await client.post(f"{url}/score", json=bodies[0], headers=headers)  # warm the connection and code
        t0 = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*[one(client, b) for b in bodies]), 600)
        wall = time.perf_counter() - t0
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {"req_per_s": round(len(bodies) / wall, 1), "p50_ms": round(pct(0.50), 2), "p99_ms": round(pct(0.99), 2)}


class Hostile:
    """``idle`` sockets that never send, plus ``loris`` sockets sending headers a byte every
    ``gap_s``; each is re-opened when the server closes it. Runs in a thread until ``stop()``."""

    HEAD = b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Pad: " + b"a" * 4000

    def __init__(self, port: int, idle: int, loris: int, gap_s: float = 0.5, max_s: float = 600):
        import threading

        self.port, self.idle, self.loris, self.gap_s, self.max_s = port, idle, loris, gap_s, max_s
        self.reopened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _open(self):
        import socket

        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.setblocking(False)
        return s

    def _run(self) -> None:
        socks = [[self._open(), 0] for _ in range(self.idle + self.loris)]
        deadline = time.monotonic() + self.max_s  # bounded even if stop() is never called
        while not self._stop.is_set() and time.monotonic() < deadline:
            for i, entry in enumerate(socks):
                sock, sent = entry
                try:
                    if sock.recv(1) == b"":  # closed by the server: take the slot again
                        raise ConnectionResetError
                except BlockingIOError:
                    pass
                except OSError:
                    sock.close()
                    socks[i] = entry = [self._open(), 0]
                    self.reopened += 1
                    continue
                if i >= self.idle and sent < len(self.HEAD):
                    try:
                        sock.send(self.HEAD[sent:sent + 1])
                        entry[1] += 1
                    except OSError:
                        pass
            self._stop.wait(self.gap_s)
        for sock, _ in socks:
            sock.close()

    def __enter__(self) -> Hostile:  # noqa: PYI034 - no typing_extensions in bench
        self._thread.start()
        time.sleep(1.0)  # every slot taken before the real client starts
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


def hostile_run(ours_cmd: list[str], config: Path, env: dict[str, str], token: str, n: int, batch: int) -> dict:
    """A real client's numbers on a server whose every slot idle and slow connections hold."""
    slots = 8
    proc, url = start([*ours_cmd, "serve", str(config), "--port", "0", "--max-concurrency", str(slots),
                       "--idle-timeout", "2"], env)
    port = int(url.rsplit(":", 1)[1])
    bodies = make_requests(n, batch, seed=1)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        clean = asyncio.run(load(url, bodies, 4, headers))
        with Hostile(port, idle=slots, loris=slots) as hostile:
            attacked = asyncio.run(load(url, bodies, 4, headers))
        print(f"hostile: clean {clean}  under idle+slow-loris traffic {attacked} "
              f"({hostile.reopened} hostile connections cut and re-opened)", file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait(30)
    return {"max_concurrency": slots, "idle_sockets": slots, "slow_loris": slots, "client_concurrency": 4,
            "clean": clean, "under_hostile": attacked, "hostile_reopened": hostile.reopened,
            "ratio": round(attacked["req_per_s"] / clean["req_per_s"], 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer requests and levels")
    ap.add_argument("--requests", type=int, default=None, help="requests per level (default 400; quick 60)")
    ap.add_argument("--batch", type=int, default=16, help="rows per request (default 16)")
    ap.add_argument("--levels", default=None, help="comma-separated concurrency levels (default 1,4,16; quick 1,8)")
    args = ap.parse_args()
    n = args.requests or (60 if args.quick else 400)
    levels = [int(x) for x in (args.levels or ("1,8" if args.quick else "1,4,16")).split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="rewardkit-bench-serve-"))
    config = tmp / "rewards.yaml"
    config.write_text(CONFIG)
    token = "bench-token"
    env = dict(os.environ, REWARDKIT_LOAD_PLUGINS="length,format", REWARDKIT_TOKEN=token)
    script = Path(sys.executable).with_name("rewardkit")
    ours_cmd = [str(script)] if script.exists() else [sys.executable, "-m", "rewardkit.cli"]
    ours, ours_url = start([*ours_cmd, "serve", str(config), "--port", "0"], env)
    peer, peer_url = start([sys.executable, "-c", PEER, str(config)], env)
    bodies = make_requests(n, args.batch)
    results: dict[str, dict[str, dict]] = {"ours": {}, "peer": {}}
    try:
        for c in levels:  # interleaved: each level measures both servers back to back
            results["ours"][str(c)] = asyncio.run(load(ours_url, bodies, c, {"Authorization": f"Bearer {token}"}))
            results["peer"][str(c)] = asyncio.run(load(peer_url, bodies, c, {}))
            print(f"concurrency {c:>3}: ours {results['ours'][str(c)]}  peer {results['peer'][str(c)]}",
                  file=sys.stderr)
    finally:
        for p in (ours, peer):
            p.terminate()
            p.wait(30)
    hostile = hostile_run(ours_cmd, config, env, token, n, args.batch)
    top = str(levels[-1])
    ours_top, peer_top = results["ours"][top]["req_per_s"], results["peer"][top]["req_per_s"]
    print(json.dumps({
        "bench": "serve", "requests_per_level": n, "rows_per_request": args.batch, "levels": results["ours"],
        "peer": "inline reward on the event loop (OpenRLHF serve_rm shape)", "peer_levels": results["peer"],
        "ours_per_s": ours_top, "peer_per_s": peer_top, "ratio": round(ours_top / peer_top, 3),
        "hostile": hostile,
    }))


if __name__ == "__main__":
    main()
