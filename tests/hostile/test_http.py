"""Hostile traffic against the real ``rewardkit serve`` and ``rewardkit annotate`` processes on
127.0.0.1 (free ports, bounded loops): idle and slow connections never lock out a real client,
and hostile bodies get a 4xx with a one-line JSON error, never a 500 or a traceback."""

from __future__ import annotations

import json
import queue
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from hostile.harness import CLI

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

CONFIG = """
rewards:
  - use: length
    with: {mode: band, unit: words, min_tokens: 2, max_tokens: 6, buffer: 4}
  - use: format
    as: fmt
    with: {mode: partial}
"""
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "annotate_samples.jsonl"
SLOTS = 4


class Process:
    """A server subprocess; ``url`` is parsed from the line it prints once it listens."""

    def __init__(self, args: list[str], marker: str, cwd: Path):
        self.proc = subprocess.Popen([str(CLI), *args], cwd=cwd, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     env={"REWARDKIT_LOAD_PLUGINS": "length,format", "PATH": "/usr/bin:/bin"})
        self.output: list[str] = []
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) or self.output.append(x) for x in self.proc.stdout],
                         daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if marker in line:
                self.port = int(line.split("http://127.0.0.1:", 1)[1].split("/", 1)[0].split(" ")[0])
                while time.monotonic() < deadline:  # annotate prints its URL before it listens
                    try:
                        socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                        return
                    except OSError:
                        time.sleep(0.1)
        self.stop()
        raise AssertionError(f"server did not start: {''.join(self.output)}")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return "".join(self.output)


