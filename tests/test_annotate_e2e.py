"""End to end: the real `rewardkit annotate` server in a subprocess, driven by headless Chromium
(Debian's chromium through Playwright) and killed with SIGKILL mid-session."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from rewardkit.cli import main

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# The math samples a new user tries first (and the screenshot in docs/annotate.md shows):
# Markdown, display and inline TeX, a code block and a chat prompt.
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "annotate_samples.jsonl"
SAMPLES = [(r["prompt"], r["completion"]) for r in map(json.loads, EXAMPLE.read_text(encoding="utf-8").splitlines())]


def write_samples(path: Path) -> Path:
    shutil.copyfile(EXAMPLE, path)
    return path


@contextmanager
def annotate_server(*args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run `rewardkit annotate ARGS --port 0`; yield its URL and process once it listens."""
    proc = subprocess.Popen([sys.executable, "-m", "rewardkit.cli", "annotate", *args, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    seen = []
    try:
        while True:
            try:
                line = lines.get(timeout=60)
            except queue.Empty:
                raise AssertionError(f"server did not start: {''.join(seen)}") from None
            seen.append(line)
            if "open http://" in line:
                url = line.split("open ", 1)[1].split()[0]
                break
        assert url.startswith("http://127.0.0.1:"), url  # loopback only by default
        _wait_healthy(url)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_healthy(url: str) -> None:
    for _ in range(100):
        try:
            with urllib.request.urlopen(url + "api/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            threading.Event().wait(0.1)
    raise AssertionError(f"{url} never answered")


def call(url: str, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def live_labels(db: Path, annotator: str) -> list[sqlite3.Row]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(
            "SELECT l.*, sl.line AS left_line, sr.line AS right_line FROM labels l"
            " JOIN samples sl ON sl.id = l.left_id JOIN samples sr ON sr.id = l.right_id"
            " WHERE annotator = ? AND undone_at IS NULL ORDER BY l.id", (annotator,)).fetchall()


# ---- SIGKILL mid-session ---------------------------------------------------------------------
def test_a_killed_server_loses_no_label_and_resumes(tmp_path):
    samples, db = write_samples(tmp_path / "samples.jsonl"), tmp_path / "labels.sqlite"
    done = []
    with annotate_server(str(samples), "--db", str(db), "--annotator", "bob") as (url, proc):
        state = call(url, "api/state?annotator=bob")
        total = state["total"]
        for choice in ("left", "right", "tie", "skip"):
            done.append((state["item"]["pair_id"], choice))
            state = call(url, "api/label", {"annotator": "bob", "pair_id": state["item"]["pair_id"],
                                            "choice": choice, "reason": f"because {choice}"})
        state = call(url, "api/undo", {"annotator": "bob"})  # the skip goes back in the queue
        done.pop()
        next_pair = state["item"]["pair_id"]
        assert state["done"] == 3
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL

    rows = live_labels(db, "bob")
    assert [(r["pair_id"], r["choice"], r["reason"]) for r in rows] == [(p, c, f"because {c}") for p, c in done]

    # Restart from the database alone (the samples are in it) and carry on where bob stopped.
    with annotate_server("--db", str(db), "--annotator", "bob") as (url, proc):
        state = call(url, "api/state?annotator=bob")
        assert (state["done"], state["total"], state["item"]["pair_id"]) == (3, total, next_pair)
        state = call(url, "api/label", {"annotator": "bob", "pair_id": next_pair, "choice": "left"})
        assert state["done"] == 4
    assert len(live_labels(db, "bob")) == 4


# ---- the page in headless Chromium -----------------------------------------------------------
def find_chromium() -> tuple[str | None, str]:
    """A Chromium binary and, where there is none, why.

    Looked for in order: $REWARDKIT_CHROMIUM, Debian's /usr/bin/chromium, chromium or
    chromium-browser on PATH, a browser Playwright downloaded earlier. Failing those, and only
    when running as root with apt-get, Debian's chromium package is installed (bounded in time):
    a clean CI machine then runs this test rather than skipping it.
    """
    candidates = [os.environ.get("REWARDKIT_CHROMIUM"), CHROMIUM, shutil.which("chromium"),
                  shutil.which("chromium-browser")]
    candidates += sorted(map(str, Path.home().glob(".cache/ms-playwright/chromium*/chrome-linux*/chrome")))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate, ""
    if not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get")):
        return None, "not root or no apt-get, so it cannot be installed here"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(["apt-get", "update", "-q"], check=False, env=env, capture_output=True, timeout=300)
        done = subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"],
                              check=False, env=env, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"apt-get install chromium failed: {e}"
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM, ""
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
    return None, f"apt-get install chromium failed: {tail[0]}"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    path, why = find_chromium()
    if path is None:
        pytest.skip(f"no Chromium browser ({why}); install Debian's chromium (apt-get install chromium) "
                    "or point REWARDKIT_CHROMIUM at one to run this test")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_label_pairs_in_the_browser(tmp_path, browser):
    samples, db = write_samples(tmp_path / "samples.jsonl"), tmp_path / "labels.sqlite"
    with annotate_server(str(samples), "--db", str(db), "--annotator", "maria") as (url, _):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(15_000)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(url)

        def progress(n: int) -> None:
            # Polled from here: wait_for_function evals its predicate in the page, which the page's
            # Content-Security-Policy (no 'unsafe-eval') rightly refuses.
            for _ in range(300):
                if page.text_content("#progress").startswith(f"{n} /"):
                    return
                page.wait_for_timeout(100)
            raise AssertionError(f"progress never reached {n}: {page.text_content('#progress')!r}")

        def shown() -> tuple[int, int, int]:
            pid = page.get_attribute("#main", "data-pair-id")
            left, right = (int(page.inner_text(f"#line-{s}").split()[-1]) for s in ("left", "right"))
            return int(pid), left, right

        progress(0)
        total = int(page.inner_text("#progress").split("/")[1])
        # Markdown and TeX are drawn, not shown as source.
        assert page.locator(".math").count() > 0 and "$" not in page.inner_text("#left") + page.inner_text("#right")
        # Model output is untrusted: its HTML is shown as text, links go to http(s) only.
        hostile = page.evaluate("""() => {
            const box = document.createElement('div');
            box.innerHTML = RK.renderMarkdown('<img src=x onerror="window.pwned=1"> [a](javascript:alert(1)) '
                + '[b](https://example.org/") $\\\\text{<b>x</b>}$ $$\\\\sum_{k=1}^{n} k$$');
            return {tags: [...box.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()),
                    hrefs: [...box.querySelectorAll('a')].map((a) => a.getAttribute('href')),
                    limits: box.querySelectorAll('.lim .hi, .lim .lo').length, text: box.textContent};
        }""")
        assert "img" not in hostile["tags"] and "b" not in hostile["tags"], hostile
        assert hostile["hrefs"] == ['https://example.org/"'] and "<img" in hostile["text"], hostile
        assert hostile["limits"] == 2, hostile
        shot = tmp_path / "annotate.png"
        page.screenshot(path=str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("REWARDKIT_SCREENSHOT"):  # how docs/annotate.png is made
            shutil.copyfile(shot, os.environ["REWARDKIT_SCREENSHOT"])

        record = []
        record.append((*shown(), "left", ""))
        page.click("#btn-left")
        progress(1)
        record.append((*shown(), "right", ""))
        page.keyboard.press("2")
        progress(2)
        reason = "A checks its answer; B drops a sign"
        page.keyboard.press("c")  # focus the reason box: keys typed there label nothing
        page.keyboard.type(reason)
        page.keyboard.press("Escape")
        record.append((*shown(), "left", reason))
        page.keyboard.press("a")
        progress(3)
        record.append((*shown(), "tie", ""))
        page.keyboard.press("3")
        progress(4)
        skipped = shown()
        page.keyboard.press("s")
        progress(5)
        page.keyboard.press("u")  # undo the skip: that pair comes back
        progress(4)
        assert shown() == skipped
        record.append((*shown(), "right", ""))
        page.click("#btn-right")
        progress(5)
        upcoming = shown()[0]

        # A long answer scrolls inside its own panel; the buttons stay on screen.
        box = page.evaluate("""() => {
            const el = document.getElementById('left');
            el.innerHTML = RK.renderValue('Step $x_k$.\\n\\n'.repeat(300), false);
            el.scrollTop = 400;
            const btn = document.getElementById('btn-left').getBoundingClientRect();
            return {overflow: getComputedStyle(el).overflowY, scrolled: el.scrollTop,
                    taller: el.scrollHeight > 3 * el.clientHeight, buttonBottom: btn.bottom,
                    viewport: innerHeight, pageScrolls: document.documentElement.scrollHeight > innerHeight};
        }""")
        assert box["overflow"] == "auto" and box["taller"] and box["scrolled"] > 0, box
        assert box["buttonBottom"] <= box["viewport"] and not box["pageScrolls"], box

        page.reload()
        progress(5)
        assert shown()[0] == upcoming

        # A second annotator, by name: their own queue and progress, the URL remembers them.
        page.fill("#annotator", "li")
        page.press("#annotator", "Enter")
        progress(0)
        assert "annotator=li" in page.url
        page.click("#btn-skip")
        progress(1)
        assert all(r.startswith(url) for r in requests), [r for r in requests if not r.startswith(url)]
        page.close()

    rows = live_labels(db, "maria")
    assert [(r["pair_id"], r["left_line"], r["right_line"], r["choice"], r["reason"]) for r in rows] == record
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT annotator, choice FROM labels WHERE undone_at IS NOT NULL").fetchall() == [("maria", "skip")]
        assert conn.execute("SELECT choice FROM labels WHERE annotator = 'li'").fetchall() == [("skip",)]

    out = tmp_path / "pairs.jsonl"
    assert main(["annotate", "export", "--db", str(db), "-o", str(out)]) == 0
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    expected = []
    for pid, left, right, choice, _ in sorted(record):
        if choice in ("left", "right"):
            win, lose = (left, right) if choice == "left" else (right, left)
            expected.append({"prompt": SAMPLES[win - 1][0], "chosen": SAMPLES[win - 1][1],
                             "rejected": SAMPLES[lose - 1][1]})
    assert exported == expected and len(exported) == 4
    assert total > 5
