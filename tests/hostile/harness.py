"""Run the real ``rewardkit`` console script on hostile input and check what docs/reliability.md promises.

Every hostile case goes through the same three checks:

- ``run_cli(...)`` runs the installed console script in a subprocess, with a wall-clock limit,
  and records its exit status, output, time and peak RSS (``os.wait4``'s ``ru_maxrss``).
- ``assert_one_line_error(run, *needles)``: exit 2 (or the status given), no traceback, stderr is
  exactly one line starting ``rewardkit: error:`` that names every needle (file, key, line...).
- ``snapshot(dir)`` before and ``assert_unchanged(before, dir, allow=...)`` after: no file other
  than the allowed outputs was created, changed or removed.

``make_plugin(...)`` installs a throw-away third-party plugin (a module plus a ``.dist-info`` with
its entry point) on a ``PYTHONPATH`` folder, so a case can run the CLI with a broken plugin the
way a user would have it after ``pip install``.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

CLI = Path(sys.executable).with_name("rewardkit")  # the console script pip installed in this venv
DEFAULT_RSS_CAP_MB = 3000  # generous: a tokenizer + tiny model run stays far below; a blow-up does not


@dataclass
class Run:
    """What one CLI run did."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float
    timed_out: bool

    def __str__(self) -> str:  # shown by pytest when an assertion fails
        return (
            f"$ rewardkit {' '.join(self.args)}\n-> exit {self.returncode} in {self.seconds:.1f}s, "
            f"{self.max_rss_mb:.0f} MB{' (TIMED OUT)' if self.timed_out else ''}\n"
            f"--- stdout (first 2000 chars)\n{self.stdout[:2000]}\n--- stderr\n{self.stderr[-4000:]}"
        )


def run_cli(
    *args: str | os.PathLike,
    cwd: str | os.PathLike,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> Run:
    """Run ``rewardkit ARGS`` in ``cwd``; kill it (and its process group) after ``timeout`` s."""
    argv = [str(a) for a in args]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}
    full_env.update(env or {})
    out_path = Path(cwd) / f".hostile-{os.getpid()}-{time.monotonic_ns()}"
    with open(f"{out_path}.out", "w+b") as out, open(f"{out_path}.err", "w+b") as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [str(CLI), *argv], cwd=cwd, env=full_env, stdout=out, stderr=err,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            start_new_session=True,
        )
        if stdin is not None:
            proc.stdin.write(stdin.encode())
            proc.stdin.close()
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    Path(f"{out_path}.out").unlink()
    Path(f"{out_path}.err").unlink()
    return Run(argv, proc.returncode, stdout, stderr, seconds, usage.ru_maxrss / 1024, timed_out)


def assert_one_line_error(run: Run, *needles: str, status: int = 2,
                          max_seconds: float = 60, max_rss_mb: float = DEFAULT_RSS_CAP_MB) -> str:
    """The run failed cleanly: ``status``, one stderr line naming every needle, in time and memory."""
    assert not run.timed_out, f"did not finish in time\n{run}"
    assert run.returncode == status, f"expected exit {status}\n{run}"
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, f"traceback\n{run}"
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected exactly one line on stderr, got {len(lines)}\n{run}"
    line = lines[0]
    assert line.startswith("rewardkit: error:"), f"not a rewardkit error line\n{run}"
    for needle in needles:
        assert needle in line, f"error line does not name {needle!r}\n{run}"
    assert run.seconds <= max_seconds, f"took {run.seconds:.1f}s > {max_seconds}s\n{run}"
    assert run.max_rss_mb <= max_rss_mb, f"peak RSS {run.max_rss_mb:.0f} MB > {max_rss_mb} MB\n{run}"
    return line


def assert_bounded(run: Run, *, max_seconds: float = 60, max_rss_mb: float = DEFAULT_RSS_CAP_MB) -> None:
    """The run finished (any status) within the time and memory caps, without a traceback."""
    assert not run.timed_out, f"did not finish in time\n{run}"
    assert "Traceback" not in run.stderr, f"traceback\n{run}"
    assert run.seconds <= max_seconds, f"took {run.seconds:.1f}s > {max_seconds}s\n{run}"
    assert run.max_rss_mb <= max_rss_mb, f"peak RSS {run.max_rss_mb:.0f} MB > {max_rss_mb} MB\n{run}"


def snapshot(root: str | os.PathLike) -> dict[str, tuple[int, str]]:
    """Every file under ``root``: relative path -> (size, sha256)."""
    root = Path(root)
    files = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.name.startswith(".hostile-"):
            files[str(p.relative_to(root))] = (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
    return files


def assert_unchanged(before: dict[str, tuple[int, str]], root: str | os.PathLike,
                     allow: tuple[str, ...] = ()) -> None:
    """No file under ``root`` was created, changed or removed, except paths starting with ``allow``."""
    after = snapshot(root)
    changed = sorted(
        p for p in set(before) | set(after)
        if before.get(p) != after.get(p) and not any(p.startswith(a) for a in allow)
    )
    assert not changed, f"files changed, created or removed: {changed}"


def make_plugin(root: str | os.PathLike, module: str, source: str, *, entry_name: str | None = None,
                distribution: str | None = None) -> dict[str, str]:
    """Install plugin ``module`` (with ``source``) under ``root``; return the env that makes it visible."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    dist = distribution or f"rewardkit-{module.replace('_', '-')}"
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-0.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text(f"[rewardkit]\n{entry_name or module} = {module}\n")
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH", "")]))
    return {"PYTHONPATH": path}