def request(port: int, method: str, path: str, body: bytes | None = None, timeout: float = 10,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request with a fresh connection: (status, lower-cased headers, body)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def one_line_error(status: int, body: bytes) -> str:
    assert 400 <= status < 500, (status, body[:300])
    message = json.loads(body)["error"]
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.fixture(scope="module")
def serve(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    (root / "rewards.yaml").write_text(CONFIG)
    srv = Process(["serve", "rewards.yaml", "--port", "0", "--max-concurrency", str(SLOTS),
                   "--idle-timeout", "2", "--timeout", "5"], " on http://127.0.0.1:", root)
    yield srv
    out = srv.stop()
    assert "Traceback" not in out, out


ROWS = json.dumps({"rows": [{"prompt": "p", "completion": "<think>a</think><answer>b</answer>"}]}).encode()


def open_idle(port: int, n: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(n)]


def test_idle_sockets_on_every_slot_do_not_lock_out_a_client(serve):
    idle = open_idle(serve.port, SLOTS * 2)
    try:
        for _ in range(3):
            status, _, body = request(serve.port, "POST", "/score", ROWS)
            assert status == 200, body
        # ... and the server closes them on its deadline (--idle-timeout 2): recv sees EOF.
        t0 = time.monotonic()
        for s in idle:
            s.settimeout(max(0.1, 15 - (time.monotonic() - t0)))
            assert s.recv(1) == b""
    finally:
        for s in idle:
            s.close()


def test_slow_loris_senders_are_cut_off_and_do_not_block(serve):
    loris = open_idle(serve.port, SLOTS * 2)
    head = b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    cut = [False] * len(loris)
    try:
        t0 = time.monotonic()
        for i in range(len(head)):  # one byte per sender every 50 ms: headers never complete in time
            for j, s in enumerate(loris):
                if not cut[j]:
                    try:
                        s.sendall(head[i:i + 1])
                    except OSError:
                        cut[j] = True
            if i == 5:
                status, _, body = request(serve.port, "POST", "/score", ROWS)
                assert status == 200, body
            if all(cut) or time.monotonic() - t0 > 12:
                break
            time.sleep(0.05 if i < 40 else 0.3)
        for j, s in enumerate(loris):
            if not cut[j]:
                s.settimeout(5)
                try:
                    cut[j] = s.recv(1) == b""
                except OSError:
                    cut[j] = True
        assert all(cut), "a slow-loris connection outlived the header deadline"
    finally:
        for s in loris:
            s.close()


def test_a_slow_body_does_not_take_a_scoring_slot(serve):
    slow = open_idle(serve.port, SLOTS)
    try:
        for s in slow:  # headers complete, body promised but never sent
            s.sendall(b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1000\r\n\r\n{")
        status, _, body = request(serve.port, "POST", "/score", ROWS)
        assert status == 200, body
        for s in slow:  # the body deadline (--timeout 5) answers them 408
            s.settimeout(15)
            assert b" 408 " in s.recv(200).split(b"\r\n", 1)[0]
    finally:
        for s in slow:
            s.close()


def nested(depth: int) -> bytes:
    return b'{"rows": ' + b"[" * depth + b"]" * depth + b"}"


SURROGATE = b'{"rows": [{"prompt": "p", "completion": "x\\ud800y"}]}'
SURROGATE_KEY = b'{"rows": [{"prompt": "p", "completion": "c", "\\udfff": 1}]}'
BAD_BODIES = [
    ("100k nested arrays", nested(100_000), "deeper than 64"),
    ("200 nested arrays", nested(200), "nested deeper than 64"),
    ("lone surrogate in a row", SURROGATE, "rows[0].completion"),
    ("lone surrogate in a key", SURROGATE_KEY, "surrogate"),
    ("5000-digit integer", b'{"rows": [{"completion": "c", "n": ' + b"9" * 5000 + b"}]}", "not valid JSON"),
]


@pytest.mark.parametrize("path", ["/score", "/get_reward"])
@pytest.mark.parametrize("case, body, needle", BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
def test_hostile_bodies_get_a_4xx_with_one_line(serve, path, case, body, needle):
    if path == "/get_reward":
        body, needle = body.replace(b'{"rows": ', b'{"query": ', 1), needle.replace("rows[", "query[")
    status, _, raw = request(serve.port, "POST", path, body)
    assert needle in one_line_error(status, raw)
    assert request(serve.port, "GET", "/health")[0] == 200  # still up


# --- annotate ---------------------------------------------------------------------------------------

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")


@pytest.fixture(scope="module")
def annotate(tmp_path_factory):
    root = tmp_path_factory.mktemp("annotate")
    shutil.copyfile(EXAMPLE, root / "samples.jsonl")
    srv = Process(["annotate", "samples.jsonl", "--db", "labels.sqlite", "--annotator", "eve", "--port", "0"],
                  "open http://127.0.0.1:", root)
    yield srv
    out = srv.stop()
    assert "Traceback" not in out, out


@pytest.mark.parametrize("method, path, body, host", [
    ("GET", "/", None, "127.0.0.1"),
    ("GET", "/api/state?annotator=eve", None, "127.0.0.1"),
    ("GET", "/static/no-such-file.js", None, "127.0.0.1"),  # a 404
    ("POST", "/api/label", b"{", "127.0.0.1"),  # a 400
    ("GET", "/", None, "evil.example"),  # refused by the Host check
])
def test_every_annotate_response_carries_the_security_headers(annotate, method, path, body, host):
    _, headers, _ = request(annotate.port, method, path, body, headers={"Host": host})
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"


def test_a_20_mb_body_is_refused_without_reading_it(annotate):
    # Content-Length says 20 MB and nothing follows: an answer that comes at once was not waiting for it.
    s = socket.create_connection(("127.0.0.1", annotate.port), timeout=10)
    try:
        s.sendall(b"POST /api/label HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 20971520\r\n\r\n")
        head = s.recv(4096)
    finally:
        s.close()
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    # Chunked (no length): counted as it arrives and refused past the limit.
    chunks = (b"{" + b" " * (64 * 1024) for _ in range(400))
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", annotate.port, timeout=20)
    try:
        conn.request("POST", "/api/label", body=chunks, headers={"Content-Type": "application/json",
                                                                 "Transfer-Encoding": "chunked"},
                     encode_chunked=True)
        resp = conn.getresponse()
        assert resp.status == 413
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered 413 and closed while the client was still sending
    finally:
        conn.close()


@pytest.mark.parametrize("pair_id", [10**30, -1, 2**63, -(2**63) - 1, 0])
def test_out_of_range_pair_ids_are_a_4xx(annotate, pair_id):
    body = json.dumps({"annotator": "eve", "pair_id": pair_id, "choice": "left"}).encode()
    status, _, raw = request(annotate.port, "POST", "/api/label", body, headers={"Host": "127.0.0.1"})
    assert status == 404, raw
    one_line_error(status, raw)


@pytest.mark.parametrize("body, needle", [(nested(100_000), "nests deeper"), (SURROGATE, "surrogate")])
def test_annotate_hostile_bodies(annotate, body, needle):
    status, _, raw = request(annotate.port, "POST", "/api/undo", body, headers={"Host": "127.0.0.1"})
    assert status == 400 and needle in one_line_error(status, raw)
