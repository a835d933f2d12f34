/* personvern cookie banner: vanilla JavaScript, no dependencies (docs/banner.md).
   <script src="https://privacy.example.com/banner.js" data-lang="nb" defer></script> */
(function () {
  "use strict";
  var C = /*CONFIG*/null;
  var d = document, me = d.currentScript, W = window;
  if (!me || W.personvern) return;
  var base = me.src.replace(/\/banner\.js(\?.*)?$/, "");
  var NAME = me.getAttribute("data-cookie") || "pv_consent";
  var gpc = navigator.globalPrivacyControl === true;
  var lang = pick(), T = C.t[lang], state = read(), box = null, back = null, before = null;

  function pick() {
    var want = (me.getAttribute("data-lang") || d.documentElement.lang || "").toLowerCase();
    want = want.split("-")[0];
    if (want === "no" || want === "nn") want = "nb";
    return C.t[want] ? want : C.langs[0];
  }
  function read() {
    var parts = d.cookie.split("; ");
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].indexOf(NAME + "=") === 0) {
        try {
          var s = JSON.parse(decodeURIComponent(parts[i].slice(NAME.length + 1)));
          if (s && /^[0-9a-f]{32}$/.test(s.id) && s.c) return s;
        } catch (e) { /* a damaged cookie: ask again */ }
      }
    }
    return null;
  }
  function newId() {
    var a = new Uint8Array(16), out = "";
    crypto.getRandomValues(a);
    for (var i = 0; i < 16; i++) out += (a[i] + 256).toString(16).slice(1);
    return out;
  }
  function refusedByGpc(cat) { return gpc && C.gpc.indexOf(cat) >= 0; }
  function current() { return !!state && state.v === C.v; }
  function allowed(cat) {
    for (var i = 0; i < C.cats.length; i++) {
      if (C.cats[i].k === cat && C.cats[i].req) return true;
    }
    return current() && state.c[cat] === 1 && !refusedByGpc(cat);
  }
  /* Inert scripts become real ones, data-src becomes src, once their category is allowed. */
  function activate() {
    var marked = d.querySelectorAll("[data-category]");
    for (var i = 0; i < marked.length; i++) {
      var el = marked[i], cat = el.getAttribute("data-category");
      if (!allowed(cat)) continue;
      if (el.tagName === "SCRIPT" && el.type === "text/plain") {
        var s = d.createElement("script");
        for (var j = 0; j < el.attributes.length; j++) {
          var a = el.attributes[j];
          if (a.name !== "type") s.setAttribute(a.name, a.value);
        }
        if (el.getAttribute("data-type")) s.type = el.getAttribute("data-type");
        /* A page's CSP nonce is hidden from getAttribute; the property still holds it. */
        if (el.nonce) s.nonce = el.nonce;
        s.async = false;
        s.text = el.text;
        el.parentNode.replaceChild(s, el);
      } else if (el.hasAttribute("data-src")) {
        el.setAttribute("src", el.getAttribute("data-src"));
        el.removeAttribute("data-src");
      }
    }
  }
  function post(path, body) {
    return fetch(base + path, {
      method: "POST", mode: "cors", credentials: "omit", keepalive: true,
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    });
  }
  function el(tag, attrs, text) {
    var e = d.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text) e.textContent = text;
    return e;
  }
  function focusables() {
    return box.querySelectorAll("button,input:not([disabled]),summary,a[href]");
  }
  function choose(how) {
    var c = {}, answers = {};
    for (var i = 0; i < C.cats.length; i++) {
      var k = C.cats[i].k;
      if (C.cats[i].req) continue;
      var box_ = d.getElementById("pvb-c-" + k);
      var yes = how === "accept" ? true : how === "reject" ? false : box_.checked;
      if (refusedByGpc(k)) yes = false;
      c[k] = yes ? 1 : 0;
      answers[k] = yes;
    }
    state = { v: C.v, id: state ? state.id : newId(), c: c };
    d.cookie = NAME + "=" + encodeURIComponent(JSON.stringify(state)) +
      "; path=/; max-age=31536000; samesite=lax" + (location.protocol === "https:" ? "; secure" : "");
    post("/api/v1/banner/choices", {
      visitor_id: state.id, version: C.v, language: lang, choices: answers, gpc: gpc
    }).catch(function () { /* the cookie holds the choice; the next one is recorded */ });
    close();
    activate();
    W.dispatchEvent(new CustomEvent("personvern:consent", { detail: { categories: c } }));
    if (allowed("analytics") && me.hasAttribute("data-track")) track("page_view");
  }
  function close() {
    if (!box) return;
    d.removeEventListener("focusin", keepFocus, true);
    back.parentNode.removeChild(back);
    box = back = null;
    if (before && before.focus) before.focus();
  }
  function keepFocus(e) {
    if (box && !box.contains(e.target)) focusables()[0].focus();
  }
  function open() {
    if (box) return;
    before = d.activeElement;
    back = el("div", { "class": "pvb-back" });
    box = el("div", {
      id: "pvb", role: "dialog", "aria-modal": "true",
      "aria-labelledby": "pvb-t", "aria-describedby": "pvb-d"
    });
    box.appendChild(el("h2", { id: "pvb-t" }, T.title));
    var intro = el("p", { id: "pvb-d" }, T.intro + " ");
    if (C.policy) intro.appendChild(el("a", { href: C.policy }, T.policy));
    box.appendChild(intro);
    if (gpc) box.appendChild(el("p", { "class": "pvb-gpc", role: "note" }, T.gpc));
    var list = el("ul", {});
    for (var i = 0; i < C.cats.length; i++) {
      var cat = C.cats[i], t = T.c[cat.k], id = "pvb-c-" + cat.k, li = el("li", {});
      var input = el("input", { type: "checkbox", id: id, "aria-describedby": id + "-d" });
      if (cat.req || refusedByGpc(cat.k)) input.disabled = true;
      input.checked = cat.req || (!refusedByGpc(cat.k) && current() && state.c[cat.k] === 1);
      var label = el("label", { "for": id }, t.n);
      if (cat.req) label.appendChild(el("span", {}, " (" + T.always + ")"));
      li.appendChild(input);
      li.appendChild(label);
      var more = el("details", {});
      more.appendChild(el("summary", {}, T.more + ": " + t.n));
      more.appendChild(el("p", { id: id + "-d" }, t.d));
      var services = el("ul", {});
      for (var j = 0; j < t.s.length; j++) {
        var s = t.s[j];
        services.appendChild(el("li", {}, s[0] + " (" + s[1] + ", " + s[2] + "): " + s[3]));
      }
      more.appendChild(services);
      li.appendChild(more);
      list.appendChild(li);
    }
    box.appendChild(list);
    /* Equal buttons, equal size and weight: rejecting is as easy as accepting. */
    var row = el("div", { "class": "pvb-row" });
    ["reject", "save", "accept"].forEach(function (how) {
      var b = el("button", { type: "button", "data-pvb": how }, T[how]);
      b.addEventListener("click", function () { choose(how); });
      row.appendChild(b);
    });
    box.appendChild(row);
    box.addEventListener("keydown", function (e) {
      if (e.key === "Escape") {
        e.preventDefault();
        /* First visit: Escape is a refusal. Re-opened: it closes, the choice unchanged. */
        if (current()) close(); else choose("reject");
      } else if (e.key === "Tab") {
        var f = focusables(), first = f[0], last = f[f.length - 1];
        if (e.shiftKey && d.activeElement === first) { e.preventDefault(); last.focus(); }
        else if (!e.shiftKey && d.activeElement === last) { e.preventDefault(); first.focus(); }
      }
    });
    back.appendChild(box);
    d.body.appendChild(back);
    d.addEventListener("focusin", keepFocus, true);
    focusables()[0].focus();
  }
  function track(type, resource) {
    if (!allowed("analytics")) return;
    post("/api/v1/events", {
      visitor_id: state.id, type: type, url: location.href,
      referrer: d.referrer || null, resource: resource || null
    }).catch(function () {});
  }
  function style() {
    var css =
      ".pvb-back{position:fixed;inset:0;background:rgba(0,0,0,.45);z-index:2147483647;" +
      "display:flex;align-items:flex-end;justify-content:center}" +
      "#pvb{background:#fff;color:#1a1a1a;font:16px/1.45 system-ui,sans-serif;max-width:44em;" +
      "width:100%;max-height:90vh;overflow:auto;padding:1.25em;box-sizing:border-box;" +
      "border-radius:8px 8px 0 0}#pvb h2{font-size:1.25em;margin:0 0 .5em}" +
      "#pvb a{color:#0b4fa8}#pvb ul{padding-left:1.1em}#pvb>ul{list-style:none;padding:0}" +
      "#pvb>ul>li{margin:.5em 0}#pvb input{width:1.2em;height:1.2em;vertical-align:middle;" +
      "margin-right:.4em}#pvb details{margin:.2em 0 0 1.6em;font-size:.9em}" +
      ".pvb-gpc{background:#eef4fb;border-left:4px solid #0b4fa8;padding:.5em}" +
      ".pvb-row{display:flex;flex-wrap:wrap;gap:.5em;margin-top:1em}" +
      ".pvb-row button{flex:1 1 10em;font:inherit;font-weight:600;padding:.7em 1em;" +
      "border:2px solid #0b4fa8;border-radius:6px;background:#0b4fa8;color:#fff;cursor:pointer}" +
      "#pvb :focus-visible{outline:3px solid #c2410c;outline-offset:2px}";
    /* A constructed sheet is no inline style: pages whose CSP forbids those still get it. */
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      d.adoptedStyleSheets = d.adoptedStyleSheets.concat([sheet]);
    } catch (e) {
      d.head.appendChild(el("style", {}, css));
    }
  }
  function start() {
    style();
    activate();
    var choosable = C.cats.some(function (c) { return !c.req; });
    if (!current() && choosable) open();
    else if (allowed("analytics") && me.hasAttribute("data-track")) track("page_view");
  }
  d.addEventListener("click", function (e) {
    var t = e.target && e.target.closest && e.target.closest("[data-personvern-open]");
    if (t) { e.preventDefault(); open(); }
  });
  W.personvern = {
    open: open,
    allowed: allowed,
    track: track,
    visitorId: function () { return state ? state.id : null; }
  };
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", start);
  else start();
})();
