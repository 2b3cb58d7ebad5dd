"""Time the annotation page's renderer (markdown-it + KaTeX + DOMPurify) in headless Chromium.

Inputs, each at 10k, 20k, 40k and 80k characters: unclosed ``**`` (quadratic in the hand-written
renderer this replaced: 2.2 s at 40k), unclosed ``$``, unclosed ``\\(``, unclosed link brackets,
and the bundled math samples repeated. Linear time shows as a time that doubles with the size.
Where git has the hand-written renderer (``--old-ref``, default the commit before it was replaced),
the same inputs are timed with it too, in the same browser, and ``ratio`` = ours / old.
Prints one JSON object on the last line. Needs playwright and a Chromium (see tests/test_annotate_e2e.py).
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on sys.path, and bench/math.py would shadow the
# standard library's math for every later import: drop that folder first (as bench/math.py does).
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import json
import statistics
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "rewardkit" / "annotate" / "static"
SCRIPTS = ["vendor/markdown-it.min.js", "vendor/purify.min.js", "vendor/katex.min.js", "render.js"]
OLD_REF = "da02f44"  # the last commit with the hand-written render.js
SIZES = (10_000, 20_000, 40_000, 80_000)


def inputs() -> dict[str, list[str]]:
    """Each case at every size in :data:`SIZES`."""
    samples = [json.loads(line)["completion"] for line in (ROOT / "examples" / "annotate_samples.jsonl").open()]
    text = "\n\n".join(s for s in samples if isinstance(s, str))
    cases = {"unclosed **": "**a ", "unclosed $": "$a ", "unclosed \\(": "\\( ", "unclosed [": "[a](",
             "math samples": text + "\n\n"}
    return {name: [(unit * (n // len(unit) + 1))[:n] for n in SIZES] for name, unit in cases.items()}


def old_renderer(ref: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:rewardkit/annotate/static/render.js"],
                              check=False, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def time_page(browser, scripts: list[str], cases: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    """Median milliseconds of ``RK.renderMarkdown`` per case and size, in a fresh page."""
    page = browser.new_page()
    for source in scripts:
        page.add_script_tag(content=source)
    out = page.evaluate("""([cases, repeat]) => {
        const result = {};
        RK.renderMarkdown('warm **up** $x$');
        for (const [name, texts] of Object.entries(cases)) {
            result[name] = texts.map((t) => {
                const times = [];
                for (let i = 0; i < repeat; i++) {
                    const start = performance.now(); RK.renderMarkdown(t); times.push(performance.now() - start);
                }
                return times;
            });
        }
        return result;
    }""", [cases, repeat])
    page.close()
    return {name: [round(statistics.median(t), 1) for t in times] for name, times in out.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--old-ref", default=OLD_REF, help="git ref of the hand-written renderer ('' to skip it)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "tests"))
    from playwright.sync_api import sync_playwright
    from test_annotate_e2e import CHROMIUM_ARGS, find_chromium

    path, why = find_chromium()
    if path is None:  # `make bench` goes on with the other benches
        print(json.dumps({"bench": "annotate_render", "not_run": f"no Chromium: {why}"}))
        return 0
    cases = inputs()
    ours = [(STATIC / s).read_text(encoding="utf-8") for s in SCRIPTS]
    old = old_renderer(args.old_ref) if args.old_ref else None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        result = {"bench": "annotate_render", "sizes": list(SIZES), "unit": "ms, median", "ours": time_page(browser, ours, cases, args.repeat)}
        if old is not None:
            result["old"] = time_page(browser, [old], cases, args.repeat)
            result["ratio"] = {name: [round(a / b, 3) if b else None for a, b in zip(result["ours"][name], times)]
                               for name, times in result["old"].items()}
        browser.close()
    for name, times in result["ours"].items():
        line = "  ".join(f"{n // 1000}k {t:8.1f}" for n, t in zip(SIZES, times))
        old_line = "" if old is None else "   old: " + "  ".join(f"{t:8.1f}" for t in result["old"][name])
        print(f"{name:<14} {line}{old_line}", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
