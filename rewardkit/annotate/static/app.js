// The labelling page: fetch the next pair, send one label per click or key, undo the last one.
// The page shows the next pair only after the server has committed the label, so nothing shown
// as done can be lost by closing the tab or killing the server.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const page = { annotator: "", item: null, busy: false, shownAt: 0, db: "labels.sqlite", last: null };
  const LABELS = { left: "A is better", right: "B is better", tie: "tie", skip: "skipped" };

  function status(text, kind) {
    const el = $("status");
    el.textContent = text;
    el.className = kind || "";
  }

  async function api(path, body) {
    const opts = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    };
    let res;
    try {
      res = await fetch(path, { cache: "no-store", ...opts });
    } catch (e) {
      throw new Error("server not reachable (is `rewardkit annotate` still running?)");
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok && res.status !== 409) throw new Error(data.error || `HTTP ${res.status}`);
    return { status: res.status, data };
  }

  function setBusy(busy) {
    page.busy = busy;
    document.querySelectorAll("button[data-choice]").forEach((b) => { b.disabled = busy || !page.item; });
    $("btn-undo").disabled = busy || !page.canUndo;
    $("btn-undo-finished").disabled = busy || !page.canUndo;
  }

  function renderItem() {
    const raw = $("raw").checked;
    const item = page.item;
    $("prompt").innerHTML = RK.renderValue(item.prompt, raw);
    $("left").innerHTML = RK.renderValue(item.left.completion, raw);
    $("right").innerHTML = RK.renderValue(item.right.completion, raw);
    $("line-left").textContent = `line ${item.left.line}`;
    $("line-right").textContent = `line ${item.right.line}`;
  }

  function show(state) {
    page.item = state.item;
    page.canUndo = state.can_undo;
    const pct = state.total ? (100 * state.done) / state.total : 0;
    $("progress").textContent = `${state.done} / ${state.total}`;
    $("bar-fill").style.width = `${pct}%`;
    $("main").hidden = !state.item;
    $("finished").hidden = !!state.item;
    $("main").dataset.pairId = state.item ? String(state.item.pair_id) : "";
    if (state.item) {
      renderItem();
      ["prompt", "left", "right"].forEach((id) => { $(id).scrollTop = 0; });
      page.shownAt = performance.now();
    } else {
      $("export-cmd").textContent = `rewardkit annotate export --db ${page.db} -o pairs.jsonl`;
    }
    setBusy(false);
  }

  async function refresh() {
    const { data } = await api(`/api/state?annotator=${encodeURIComponent(page.annotator)}`);
    show(data);
  }

  async function choose(choice) {
    if (page.busy || !page.item) return;
    const reason = $("reason").value;
    setBusy(true);
    flash(`btn-${choice}`);
    try {
      const { status: code, data } = await api("/api/label", {
        annotator: page.annotator, pair_id: page.item.pair_id, choice, reason,
        seconds: Math.round(performance.now() - page.shownAt) / 1000,
      });
      $("reason").value = "";
      show(data);
      status(code === 409 ? "that pair was already labelled (another tab?); showing your next one"
        : `saved: ${LABELS[choice]}`, code === 409 ? "warn" : "ok");
    } catch (e) {
      setBusy(false);
      status(`not saved: ${e.message}`, "error");
    }
  }

  async function undo() {
    if (page.busy || !page.canUndo) return;
    setBusy(true);
    try {
      const { data } = await api("/api/undo", { annotator: page.annotator });
      show(data);
      $("reason").value = data.undone ? data.undone.reason : "";
      status(data.undone ? `undone: ${LABELS[data.undone.choice]} (label it again)` : "nothing to undo", "ok");
    } catch (e) {
      setBusy(false);
      status(`undo failed: ${e.message}`, "error");
    }
  }

  function flash(id) {
    const el = $(id);
    if (!el) return;
    el.classList.add("pressed");
    setTimeout(() => el.classList.remove("pressed"), 180);
  }

  const KEYS = { 1: "left", a: "left", ArrowLeft: "left", 2: "right", b: "right", ArrowRight: "right",
    3: "tie", t: "tie", s: "skip" };

  function onKey(ev) {
    const typing = ev.target instanceof HTMLInputElement && ev.target.type === "text";
    if (typing) {
      if (ev.key === "Escape") ev.target.blur();
      // Enter in the reason box sends nothing: the annotator still has to say which is better.
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) {
      if ((ev.ctrlKey || ev.metaKey) && ev.key === "z") { ev.preventDefault(); undo(); }
      return;
    }
    if (ev.repeat) return;  // a held key must not label a run of pairs
    if (KEYS[ev.key]) { ev.preventDefault(); choose(KEYS[ev.key]); return; }
    if (ev.key === "u") { ev.preventDefault(); undo(); return; }
    if (ev.key === "c" || ev.key === "/") { ev.preventDefault(); $("reason").focus(); return; }
    if (ev.key === "r") { $("raw").checked = !$("raw").checked; if (page.item) renderItem(); }
  }

  function setAnnotator(name) {
    page.annotator = name;
    $("annotator").value = name;
    const url = new URL(location.href);
    url.searchParams.set("annotator", name);
    history.replaceState(null, "", url);
  }

  async function start() {
    document.querySelectorAll("button[data-choice]").forEach((b) =>
      b.addEventListener("click", () => choose(b.dataset.choice)));
    $("btn-undo").addEventListener("click", undo);
    $("btn-undo-finished").addEventListener("click", undo);
    $("raw").addEventListener("change", () => { if (page.item) renderItem(); });
    $("annotator").addEventListener("change", async () => {
      const name = $("annotator").value.trim();
      if (!name) { $("annotator").value = page.annotator; return; }
      setAnnotator(name);
      $("annotator").blur();
      try { await refresh(); status(`labelling as ${name}`, "ok"); } catch (e) { status(e.message, "error"); }
    });
    document.addEventListener("keydown", onKey);
    try {
      const { data: cfg } = await api("/api/config");
      page.db = cfg.db;
      setAnnotator(new URL(location.href).searchParams.get("annotator") || cfg.default_annotator);
      await refresh();
      status("ready", "ok");
    } catch (e) {
      status(e.message, "error");
    }
  }

  start();
})();
