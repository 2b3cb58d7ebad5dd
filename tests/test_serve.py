"""``rewardkit serve``: a real server process on loopback, checked against ``rewardkit score``.

The load test is bounded: a fixed number of requests, a fixed concurrency, and an overall
deadline after which it fails rather than hangs; it talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

import rewardkit
from rewardkit.cli import main

CONFIG = """
rewards:
  - use: length
    weight: 0.5
    with: {mode: band, unit: words, min_tokens: 2, max_tokens: 6, buffer: 4}
  - use: format
    as: fmt
    weight: 1.0
    with: {mode: partial}
"""
TOKEN = "s3cret-t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
STARTUP_S = 60.0


def rewardkit_cmd() -> list[str]:
    script = Path(sys.executable).with_name("rewardkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rewardkit.cli"]


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, REWARDKIT_LOAD_PLUGINS="length,format")  # only what the config uses
    env.pop("REWARDKIT_TOKEN", None)
    env.update(extra)
    return env


class ServeProcess:
    """``rewardkit serve`` in a subprocess on a free loopback port."""

    def __init__(self, config: Path, *args: str, env: dict[str, str] | None = None):
        self.proc = subprocess.Popen(
            [*rewardkit_cmd(), "serve", str(config), "--port", "0", *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env or child_env(),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        self.url = self._wait_for_url()

    def _pump(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if " on http://127.0.0.1:" in line:
                return line.split(" on ", 1)[1].split(" ", 1)[0]
        self.stop()
        raise AssertionError(f"rewardkit serve did not start: {''.join(self.stderr)}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("rewardkit serve did not stop on its own") from None


@pytest.fixture(scope="module")
def config_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("serve") / "rewards.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture(scope="module")
def server(config_file):
    srv = ServeProcess(config_file, "--max-batch", "64", "--max-body-mb", "0.05", "--workers", "4",
                       env=child_env(REWARDKIT_TOKEN=TOKEN))
    yield srv
    srv.stop()


def random_rows(rng: random.Random, n: int, tag: int) -> list[dict]:
    words = ["alpha", "beta", "gamma", "delta", "eps"]
    rows = []
    for i in range(n):
        body = " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        if rng.random() < 0.4:
            body = f"<think>{body}</think><answer>{rng.randint(0, 9)}</answer>"
        prompt = rng.choice(["p1", "p2", [{"role": "user", "content": "hi"}]])
        completion = [{"role": "assistant", "content": body}] if isinstance(prompt, list) else body
        rows.append({"prompt": prompt, "completion": completion, "id": f"{tag}-{i}"})
    return rows


def score_with_cli(config: Path, rows: list[dict], tmp_path: Path) -> dict[str, dict]:
    data = tmp_path / "sent.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "scored.jsonl"
    done = subprocess.run([*rewardkit_cmd(), "score", str(config), str(data), "-o", str(out)],
                          check=False, env=child_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}


@pytest.mark.slow
def test_concurrent_load_matches_rewardkit_score(server, config_file, tmp_path):
    rng = random.Random(6)
    n_requests, concurrency = 120, 12
    plans = []  # (kind, rows)
    for k in range(n_requests):
        rows = random_rows(rng, rng.randint(1, 8), k)
        plans.append(("get_reward" if k % 4 == 3 else "score", rows))

    async def one(client: httpx.AsyncClient, sem: asyncio.Semaphore, kind: str, rows: list[dict]):
        async with sem:
            if kind == "score":
                r = await client.post(f"{server.url}/score", json={"rows": rows}, headers=AUTH)
            else:  # OpenRLHF's form: query = prompt + completion, plain strings
                prompts = [f"Q[{row['id']}]: " for row in rows]
                queries = [p + rewardkit.text_of(row["completion"]) + "</s>" for p, row in zip(prompts, rows)]
                r = await client.post(f"{server.url}/get_reward", headers=AUTH,
                                      json={"query": queries, "prompts": prompts, "labels": [""] * len(rows)})
            return r.status_code, r.json()

    async def run_all():
        sem = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client:
            return await asyncio.wait_for(asyncio.gather(*[one(client, sem, k, rows) for k, rows in plans]), 120)

    answers = asyncio.run(run_all())
    assert len(answers) == n_requests and all(status == 200 for status, _ in answers), answers[:3]

    # The same rows through `rewardkit score` (get_reward rows as the completion OpenRLHF's query carries).
    sent = []
    for kind, rows in plans:
        for row in rows:
            sent.append(row if kind == "score" else {"prompt": f"Q[{row['id']}]: ",
                                                     "completion": rewardkit.text_of(row["completion"]),
                                                     "id": row["id"]})
    want = score_with_cli(config_file, sent, tmp_path)
    checked = 0
    for (kind, rows), (_, body) in zip(plans, answers):
        if kind == "score":
            assert [r["id"] for r in body["rows"]] == [r["id"] for r in rows]  # every row, in order
            for got in body["rows"]:
                assert got == want[got["id"]]
                checked += 1
        else:
            assert len(body["rewards"]) == len(rows) == len(body["scores"])
            for i, row in enumerate(rows):
                w = want[row["id"]]
                assert body["rewards"][i] == pytest.approx(w["reward"], abs=1e-12)
                assert {k: v[i] for k, v in body["extra_logs"].items()} == pytest.approx(
                    {k: (v if v is not None else 0.0) for k, v in w["rewards"].items()})
                checked += 1
    assert checked == len(sent) == len(want)


def test_token_is_required_when_configured(server):
    body = {"rows": [{"prompt": "p", "completion": "a b c"}]}
    no_token = httpx.post(f"{server.url}/score", json=body, timeout=30)
    assert no_token.status_code == 401 and "missing bearer token" in no_token.json()["error"]
    wrong = httpx.post(f"{server.url}/score", json=body, headers={"Authorization": "Bearer nope"}, timeout=30)
    assert wrong.status_code == 401 and "wrong bearer token" in wrong.json()["error"]
    assert httpx.post(f"{server.url}/get_reward", json={"query": ["x"]}, timeout=30).status_code == 401
    ok = httpx.post(f"{server.url}/score", json=body, headers=AUTH, timeout=30)
    assert ok.status_code == 200 and ok.json()["rows"][0]["rewards"].keys() == {"length", "fmt"}
    health = httpx.get(f"{server.url}/health", timeout=30)  # open: probes carry no secrets
    assert health.status_code == 200 and health.json()["rewards"] == ["length", "fmt"]


@pytest.mark.parametrize(("path", "body", "status", "reason"), [
    ("/score", b"{not json", 400, "body is not valid JSON"),
    ("/score", b"", 400, "empty body"),
    ("/score", b'{"rows": "abc"}', 422, "'rows' must be a list"),
    ("/score", b'[1, 2]', 422, "expected a JSON object"),
    ("/score", b'{"rows": [{"prompt": "p"}]}', 422, "rows[0]: row has no 'completion' field"),
    ("/score", b'{"rows": [{"completion": 5}]}', 422, "rows[0].completion: expected a string"),
    ("/score", json.dumps({"rows": [{"completion": "x"}] * 65}).encode(), 413, "over the limit of 64"),
    ("/score", json.dumps({"rows": [{"completion": "x" * 60000}]}).encode(), 413, "over the limit"),
    ("/get_reward", b'{"prompts": ["a"]}', 422, "'query' is required"),
    ("/get_reward", b'{"query": ["a", "b"], "prompts": ["a"]}', 422, "'prompts' has 1 items for 2 queries"),
    ("/get_reward", b'{"query": [1]}', 422, "query[0]: expected a string"),
])
def test_malformed_requests_get_a_4xx_with_a_one_line_reason(server, path, body, status, reason):
    r = httpx.post(f"{server.url}{path}", content=body, headers={**AUTH, "Content-Type": "application/json"},
                   timeout=30)
    assert r.status_code == status
    error = r.json()["error"]
    assert reason in error and "\n" not in error


def test_unknown_route_and_method(server):
    assert httpx.get(f"{server.url}/score", headers=AUTH, timeout=30).status_code == 405
    assert httpx.post(f"{server.url}/nope", headers=AUTH, timeout=30).status_code == 404


def test_non_loopback_host_without_token_refuses_to_start(config_file, capsys, monkeypatch):
    monkeypatch.delenv("REWARDKIT_TOKEN", raising=False)
    assert main(["serve", str(config_file), "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "REWARDKIT_TOKEN" in err[0] and "0.0.0.0" in err[0]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_server_cleanly(config_file, sig):
    srv = ServeProcess(config_file)
    assert httpx.get(f"{srv.url}/health", timeout=30).status_code == 200
    assert srv.stop(sig) == 0
    assert f"stopped ({signal.Signals(sig).name})" in "".join(srv.stderr)


# -- in-process: the thread pool, the timeout ----------------------------------------------------


class _SlowPlugin:
    class Slow(rewardkit.Reward):
        """Sleeps ``seconds`` on completions containing 'slow' (to hold a worker thread)."""

        name = "slow"
        seconds: float = 1.0

        def score(self, prompts, completions, **columns):
            if any("slow" in rewardkit.text_of(c) for c in completions):
                time.sleep(self.seconds)
            return [1.0] * len(completions)

    @rewardkit.hookimpl
    def register_rewards(self, register):
        register(self.Slow)


@pytest.fixture
def inprocess(fresh_registry):
    """An in-process server (uvicorn in a thread) for a composite with a slow reward."""
    import uvicorn

    from rewardkit.serve import Limits, create_app
    from rewardkit.serve.server import Server, bind

    fresh_registry.register_plugin(_SlowPlugin(), name="slowplugin")
    started = []

    def start(seconds: float, timeout_s: float) -> str:
        composite = rewardkit.load({"rewards": [{"use": "slow", "with": {"seconds": seconds}}]})
        app = create_app(composite, limits=Limits(timeout_s=timeout_s), workers=2)
        sock = bind("127.0.0.1", 0)
        server = Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        started.append((server, thread, sock))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, thread, sock in started:
        server.should_exit = True
        thread.join(30)
        sock.close()


def test_slow_scoring_does_not_block_other_requests(inprocess):
    url = inprocess(seconds=1.5, timeout_s=30)
    order = []

    def slow():
        r = httpx.post(f"{url}/score", json={"rows": [{"completion": "slow"}]}, timeout=30)
        order.append(("slow", r.status_code))

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.2)  # let the slow call reach its worker thread
    fast = httpx.post(f"{url}/score", json={"rows": [{"completion": "quick"}]}, timeout=30)
    order.append(("fast", fast.status_code))
    order.append(("health", httpx.get(f"{url}/health", timeout=30).status_code))
    t.join(30)
    assert order == [("fast", 200), ("health", 200), ("slow", 200)]


def test_request_over_the_timeout_gets_504(inprocess):
    url = inprocess(seconds=2.0, timeout_s=0.3)
    r = httpx.post(f"{url}/get_reward", json={"query": ["slow"]}, timeout=30)
    assert r.status_code == 504 and "longer than 0.3s" in r.json()["error"]
    assert httpx.get(f"{url}/health", timeout=30).status_code == 200
