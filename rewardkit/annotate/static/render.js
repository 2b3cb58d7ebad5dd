// Markdown and TeX for the labelling page: markdown-it, KaTeX and DOMPurify (vendor/, pinned in
// vendor/VENDORED.md), glued by one markdown-it rule that finds the math.
//
// Model output is untrusted. markdown-it runs with raw HTML off (it is shown as text) and links
// only to http(s); KaTeX runs with `trust` off (no \href, \url, \includegraphics, \html*); and the
// finished HTML goes through DOMPurify, so no script, event handler or javascript: URL reaches the
// page even if one of those layers has a bug. The math rule is linear in the text: every search
// for a closing delimiter is remembered, so no position of the text is scanned twice for it.
"use strict";

const RK = (() => {
  const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ESC[c]);

  // HTML output only: KaTeX's MathML copy tripled its time and doubled the DOM that DOMPurify
  // walks (bench/annotate_render.py); the raw-text toggle shows the TeX source instead.
  const KATEX = { throwOnError: false, trust: false, strict: "ignore", output: "html",
    maxSize: 50, maxExpand: 500 };
  const ENVIRONMENTS = ["equation", "equation*", "align", "align*", "gather", "gather*", "multline",
    "multline*"];

  function renderTex(tex, display) {
    // With throwOnError off, KaTeX shows bad TeX as its source in red rather than throwing.
    return katex.renderToString(tex, { ...KATEX, displayMode: display });
  }

  // The first `needle` at or after `from` in the inline text (-1 if none), remembered per needle:
  // the parser asks with growing `from`, so each needle's search covers the text once in all.
  function next(state, needle, from) {
    const memo = (state.rkFind = state.rkFind || {});
    const hit = memo[needle];
    if (hit && hit.from <= from && (hit.at === -1 || hit.at >= from)) return hit.at;
    const at = state.src.indexOf(needle, from);
    memo[needle] = { from, at };
    return at;
  }

  // The first unescaped `$` after `from` on the same line, or -1.
  function closingDollar(state, from) {
    const eol = next(state, "\n", from);
    for (let q = next(state, "$", from); q !== -1 && (eol === -1 || q < eol); q = next(state, "$", q + 1)) {
      if (state.src[q - 1] !== "\\") return q;
    }
    return -1;
  }

  const SPACE = /\s/;

  // [open, close, display] for the delimiter at `pos`, in the order they are tried.
  function delimiters(src, pos) {
    const c = src[pos];
    if (c === "$") return src[pos + 1] === "$" ? ["$$", "$$", true] : ["$", "$", false];
    if (c !== "\\") return null;
    const d = src[pos + 1];
    if (d === "(") return ["\\(", "\\)", false];
    if (d === "[") return ["\\[", "\\]", true];
    if (src.startsWith("\\begin{", pos)) {
      const env = ENVIRONMENTS.find((e) => src.startsWith(`\\begin{${e}}`, pos));
      if (env) return [`\\begin{${env}}`, `\\end{${env}}`, true];
    }
    return null;
  }

  // One inline rule for $...$ (as pandoc reads it), $$...$$, \(...\), \[...\] and
  // \begin{equation|align|gather|multline}: it runs before markdown-it's backslash escapes.
  function mathRule(state, silent) {
    const src = state.src, pos = state.pos;
    const delim = delimiters(src, pos);
    if (!delim) return false;
    const [open, close, display] = delim;
    const start = pos + open.length;
    let end, content;
    if (open === "$") {
      // No space just inside the dollars, no digit right after: "costs $5 and $10" stays text.
      if (start >= state.posMax || SPACE.test(src[start])) return false;
      end = closingDollar(state, start);
      if (end === -1 || end >= state.posMax || SPACE.test(src[end - 1]) || /\d/.test(src[end + 1] || "")) return false;
      content = src.slice(start, end);
    } else {
      end = next(state, close, start);
      if (end === -1 || end + close.length > state.posMax) return false;
      content = src.slice(start, end).trim();
      if (!content) return false;
      if (open.startsWith("\\begin")) content = open + content + close;  // KaTeX draws the environment
    }
    if (!silent) {
      const token = state.push("rk_math", "math", 0);
      token.content = content;
      token.meta = { display };
    }
    state.pos = end + close.length;
    return true;
  }

  const md = markdownit({ html: false, linkify: false, typographer: false });
  md.disable("image");  // no images from model text: nothing is fetched on its behalf
  md.inline.ruler.before("escape", "rk_math", mathRule);
  md.renderer.rules.rk_math = (tokens, idx) => {
    const t = tokens[idx];
    return `<span class="math${t.meta.display ? " display" : ""}">${renderTex(t.content, t.meta.display)}</span>`;
  };
  md.renderer.rules.fence = ((fence) => (tokens, idx, options, env, self) => {
    const lang = tokens[idx].info.trim().split(/\s+/)[0];
    return fence(tokens, idx, options, env, self).replace("<pre>", `<pre class="code"${lang ? ` data-lang="${esc(lang)}"` : ""}>`);
  })(md.renderer.rules.fence);
  const HTTP = /^https?:\/\//i;
  md.validateLink = (url) => HTTP.test(url.trim());

  const PURIFY = { FORBID_TAGS: ["style", "img", "form", "input", "button", "textarea", "select",
    "iframe", "object", "embed"],
    // DOMPurify's own pattern with http(s) as the only scheme; it is also what lets KaTeX's SVG
    // attributes (viewBox="0 0 ...") through, so it cannot be narrowed to URLs alone.
    ALLOWED_URI_REGEXP: /^(?:https?:|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i };
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A" && node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });
  const clean = (html) => DOMPurify.sanitize(html, PURIFY);

  /** Markdown with TeX, as sanitized HTML. */
  function renderMarkdown(src) {
    return clean(md.render(String(src)));
  }

  // ---- prompts and completions: strings or chat message lists --------------------------------
  function contentText(content) {
    if (content == null) return "";
    if (typeof content === "string") return content;
    if (Array.isArray(content)) return content.map((p) => (p && typeof p === "object") ? (p.text || "") : String(p)).join("");
    return String(content);
  }

  /** A prompt or completion (string or chat list) as HTML: rendered, or its source when `raw`. */
  function renderValue(value, raw) {
    const body = (text) => raw ? `<pre class="raw">${esc(text)}</pre>` : `<div class="md">${renderMarkdown(text)}</div>`;
    if (Array.isArray(value)) {
      return value.map((m) => `<div class="msg"><div class="role">${esc((m && m.role) || "message")}</div>` +
        body(contentText(m && m.content)) + "</div>").join("");
    }
    return body(typeof value === "string" ? value : JSON.stringify(value, null, 2));
  }

  return { esc, renderMarkdown, renderTex, renderValue };
})();
