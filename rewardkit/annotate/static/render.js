// A small Markdown and TeX renderer for the labelling page: no dependencies, works offline.
//
// Model output is untrusted, so every piece of text is HTML-escaped before any markup is added,
// and only markup this file writes reaches the page (no raw HTML pass-through, links only for
// http(s) URLs). TeX is rendered with plain HTML and CSS: fractions, roots, sub/superscripts,
// boxes, matrices and the common symbols; anything else stays readable as its source.
"use strict";

const RK = (() => {
  const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ESC[c]);

  // ---- TeX ------------------------------------------------------------------------------
  const SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ϵ", varepsilon: "ε", zeta: "ζ",
    eta: "η", theta: "θ", vartheta: "ϑ", iota: "ι", kappa: "κ", lambda: "λ", mu: "μ", nu: "ν",
    xi: "ξ", pi: "π", varpi: "ϖ", rho: "ρ", sigma: "σ", tau: "τ", upsilon: "υ", phi: "ϕ",
    varphi: "φ", chi: "χ", psi: "ψ", omega: "ω", Gamma: "Γ", Delta: "Δ", Theta: "Θ",
    Lambda: "Λ", Xi: "Ξ", Pi: "Π", Sigma: "Σ", Upsilon: "Υ", Phi: "Φ", Psi: "Ψ", Omega: "Ω",
    cdot: "·", times: "×", div: "÷", pm: "±", mp: "∓", le: "≤", leq: "≤", ge: "≥", geq: "≥",
    ne: "≠", neq: "≠", approx: "≈", equiv: "≡", sim: "∼", simeq: "≃", cong: "≅", propto: "∝",
    infty: "∞", partial: "∂", nabla: "∇", sum: "∑", prod: "∏", int: "∫", oint: "∮",
    to: "→", rightarrow: "→", leftarrow: "←", Rightarrow: "⇒", Leftarrow: "⇐",
    leftrightarrow: "↔", Leftrightarrow: "⇔", implies: "⟹", iff: "⟺", mapsto: "↦",
    in: "∈", notin: "∉", ni: "∋", subset: "⊂", subseteq: "⊆", supset: "⊃", supseteq: "⊇",
    cup: "∪", cap: "∩", bigcup: "⋃", bigcap: "⋂", setminus: "∖", emptyset: "∅", varnothing: "∅", forall: "∀",
    exists: "∃", neg: "¬", lnot: "¬", land: "∧", wedge: "∧", lor: "∨", vee: "∨", oplus: "⊕",
    otimes: "⊗", angle: "∠", circ: "∘", bullet: "•", degree: "°", cdots: "⋯", ldots: "…",
    dots: "…", vdots: "⋮", ddots: "⋱", prime: "′", perp: "⊥", parallel: "∥", mid: "∣",
    triangle: "△", star: "⋆", ell: "ℓ", hbar: "ħ", aleph: "ℵ", lfloor: "⌊", rfloor: "⌋",
    lceil: "⌈", rceil: "⌉", langle: "⟨", rangle: "⟩", vert: "|", Vert: "‖", lvert: "|",
    rvert: "|", lVert: "‖", rVert: "‖", ll: "≪", gg: "≫", because: "∵", therefore: "∴",
    quad: "\u2003", qquad: "\u2003\u2003", ",": "\u2009", ":": "\u2005", ";": "\u2005",
    " ": " ", "!": "", "{": "{", "}": "}", "%": "%", $: "$", "&": "&", "#": "#", _: "_",
    "|": "‖", backslash: "\\", colon: ":", square: "□", checkmark: "✓",
  };
  // Binary operators and relations: drawn with space around them.
  const OPS = new Set(["cdot", "times", "div", "pm", "mp", "le", "leq", "ge", "geq", "ne", "neq",
    "approx", "equiv", "sim", "simeq", "cong", "propto", "to", "rightarrow", "leftarrow",
    "Rightarrow", "Leftarrow", "leftrightarrow", "Leftrightarrow", "implies", "iff", "mapsto", "in",
    "notin", "ni", "subset", "subseteq", "supset", "supseteq", "cup", "cap", "setminus", "land",
    "wedge", "lor", "vee", "oplus", "otimes", "circ", "ll", "gg", "mid", "perp", "parallel"]);
  const FUNCTIONS = new Set(["sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos",
    "arctan", "sinh", "cosh", "tanh", "log", "ln", "lg", "exp", "lim", "liminf", "limsup",
    "max", "min", "sup", "inf", "det", "gcd", "lcm", "deg", "dim", "ker", "arg", "Pr", "mod",
    "bmod", "Re", "Im"]);
  const BLACKBOARD = { R: "ℝ", N: "ℕ", Z: "ℤ", Q: "ℚ", C: "ℂ", P: "ℙ", E: "𝔼" };
  const ACCENTS = { hat: "\u0302", widehat: "\u0302", tilde: "\u0303", widetilde: "\u0303",
    vec: "\u20d7", dot: "\u0307", ddot: "\u0308", bar: "\u0304", acute: "\u0301", grave: "\u0300" };
  const IGNORED = new Set(["left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl",
    "Bigr", "displaystyle", "textstyle", "scriptstyle", "limits", "nolimits", "middle", "nonumber",
    "notag", "label"]);
  const TEXT_CMDS = new Set(["text", "textrm", "textnormal", "mbox", "hbox", "textup"]);
  const STYLE_CMDS = { mathrm: "rm", operatorname: "rm", textbf: "b", mathbf: "b", boldsymbol: "b",
    bm: "b", textit: "it", mathit: "it", emph: "it", mathsf: "rm", texttt: "tt", mathtt: "tt",
    mathcal: "it", mathscr: "it", mathfrak: "rm" };

  function tokenize(src) {
    const out = [];
    const re = /\\([a-zA-Z]+)\*?|\\(.)|(\s+)|([\s\S])/g;
    let m;
    while ((m = re.exec(src))) {
      if (m[1] !== undefined) out.push({ t: "cmd", v: m[1] });
      else if (m[2] !== undefined) out.push(m[2] === "\\" ? { t: "newline" } : { t: "cmd", v: m[2] });
      else if (m[3] !== undefined) out.push({ t: "space" });
      else out.push({ t: "ch", v: m[4] });
    }
    return out;
  }

  class TexParser {
    constructor(tokens) { this.toks = tokens; this.i = 0; }
    peek() { return this.toks[this.i]; }
    next() { return this.toks[this.i++]; }
    skipSpace() { while (this.peek() && this.peek().t === "space") this.i++; }

    // Tokens up to the matching close brace (the open brace already taken).
    groupTokens() {
      const out = []; let depth = 1;
      while (this.peek()) {
        const t = this.next();
        if (t.t === "ch" && t.v === "{") depth++;
        if (t.t === "ch" && t.v === "}" && --depth === 0) return out;
        out.push(t);
      }
      return out;
    }
    // One argument: a {group} or a single token, as tokens.
    argTokens() {
      this.skipSpace();
      const t = this.next();
      if (!t) return [];
      if (t.t === "ch" && t.v === "{") return this.groupTokens();
      return [t];
    }
    optionalArg() {
      this.skipSpace();
      const t = this.peek();
      if (!(t && t.t === "ch" && t.v === "[")) return null;
      this.next();
      const out = []; let depth = 0;
      while (this.peek()) {
        const u = this.next();
        if (u.t === "ch" && u.v === "{") depth++;
        if (u.t === "ch" && u.v === "}") depth--;
        if (u.t === "ch" && u.v === "]" && depth === 0) break;
        out.push(u);
      }
      return out;
    }
    rawText(tokens) {
      return tokens.map((t) => t.t === "cmd" ? (SYMBOLS[t.v] !== undefined ? SYMBOLS[t.v] : t.v)
        : t.t === "space" ? " " : t.t === "newline" ? " " : t.v).join("");
    }
    render() {
      let html = "";
      while (this.peek()) html += this.atom();
      return html;
    }
    atom() {
      const t = this.next();
      if (t.t === "space") return "";  // TeX ignores spaces in math; operators carry their own
      if (t.t === "newline") return "<br>";
      if (t.t === "ch") {
        if (t.v === "{") return sub(this.groupTokens());
        if (t.v === "}") return "";
        if (t.v === "^") return `<sup>${sub(this.argTokens())}</sup>`;
        if (t.v === "_") return `<sub>${sub(this.argTokens())}</sub>`;
        if (t.v === "~") return "\u00a0";
        if (t.v === "&") return "\u2003";
        if (t.v === "'") return "′";
        if (/[a-zA-Z]/.test(t.v)) return `<i>${t.v}</i>`;
        if (t.v === "-") return this.unary() ? "−" : '<span class="op">−</span>';
        if (t.v === "+") return this.unary() ? "+" : '<span class="op">+</span>';
        if ("=<>".includes(t.v)) return `<span class="op">${esc(t.v)}</span>`;
        if (t.v === "," || t.v === ";") return `${t.v}<span class="sp"> </span>`;
        return esc(t.v);
      }
      return this.command(t.v);
    }
    // A sign right after an operator, an opening bracket or nothing is unary: no spacing.
    unary() {
      for (let j = this.i - 2; j >= 0; j--) {
        const t = this.toks[j];
        if (t.t === "space") continue;
        if (t.t === "ch") return "([{=<>+-,^_&".includes(t.v);
        return t.t === "newline" || OPS.has(t.v) || t.v === "left";
      }
      return true;
    }
    command(name) {
      if (IGNORED.has(name)) {
        if (name === "left" || name === "right" || name === "middle") {
          this.skipSpace();
          const d = this.peek();
          if (d && d.t === "ch" && d.v === ".") { this.next(); return ""; }
        }
        if (name === "label") this.argTokens();
        return "";
      }
      if (name === "frac" || name === "dfrac" || name === "tfrac" || name === "cfrac") {
        const num = sub(this.argTokens()), den = sub(this.argTokens());
        return `<span class="frac"><span class="num">${num}</span><span class="den">${den}</span></span>`;
      }
      if (name === "binom" || name === "dbinom" || name === "tbinom") {
        const n = sub(this.argTokens()), k = sub(this.argTokens());
        return `(<span class="frac binom"><span class="num">${n}</span><span class="den">${k}</span></span>)`;
      }
      if (name === "sqrt") {
        const index = this.optionalArg();
        const body = sub(this.argTokens());
        const pre = index ? `<sup class="root-index">${sub(index)}</sup>` : "";
        return `<span class="sqrt">${pre}√<span class="rad">${body}</span></span>`;
      }
      if (name === "boxed" || name === "fbox" || name === "framebox") {
        return `<span class="boxed">${sub(this.argTokens())}</span>`;
      }
      if (name === "overline") {
        return `<span class="overline">${sub(this.argTokens())}</span>`;
      }
      if (name === "underline") return `<span class="underline">${sub(this.argTokens())}</span>`;
      if (ACCENTS[name]) {
        const arg = this.argTokens();
        const text = this.rawText(arg);
        if ([...text].length === 1) return `<i>${esc(text)}${ACCENTS[name]}</i>`;
        return `<span class="overline">${sub(arg)}</span>`;
      }
      if (TEXT_CMDS.has(name)) return `<span class="text">${esc(this.rawText(this.argTokens()))}</span>`;
      if (STYLE_CMDS[name]) return `<span class="${STYLE_CMDS[name]}">${sub(this.argTokens())}</span>`;
      if (name === "mathbb") {
        const text = this.rawText(this.argTokens());
        return esc([...text].map((c) => BLACKBOARD[c] || c).join(""));
      }
      if (name === "pmod") return ` (mod ${sub(this.argTokens())})`;
      if (name === "begin") return this.environment(this.rawText(this.argTokens()));
      if (name === "end") { this.argTokens(); return ""; }
      if (FUNCTIONS.has(name)) return `<span class="fn">${name === "bmod" ? "mod" : name}</span>`;
      if (/^(sum|prod|bigcup|bigcap)$/.test(name)) return this.limits(SYMBOLS[name]);
      if (SYMBOLS[name] !== undefined) {
        const cls = /^(int|oint)$/.test(name) ? "bigop" : OPS.has(name) ? "op" : "sym";
        return `<span class="${cls}">${esc(SYMBOLS[name])}</span>`;
      }
      return `<span class="unknown">\\${esc(name)}</span>`;  // unknown: keep it readable
    }
    // A sum or product with its limits stacked above and below it, as TeX draws them.
    limits(symbol) {
      let lo = "", hi = "";
      for (;;) {
        this.skipSpace();
        const t = this.peek();
        if (t && t.t === "cmd" && (t.v === "limits" || t.v === "nolimits")) { this.next(); continue; }
        if (!(t && t.t === "ch" && (t.v === "_" || t.v === "^"))) break;
        this.next();
        if (t.v === "_") lo = sub(this.argTokens()); else hi = sub(this.argTokens());
      }
      const op = `<span class="bigop">${esc(symbol)}</span>`;
      if (!lo && !hi) return op;
      return `<span class="lim"><span class="hi">${hi}</span>${op}<span class="lo">${lo}</span></span>`;
    }
    environment(name) {
      // Collect tokens up to the matching \end{name}, then lay the cells out in a grid.
      const body = []; let depth = 1;
      while (this.peek()) {
        const t = this.next();
        if (t.t === "cmd" && t.v === "begin") depth++;
        if (t.t === "cmd" && t.v === "end" && --depth === 0) { this.argTokens(); break; }
        body.push(t);
      }
      if (name === "array" && body.length && body[0].t === "ch" && body[0].v === "{") {
        let d = 0;  // drop the column spec {cc|c}
        while (body.length) { const t = body.shift(); if (t.v === "{") d++; if (t.v === "}" && --d === 0) break; }
      }
      const rows = [[[]]];
      for (const t of body) {
        if (t.t === "newline") rows.push([[]]);
        else if (t.t === "ch" && t.v === "&") rows[rows.length - 1].push([]);
        else { const row = rows[rows.length - 1]; row[row.length - 1].push(t); }
      }
      while (rows.length > 1 && rows[rows.length - 1].every((c) => c.every((t) => t.t === "space"))) rows.pop();
      const table = `<span class="env env-${esc(name.replace(/\W/g, ""))}">` + rows.map((r) =>
        `<span class="env-row">${r.map((c) => `<span class="env-cell">${sub(c)}</span>`).join("")}</span>`
      ).join("") + "</span>";
      const wrap = { pmatrix: ["(", ")"], bmatrix: ["[", "]"], Bmatrix: ["{", "}"], vmatrix: ["|", "|"],
        Vmatrix: ["‖", "‖"], cases: ["{", ""] }[name];
      return wrap ? `<span class="delim">${wrap[0]}</span>${table}<span class="delim">${wrap[1]}</span>` : table;
    }
  }

  function sub(tokens) { return new TexParser(tokens).render(); }

  function renderTex(src, display) {
    let inner;
    try { inner = sub(tokenize(src)); } catch (e) { inner = esc(src); }
    const cls = display ? "math display" : "math";
    return `<span class="${cls}" title="${esc(src)}">${inner}</span>`;
  }

  // ---- Markdown ---------------------------------------------------------------------------
  // Code and math are cut out first (replaced by placeholders) so nothing inside them is read
  // as Markdown, then put back after the block and inline passes.
  function renderMarkdown(src) {
    const stash = [];
    const keep = (html) => `\u0000${stash.push(html) - 1}\u0000`;
    let text = String(src).replace(/\r\n?/g, "\n");

    text = text.replace(/^([ \t]*)(```|~~~)([^\n]*)\n([\s\S]*?)(?:\n\1\2[ \t]*(?=\n|$)|$(?![\s\S]))/gm,
      (_, indent, fence, info, code) => "\n" + keep(
        `<pre class="code"${info.trim() ? ` data-lang="${esc(info.trim())}"` : ""}><code>${esc(code)}</code></pre>`) + "\n");
    text = text.replace(/`([^`\n]+)`/g, (_, code) => keep(`<code>${esc(code)}</code>`));
    text = text.replace(/\$\$([\s\S]+?)\$\$/g, (_, tex) => keep(renderTex(tex.trim(), true)));
    text = text.replace(/\\\[([\s\S]+?)\\\]/g, (_, tex) => keep(renderTex(tex.trim(), true)));
    text = text.replace(/\\\(([\s\S]+?)\\\)/g, (_, tex) => keep(renderTex(tex.trim(), false)));
    // $...$ as pandoc reads it: no space just inside the dollars, no digit right after, so
    // "costs $5 and $10" stays text.
    text = text.replace(/(^|[^\\$])\$(?=[^\s$])((?:\\\$|[^$\n])+?)(?<=[^\s\\])\$(?!\d)/g,
      (_, pre, tex) => pre + keep(renderTex(tex, false)));
    text = text.replace(/\\begin\{(equation|align|gather|multline)\*?\}([\s\S]*?)\\end\{\1\*?\}/g,
      (_, env, tex) => keep(renderTex(env === "align" ? `\\begin{aligned}${tex}\\end{aligned}` : tex, true)));

    const html = blocks(text.split("\n"));
    return html.replace(/\u0000(\d+)\u0000/g, (_, i) => stash[+i]);
  }

  function inline(s) {
    let h = esc(s);
    h = h.replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>");
    h = h.replace(/__(?=\S)([\s\S]*?\S)__/g, "<strong>$1</strong>");
    h = h.replace(/(^|[^*\w])\*(?=\S)([^*]*?\S)\*(?!\*)/g, "$1<em>$2</em>");
    h = h.replace(/(^|[^_\w])_(?=\S)([^_]*?\S)_(?![_\w])/g, "$1<em>$2</em>");
    h = h.replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>");
    h = h.replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g,
      '<a href="$2" target="_blank" rel="noopener noreferrer">$1</a>');
    h = h.replace(/ {2,}\n|\\\n/g, "<br>");
    return h;
  }

  const isTableSep = (l) => /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/.test(l);
  const cells = (l) => l.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
  const LIST = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;

  function blocks(lines) {
    const out = [];
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (!line.trim()) { i++; continue; }
      if (/^\u0000\d+\u0000$/.test(line.trim())) { out.push(line.trim()); i++; continue; }
      let m;
      if ((m = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
        const n = m[1].length;
        out.push(`<h${n}>${inline(m[2])}</h${n}>`); i++; continue;
      }
      if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { out.push("<hr>"); i++; continue; }
      if (/^\s*>/.test(line)) {
        const quoted = [];
        while (i < lines.length && /^\s*>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s*>\s?/, ""));
        out.push(`<blockquote>${blocks(quoted)}</blockquote>`); continue;
      }
      if (line.includes("|") && i + 1 < lines.length && isTableSep(lines[i + 1])) {
        const head = cells(line); i += 2;
        const body = [];
        while (i < lines.length && lines[i].includes("|") && lines[i].trim()) body.push(cells(lines[i++]));
        out.push("<table><thead><tr>" + head.map((c) => `<th>${inline(c)}</th>`).join("") +
          "</tr></thead><tbody>" + body.map((r) => "<tr>" + r.map((c) => `<td>${inline(c)}</td>`).join("") +
          "</tr>").join("") + "</tbody></table>");
        continue;
      }
      if ((m = LIST.exec(line))) {
        const ordered = /\d/.test(m[2]);
        const base = m[1].length;
        const items = [];
        while (i < lines.length) {
          const l = lines[i];
          const lm = LIST.exec(l);
          if (lm && lm[1].length <= base + 1 && /\d/.test(lm[2]) === ordered) {
            items.push([lm[3]]); i++;
          } else if (items.length && l.trim() && (/^\s{2,}/.test(l) ||
              (!LIST.exec(l) && !/^\s*(#|>)/.test(l) && (lines[i - 1] || "").trim()))) {
            items[items.length - 1].push(l.replace(/^\s{0,4}/, "")); i++;  // continuation line
          } else if (!l.trim() && i + 1 < lines.length && /^\s{2,}\S/.test(lines[i + 1])) {
            items[items.length - 1].push(""); i++;
          } else break;
        }
        const start = ordered ? parseInt(m[2], 10) : 1;
        const tag = ordered ? "ol" : "ul";
        out.push(`<${tag}${ordered && start !== 1 ? ` start="${start}"` : ""}>` + items.map((it) => {
          const inner = it.length > 1 ? blocks(it) : inline(it[0]);
          return `<li>${inner}</li>`;
        }).join("") + `</${tag}>`);
        continue;
      }
      const para = [];
      while (i < lines.length && lines[i].trim() && !/^(#{1,6}\s|\s*>|\s*```)/.test(lines[i]) &&
             !/^\u0000\d+\u0000$/.test(lines[i].trim()) && !(para.length && LIST.exec(lines[i])) &&
             !/^\s*([-*_])(\s*\1){2,}\s*$/.test(lines[i])) {
        para.push(lines[i++]);
      }
      if (!para.length) para.push(lines[i++]);
      out.push(`<p>${inline(para.join("\n"))}</p>`);
    }
    return out.join("\n");
  }

  // ---- prompts and completions: strings or chat message lists --------------------------------
  function contentText(content) {
    if (content == null) return "";
    if (typeof content === "string") return content;
    if (Array.isArray(content)) return content.map((p) => (p && typeof p === "object") ? (p.text || "") : String(p)).join("");
    return String(content);
  }

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
