// lab.js: the teaching lab's page. It builds the form from the field tables
// the lab API serves (harness.RequestFields and servers.PolicyFields: their
// keys, labels, kinds and help), turns the form into the share link's query
// (the same encoding the API origin's URL and expectations files derive from
// those tables), asks the lab API on this origin to run it in corslab's
// browser, and draws the answer. Everything about CORS (encoding the policy,
// which headers to show, why the browser blocked) is decided in Go; this file
// only binds the form and draws.
"use strict";

(function () {
  var $ = function (id) { return document.getElementById(id); };

  // shown counts the answers drawn (#results' data-shown), so a reader (or a
  // test) can tell a new answer from the previous one.
  var state = { presets: [], pageOrigin: "", prefix: "req.", request: [], policy: [], last: null, cache: {}, timer: null, shown: 0 };

  // The request fields the form shows first; the rest go under "More".
  var MAIN = { api: true, method: true, headers: true, body: true, credentials: true };

  // ---- the form, from the field tables ------------------------------------

  // policyFields lists the fields a policy form shows: the preflight's own
  // policy has no use for the fields sent on the actual answer only, and
  // sections (nested policies) have forms of their own.
  function policyFields(id) {
    return state.policy.filter(function (f) {
      return f.kind !== "section" && (id === "p-" || f.on !== "actual");
    });
  }

  // buildFields adds one form field per table row to container; ids are prefix + key.
  function buildFields(container, fields, prefix) {
    fields.forEach(function (f) {
      var id = prefix + f.key, div = document.createElement("div");
      div.className = "field" + (f.kind === "bool" ? " check" : "");
      div.setAttribute("data-key", f.key);
      var help = f.help ? '<p class="help" id="' + id + '-help">' + esc(f.help) + "</p>" : "";
      var described = f.help ? ' aria-describedby="' + id + '-help"' : "";
      if (f.kind === "bool") {
        div.innerHTML = '<label><input type="checkbox" id="' + id + '"' + described + "> " + esc(f.label) + "</label>" + help;
      } else if (f.kind === "choice") {
        div.innerHTML = '<label for="' + id + '">' + esc(f.label) + '</label><select id="' + id + '"' + described + ">" +
          f.choices.map(function (o) { return '<option value="' + esc(o) + '">' + esc(o || "(default)") + "</option>"; }).join("") + "</select>" + help;
      } else if (f.kind === "lines" || f.kind === "headers") {
        div.innerHTML = '<label for="' + id + '">' + esc(f.label) + '</label><textarea id="' + id + '" rows="1" spellcheck="false"' + described + "></textarea>" + help;
      } else {
        var type = f.kind === "int" ? ' type="number" inputmode="numeric"' : "";
        div.innerHTML = '<label for="' + id + '">' + esc(f.label) + '</label><input id="' + id + '"' + type + ' autocomplete="off" spellcheck="false"' + described + ">" + help;
      }
      container.appendChild(div);
    });
  }

  // write adds the values of fields (ids prefix + key) to q under keyPrefix + key, as the table's encoding writes them.
  function write(q, fields, prefix, keyPrefix) {
    fields.forEach(function (f) {
      var el = $(prefix + f.key), k = keyPrefix + f.key;
      switch (f.kind) {
        case "bool": if (el.checked) q.append(k, "1"); break;
        case "lines":
          el.value.split("\n").map(function (l) { return l.trim(); }).filter(function (l) { return l !== ""; })
            .forEach(function (l) { q.append(k, l === "(empty)" ? "" : l); });
          break;
        case "headers":
          el.value.split("\n").forEach(function (l) {
            if (!l.trim()) return;
            var i = l.indexOf(":");
            q.append(k, i < 0 ? l.trim() + ":" : l.slice(0, i).trim() + ":" + l.slice(i + 1).trim());
          });
          break;
        default: if (el.value !== "") q.append(k, el.value.trim());
      }
    });
  }

  // read fills fields (ids prefix + key) from q's keyPrefix + key values.
  function read(q, fields, prefix, keyPrefix) {
    fields.forEach(function (f) {
      var el = $(prefix + f.key), vs = q.getAll(keyPrefix + f.key);
      switch (f.kind) {
        case "bool": el.checked = vs.length > 0 && /^(1|true|yes|on)$/i.test(vs[0]); break;
        case "lines": el.value = vs.map(function (x) { return x === "" ? "(empty)" : x; }).join("\n"); break;
        case "headers": el.value = vs.map(function (h) { var i = h.indexOf(":"); return h.slice(0, i) + ": " + h.slice(i + 1).trim(); }).join("\n"); break;
        default: el.value = vs.length ? vs[0] : "";
      }
      if (el.tagName === "TEXTAREA") fit(el);
    });
  }

  // readForm returns the form as the share link's query string.
  function readForm() {
    var q = new URLSearchParams();
    write(q, state.request, "r-", state.prefix);
    write(q, policyFields("p-"), "p-", "");
    if ($("pre-own").checked) {
      var pre = new URLSearchParams();
      write(pre, policyFields("pp-"), "pp-", "preflight.");
      if (Array.from(pre.keys()).length === 0) q.append("preflight", "");
      pre.forEach(function (v, k) { q.append(k, v); });
    }
    return q.toString();
  }

  // fillForm shows the scenario of a share link's query string.
  function fillForm(query) {
    var q = new URLSearchParams(query);
    read(q, state.request, "r-", state.prefix);
    read(q, policyFields("p-"), "p-", "");
    var own = q.has("preflight") || Array.from(q.keys()).some(function (k) { return k.indexOf("preflight.") === 0; });
    $("pre-own").checked = own;
    read(q, policyFields("pp-"), "pp-", "preflight.");
    syncForm();
  }

  function syncForm() {
    $("preflight-fields").hidden = !$("pre-own").checked;
  }

  // fit grows a textarea with its content, so nothing hides behind a scrollbar.
  function fit(el) {
    el.rows = Math.max(1, Math.min(8, el.value.split("\n").length));
  }

  // ---- the lab API -------------------------------------------------------

  function api(path, body) {
    var init = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    return fetch("/lab/api/" + path, init).then(function (res) {
      return res.json().then(function (j) {
        if (!res.ok) throw new Error(j.error || res.status + " " + res.statusText);
        return j;
      });
    });
  }

  function busy(text) {
    $("results").setAttribute("data-state", "running");
    $("status").textContent = text;
    $("run").disabled = true;
    $("mine").disabled = true;
    $("repeat").disabled = true;
    document.querySelectorAll(".preset-list button").forEach(function (b) { b.disabled = true; });
  }

  function idle() {
    $("run").disabled = false;
    $("mine").disabled = false;
    $("repeat").disabled = !state.last;
    document.querySelectorAll(".preset-list button").forEach(function (b) { b.disabled = false; });
  }

  function failed(err) {
    $("results").setAttribute("data-state", "error");
    $("results").innerHTML = '<p class="error" role="alert">' + esc(err.message || String(err)) + "</p>";
    $("status").textContent = "The lab could not run that.";
    idle();
  }

  // runOne runs the form's request in every engine of the lab and shows
  // their verdicts side by side, with the diagram of the engine picked.
  function runOne(body, label) {
    busy(label);
    return api("run", body).then(function (cmp) {
      state.compare = cmp;
      state.last = pickedRun(cmp);
      show([state.last], null, cmp);
      share(state.last.query);
      idle();
    }, failed);
  }

  // pickedRun is the run of the engine picked (the first engine until one is).
  function pickedRun(cmp) {
    return cmp.runs.filter(function (r) { return r.engine === state.picked; })[0] || cmp.runs[0];
  }

  // tokensOf maps each engine of cmp to its run's token: a repeat reuses each engine's URL.
  function tokensOf(cmp) {
    var t = {};
    cmp.runs.forEach(function (r) { t[r.engine] = r.token; });
    return t;
  }

  // drawCompare is the side-by-side table: each engine's verdict, the common
  // reason and the engine's own words, and a button to draw its diagram.
  function drawCompare(cmp) {
    var sec = document.createElement("section");
    sec.className = "engines card";
    sec.id = "engines";
    sec.setAttribute("aria-label", "The same request in every engine");
    var rows = cmp.runs.map(function (r) {
      var picked = r.engine === state.last.engine;
      return '<tr data-engine="' + esc(r.engine) + '" data-reason="' + esc(r.reason) + '" data-allowed="' + (r.allowed ? "true" : "false") + '"' + (picked ? ' class="picked"' : "") + ">" +
        "<th scope=\"row\">" + esc(engineTitle(r.engine)) + "</th>" +
        '<td class="' + (r.allowed ? "ok" : "bad") + '">' + esc(r.verdict) + "</td>" +
        "<td>" + (r.reason ? "<code>" + esc(r.reason) + "</code>" : "") + "</td>" +
        "<td>" + esc(r.engineReason && r.engineReason !== r.reason ? r.engineReason : "") + "</td>" +
        '<td><button type="button" data-pick="' + esc(r.engine) + '"' + (picked ? ' aria-pressed="true"' : ' aria-pressed="false"') + ">Show diagram</button></td></tr>";
    }).join("");
    sec.innerHTML = "<h3>In every engine</h3>" +
      '<table class="engines-table"><thead><tr><th scope="col">Engine</th><th scope="col">Verdict</th><th scope="col">Reason</th><th scope="col">Its own words</th><th scope="col"></th></tr></thead><tbody>' +
      rows + "</tbody></table>" +
      (cmp.disagreements && cmp.disagreements.length ? '<ul class="warn disagree">' + cmp.disagreements.map(function (d) { return "<li>Engines disagree: " + esc(d) + "</li>"; }).join("") + "</ul>"
        : '<p class="cache live">Every engine did the same.</p>');
    sec.querySelectorAll("[data-pick]").forEach(function (b) {
      b.addEventListener("click", function () {
        state.picked = b.getAttribute("data-pick");
        state.last = pickedRun(cmp);
        show([state.last], null, cmp);
      });
    });
    return sec;
  }

  // runHere runs the scenario in corslab's browser and, from this page, in
  // the visitor's own browser, then compares the two. This browser cannot
  // tell a page why it blocked; the server's journal says what reached it.
  function runHere() {
    var query = readForm(), before = state.last;
    return runOne({ query: query }, "Running in corslab's browser, then in this browser…").then(function () {
      if (!state.last || state.last === before) return;
      var chrome = state.last;
      busy("Running the same request from this page in your browser…");
      return api("plan", { query: query }).then(function (plan) {
        return corslab.run(JSON.parse(JSON.stringify(plan.description))).then(function (view) {
          return api("journal?token=" + encodeURIComponent(plan.token)).then(function (journal) {
            $("results").appendChild(drawHere(view, journal, chrome));
            $("results").setAttribute("data-shown", String(++state.shown));
            $("results").setAttribute("data-state", "done");
            $("status").textContent = "Done: compared with your browser.";
            idle();
          });
        });
      }).catch(failed);
    });
  }

  function drawHere(view, journal, chrome) {
    var art = document.createElement("article");
    art.className = "run here";
    art.id = "here";
    var chromePre = chrome.preflighted ? 1 : 0;
    var same = view.event === chrome.page.event && view.status === chrome.page.status && journal.preflights === chromePre;
    art.setAttribute("data-same", same ? "true" : "false");
    art.innerHTML = "<h3>The same request from this page, in your browser</h3>" +
      '<dl class="views"><dt>Your browser</dt><dd>' + esc(navigator.userAgent) + "</dd>" +
      "<dt>The page saw</dt><dd>" + esc(pageWords(view)) + "</dd>" +
      "<dt>The server received</dt><dd>" + esc(journal.lines.join(";  ") || "nothing") + "</dd></dl>" +
      '<p class="' + (same ? "cache live" : "warn") + '">' + (same
        ? "Your browser behaved as corslab's " + esc(engineTitle(chrome.engine)) + " did: the same callback, the same status, " + (chromePre ? "a preflight." : "no preflight.")
        : "Your browser behaved differently from corslab's " + esc(engineTitle(chrome.engine)) + " (" + esc(chrome.page.event) + ", status " + chrome.page.status + ", " +
          chromePre + " preflight): compare the server's lines above with the diagram.") + "</p>" +
      '<p class="help">A page cannot read why a browser refused a response (that is on purpose: ' +
      "it would leak what the other origin said). The reason in the verdict above comes from corslab's " + esc(engineTitle(chrome.engine)) + " over its own protocol.</p>";
    return art;
  }

  function runPreset(id) {
    var p = state.presets.filter(function (x) { return x.id === id; })[0];
    if (!p) return failed(new Error("no preset " + id));
    var sends = p.sends;
    fillForm(sends[sends.length - 1].query);
    mark(id);
    $("preset-say").textContent = p.say + Object.keys(p.deviations || {}).map(function (e) { return "  " + e + ": " + p.deviations[e]; }).join("");
    busy("Running " + p.id + " (" + sends.length + " request" + (sends.length > 1 ? "s" : "") + ") in a fresh browser context…");
    return api("step", { id: id }).then(function (step) {
      state.compare = null;
      state.last = step.runs[step.runs.length - 1];
      show(step.runs, step);
      share("preset=" + encodeURIComponent(id));
      idle();
    }, failed);
  }

  function mark(id) {
    document.querySelectorAll(".preset-list button").forEach(function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-preset") === id ? "true" : "false");
    });
  }

  function share(query) {
    history.replaceState(null, "", "/lab?" + query);
    $("share").value = location.href;
  }

  // ---- drawing -----------------------------------------------------------

  var LANES = { page: 0, browser: 1, server: 2 };

  function show(runs, step, cmp) {
    var out = $("results");
    out.innerHTML = "";
    if (cmp && cmp.runs.length > 1) out.appendChild(drawCompare(cmp));
    if (step) {
      var head = document.createElement("div");
      head.className = "step-check " + (step.asSaid ? "ok" : "bad");
      head.setAttribute("data-as-said", step.asSaid ? "true" : "false");
      head.innerHTML = "<strong>" + esc(step.id) + (step.asSaid ? " behaves as the article says" : " does NOT behave as the article says") +
        "</strong>" + (step.failures ? "<pre>" + esc(step.failures) + "</pre>" : "");
      out.appendChild(head);
    }
    runs.forEach(function (run, i) { out.appendChild(drawRun(run, i, runs.length)); });
    var last = runs[runs.length - 1];
    $("snippet").textContent = last.snippet;
    $("server-headers").textContent = last.responseHeaders;
    $("mermaid").textContent = "```mermaid\n" + last.mermaid + "```\n";
    $("take").hidden = false;
    out.setAttribute("data-shown", String(++state.shown));
    out.setAttribute("data-state", "done");
    $("status").textContent = runs.length === 1 ? "Done: " + last.verdict : "Done: " + runs.length + " requests. Last: " + last.verdict;
    tick();
  }

  function drawRun(run, i, n) {
    var art = document.createElement("article");
    art.className = "run";
    art.setAttribute("data-reason", run.reason);
    art.setAttribute("data-engine", run.engine);
    art.setAttribute("data-allowed", run.allowed ? "true" : "false");
    art.setAttribute("data-token", run.token);
    var title = (n > 1 ? "Request " + (i + 1) + " of " + n + ": " : "") + run.method + " with " +
      (run.api === "fetch" ? "fetch" : "createCORSRequest") + (run.credentials ? ", credentials" : "");
    art.innerHTML = "<h3>" + esc(title) + "</h3>";

    // The sequence diagram: three lifelines, one arrow per exchange.
    var fig = document.createElement("figure");
    fig.className = "seq";
    fig.innerHTML = '<div class="lanes" aria-hidden="true"><span class="lane page">Page<small>' + esc(run.pageOrigin) +
      '</small></span><span class="lane browser">' + esc(engineTitle(run.engine)) + '</span><span class="lane server">API server<small>' + esc(origin(run.url)) + "</small></span></div>";
    var ol = document.createElement("ol");
    ol.className = "arrows";
    ol.setAttribute("aria-label", "Sequence of exchanges");
    run.arrows.forEach(function (a) {
      var li = document.createElement("li"), from = LANES[a.from], to = LANES[a.to];
      li.className = "arrow " + (from === to ? "note" : from < to ? "ltr" : "rtl") + " span-" + Math.min(from, to) + "-" + Math.max(from, to) + (a.bad ? " bad" : "");
      li.setAttribute("data-kind", a.kind);
      li.setAttribute("data-from", a.from);
      li.setAttribute("data-to", a.to);
      var who = from === to ? "" : '<span class="sr">' + a.from + " to " + a.to + ": </span>";
      li.innerHTML = '<span class="label">' + who + esc(a.label) + (a.bad ? ' <span class="x" aria-label="failed here">✗</span>' : "") + "</span>" +
        (a.headers && a.headers.length ? '<ul class="headers">' + a.headers.map(function (h) { return "<li>" + esc(h) + "</li>"; }).join("") + "</ul>" : "");
      ol.appendChild(li);
    });
    fig.appendChild(ol);
    var cap = document.createElement("figcaption");
    cap.className = "sr";
    cap.textContent = "Sequence diagram of the exchanges between the page, " + engineTitle(run.engine) + " and the API server.";
    fig.appendChild(cap);
    art.appendChild(fig);

    // The verdict.
    var v = document.createElement("div");
    v.className = "verdict " + (run.allowed ? "ok" : "bad");
    var head = run.allowed ? "✓ Allowed: the page can read the answer" : run.reason ? "✗ Blocked by CORS" : "✗ " + (run.verdict || run.page.event || "failed");
    v.innerHTML = '<p class="verdict-head">' + esc(head) + "</p>" +
      '<p class="reason">' + esc(run.words) + "</p>" +
      (run.reason ? '<p class="cors">Reason <code class="cors-error">' + esc(run.reason) + "</code>" +
        (run.failedParameter ? " (failed parameter <code>" + esc(run.failedParameter) + "</code>)" : "") +
        (run.engineReason && run.engineReason !== run.reason ? "; " + esc(engineTitle(run.engine)) + " says: <q>" + esc(run.engineReason) + "</q>" : "") + "</p>" : "") +
      (run.errorText && !run.reason ? '<p class="cors">Network error: <code>' + esc(run.errorText) + "</code></p>" : "");
    art.appendChild(v);

    // The cache countdown, for runs whose URL has a preflight-cache entry.
    if (run.preflighted && run.cacheSeconds > 0) {
      state.cache[run.token] = Date.now() + run.cacheSeconds * 1000;
    }
    if (run.preflighted || run.fromCache) {
      var c = document.createElement("p");
      c.className = "cache";
      c.setAttribute("data-token", run.token);
      c.setAttribute("data-from-cache", run.fromCache ? "true" : "false");
      art.appendChild(c);
    }

    // The three views in words.
    var dl = document.createElement("dl");
    dl.className = "views";
    var p = run.page, readable = Object.keys(p.headers || {}).map(function (k) { return k + ": " + p.headers[k]; });
    dl.innerHTML = "<dt>The page saw</dt><dd>" + esc(pageWords(p)) + (readable.length ? '<br><span class="muted">readable headers: ' + esc(readable.join(", ")) + "</span>" : "") + "</dd>" +
      "<dt>The server received</dt><dd>" + esc((run.server || []).join(";  ") || "nothing") + "</dd>" +
      "<dt>" + esc(engineTitle(run.engine)) + "</dt><dd>" + esc(run.verdict) + "</dd>";
    art.appendChild(dl);
    (run.disagreements || []).concat(run.notes || []).forEach(function (d) {
      var w = document.createElement("p");
      w.className = "warn";
      w.textContent = d;
      art.appendChild(w);
    });
    var t = document.createElement("details");
    t.innerHTML = "<summary>Transcript</summary><pre>" + esc(run.transcript) + "</pre>";
    art.appendChild(t);
    return art;
  }

  function pageWords(p) {
    if (p.event === "unsupported") return "createCORSRequest returned null";
    var s = p.transport === "fetch" ? (p.event === "load" ? "fetch resolved" : "fetch rejected (" + p.event + ")") : "on" + p.event;
    s += ", status " + p.status + ", text " + JSON.stringify(p.responseText || "");
    if (p.error) s += ", error " + JSON.stringify(p.error);
    return s;
  }

  // tick updates every cache countdown once a second while one runs.
  function tick() {
    clearTimeout(state.timer);
    var any = false;
    document.querySelectorAll("p.cache").forEach(function (el) {
      var until = state.cache[el.getAttribute("data-token")], left = until ? (until - Date.now()) / 1000 : 0;
      var hit = el.getAttribute("data-from-cache") === "true" ? "Answered from the preflight cache: no OPTIONS went out. " : "";
      if (left > 0) {
        any = true;
        el.classList.add("live");
        el.textContent = hit + "Preflight cache entry for this URL expires in " + clock(left) + ". Repeat before then: no OPTIONS will go out.";
      } else {
        el.classList.remove("live");
        el.textContent = hit + (until ? "The preflight cache entry for this URL has expired: a repeat preflights again." : "This preflight answer is not cached (Max-Age 0 or a failed preflight).");
      }
    });
    if (any) state.timer = setTimeout(tick, 1000);
  }

  function clock(s) {
    s = Math.ceil(s);
    if (s < 60) return s + " s";
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
    return (h ? h + " h " : "") + m + " min " + r + " s";
  }

  function origin(u) { try { return new URL(u).origin; } catch (e) { return ""; } }

  function engineTitle(e) { return { chromium: "Chromium", firefox: "Firefox", webkit: "WebKit" }[e] || e || "the browser"; }

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; });
  }

  // ---- wiring ------------------------------------------------------------

  function copy(id) {
    var el = $(id), text = el.value !== undefined && el.tagName === "INPUT" ? el.value : el.textContent;
    var done = function () { $("status").textContent = "Copied."; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { select(el); });
    } else {
      select(el);
    }
  }

  function select(el) {
    if (el.select) { el.select(); return; }
    var r = document.createRange();
    r.selectNodeContents(el);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
    $("status").textContent = "Selected: press Ctrl+C to copy.";
  }

  function start() {
    $("scenario").addEventListener("change", syncForm);
    $("scenario").addEventListener("input", function (e) { if (e.target.tagName === "TEXTAREA") fit(e.target); });
    $("scenario").addEventListener("submit", function (e) {
      e.preventDefault();
      mark("");
      $("preset-say").textContent = "";
      runOne({ query: readForm() }, "Running in corslab's browser…");
    });
    $("mine").addEventListener("click", function () {
      mark("");
      $("preset-say").textContent = "";
      runHere();
    });
    $("repeat").addEventListener("click", function () {
      if (!state.last) return;
      runOne({ query: state.last.query, tokens: state.compare ? tokensOf(state.compare) : {} }, "Repeating the same request (same URL in each engine)…");
    });
    document.querySelectorAll("[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () { copy(b.getAttribute("data-copy")); });
    });
    api("presets").then(function (list) {
      state.presets = list.presets;
      state.pageOrigin = list.pageOrigin;
      state.prefix = list.prefix;
      state.request = list.request;
      state.policy = list.policy;
      buildFields($("request-fields"), state.request.filter(function (f) { return MAIN[f.key]; }), "r-");
      buildFields($("request-more"), state.request.filter(function (f) { return !MAIN[f.key]; }), "r-");
      buildFields($("policy-fields"), policyFields("p-"), "p-");
      buildFields($("preflight-fields"), policyFields("pp-"), "pp-");
      $("origins").innerHTML = "Page origin <code>" + esc(list.pageOrigin) + "</code> → API origin <code>" + esc(list.apiOrigin) + "</code>";
      $("page-origin-tag").textContent = "from " + list.pageOrigin;
      $("api-origin-tag").textContent = "at " + list.apiOrigin;
      var ol = $("presets");
      list.presets.forEach(function (p) {
        var li = document.createElement("li"), b = document.createElement("button");
        b.type = "button";
        b.id = "preset-" + p.id;
        b.setAttribute("data-preset", p.id);
        b.setAttribute("aria-pressed", "false");
        b.innerHTML = '<span class="pid">' + esc(p.id) + "</span> " + esc(p.title);
        b.addEventListener("click", function () { runPreset(p.id); });
        li.appendChild(b);
        ol.appendChild(li);
      });
      var q = new URLSearchParams(location.search);
      if (q.get("preset")) return runPreset(q.get("preset"));
      if (location.search.length > 1) {
        busy("Restoring the shared scenario…");
        return api("run", { query: location.search }).then(function (cmp) {
          state.compare = cmp;
          state.last = pickedRun(cmp);
          fillForm(state.last.query);
          show([state.last], null, cmp);
          share(state.last.query);
          idle();
        }, failed);
      }
      fillForm(list.presets[0].sends[0].query);
    }, function (err) {
      $("origins").textContent = "The lab API is not available: " + err.message + ". Start the lab with: corslab demo --serve";
    });
  }

  start();
})();
