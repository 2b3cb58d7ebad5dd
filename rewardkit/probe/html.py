"""report.html: one card per attack with a plot of the totals (correct vs wrong vs attacked).

matplotlib comes with the ``train`` extra; without it :func:`render` raises ImportError and the
command says the page was skipped. The page is one self-contained file (plots inlined as PNG).
"""

from __future__ import annotations

import base64
import html
import io
import random

from .report import worst_first
from .run import Report
from .severity import Finding

COLORS = {"correct": "#2a9d8f", "wrong": "#e76f51", "attacked": "#264653"}
BADGE = {"high": "#c0392b", "medium": "#e67e22", "low": "#7f8c8d", "none": "#27ae60"}
STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px}.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px}
.card{border:1px solid #ddd;border-radius:6px;padding:10px}.card h2{font-size:15px;margin:0 0 4px}
.sev{color:#fff;border-radius:3px;padding:1px 6px;font-size:12px;margin-left:6px}
.meta{color:#555;font-size:12px}pre{white-space:pre-wrap;background:#f6f6f6;padding:6px;font-size:11px;
max-height:90px;overflow:auto}img{width:100%}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left}"""


def _plot(ax, f: Finding, correct: list[float], wrong: list[float]) -> str:
    """A strip plot of the three distributions on the shared axes, as base64 PNG."""
    ax.cla()
    rng = random.Random(0)  # fixed jitter: the same report draws the same page
    groups = [("correct", correct), ("wrong", wrong), ("attacked", f.scores)]
    for y, (name, xs) in enumerate(groups):
        ax.scatter(xs, [y + rng.uniform(-0.18, 0.18) for _ in xs], s=9, alpha=0.6, color=COLORS[name])
        if xs:
            ax.plot([sum(xs) / len(xs)] * 2, [y - 0.32, y + 0.32], color="black", lw=1.5)
    ax.set_yticks(range(3), [g[0] for g in groups], fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel("total reward (bar: mean)", fontsize=8)
    ax.set_ylim(-0.6, 2.6)
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode()


def _blame(f: Finding) -> str:
    if f.responsible:
        return f.responsible
    return "no component penalises it" if f.expect == "flawed" and f.severity != "none" else "none"


def _card(ax, f: Finding, report: Report) -> str:
    # The attacked rows' own references, so the three strips compare like with like.
    correct = [report.correct[i] for i in f.index]
    wrong = [report.wrong[i] for i in f.index]
    ex = f.example.get("completion", "")
    return (
        f'<div class="card"><h2>{html.escape(f.attack)}<span class="sev" style="background:'
        f'{BADGE[f.severity]}">{f.severity}</span></h2>'
        f'<div class="meta">{html.escape(f.family)} · expect {f.expect} · {html.escape(f.source)} · '
        f'{html.escape(f.description)}</div>'
        f'<img alt="rewards of {html.escape(f.attack)}" src="data:image/png;base64,'
        f'{_plot(ax, f, correct, wrong)}">'
        f'<div class="meta">{f.rows} rows · reaches correct {f.reaches_correct:.0%} · beats wrong '
        f'{f.above_wrong:.0%} · gap vs correct {f.gap_correct:+.3f} · responsible: '
        f'{html.escape(_blame(f))}</div>'
        f'<pre>{html.escape(ex[:600])}</pre></div>')


def render(report: Report) -> str:
    """The page as a string (imports matplotlib; raises ImportError without it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = report.counts()
    # One figure redrawn per attack: creating and laying out a figure each time costs seconds.
    fig, ax = plt.subplots(figsize=(4.2, 1.7), dpi=90)
    fig.subplots_adjust(left=0.17, right=0.97, top=0.95, bottom=0.3)
    try:
        cards = "".join(_card(ax, f, report) for f in worst_first(report.findings))
    finally:
        plt.close(fig)
    weights = ", ".join(f"{w:g} × {html.escape(k)}" for k, w in report.components.items())
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>rewardkit probe</title>"
        f"<style>{STYLE}</style></head><body><h1>rewardkit probe: {html.escape(report.config)}</h1>"
        f"<p>{report.rows} rows of {html.escape(report.data)} · composite {weights} · layout "
        f"'{html.escape(report.layout)}' · <b>{counts['high']} high</b>, {counts['medium']} medium, "
        f"{counts['low']} low</p><div class='grid'>{cards}</div></body></html>\n")
