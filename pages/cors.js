// cors.js: the article's createCORSRequest and a runner that turns a request
// description into the page view: what JavaScript saw. corslab's harness calls
// corslab.run(description) and compares this view with what the browser did
// (CDP) and what the server received (its journal).
"use strict";

// createCORSRequest is the article's helper, as written there: XMLHttpRequest
// when it supports withCredentials (CORS), else IE's XDomainRequest, else null.
function createCORSRequest(method, url) {
  var xhr = new XMLHttpRequest();
  if ("withCredentials" in xhr) {
    // XHR for Chrome/Firefox/Opera/Safari.
    xhr.open(method, url, true);
  } else if (typeof XDomainRequest != "undefined") {
    // XDomainRequest for IE.
    xhr = new XDomainRequest();
    xhr.open(method, url);
  } else {
    // CORS not supported.
    xhr = null;
  }
  return xhr;
}

// corslabRunner makes the runner for a global object: the page's window, or
// a dedicated worker's self (its source is sent to the worker as it is).
function corslabRunner(global) {
  var RealXHR = global.XMLHttpRequest;

  // XDomainRequestShim behaves like IE8-9's XDomainRequest on top of a real
  // XMLHttpRequest: GET and POST only, no custom headers, no credentials,
  // text/plain bodies. The traffic it makes is real CORS traffic.
  function XDomainRequestShim() {
    this.timeout = 0;
    this.responseText = "";
    this.contentType = "";
    this.onload = this.onerror = this.ontimeout = this.onprogress = null;
    this._xhr = null;
  }
  XDomainRequestShim.prototype.open = function (method, url) {
    var m = String(method).toUpperCase();
    if (m !== "GET" && m !== "POST") {
      throw new Error("XDomainRequest: method " + method + " is not supported");
    }
    var self = this, xhr = new RealXHR();
    xhr.open(m, url, true);
    xhr.onload = function () {
      self.responseText = xhr.responseText;
      self.contentType = xhr.getResponseHeader("Content-Type") || "";
      // XDR reports every non-2xx answer as an error.
      var ok = xhr.status >= 200 && xhr.status < 300;
      var cb = ok ? self.onload : self.onerror;
      if (cb) cb.call(self);
    };
    xhr.onerror = function () { if (self.onerror) self.onerror.call(self); };
    xhr.ontimeout = function () { if (self.ontimeout) self.ontimeout.call(self); };
    xhr.onprogress = function () { if (self.onprogress) self.onprogress.call(self); };
    this._xhr = xhr;
  };
  XDomainRequestShim.prototype.send = function (body) {
    this._xhr.timeout = this.timeout;
    if (body != null) this._xhr.setRequestHeader("Content-Type", "text/plain");
    this._xhr.send(body == null ? null : String(body));
  };
  XDomainRequestShim.prototype.abort = function () { if (this._xhr) this._xhr.abort(); };

  // An XMLHttpRequest of before CORS: no withCredentials property.
  function LegacyXHR() {}

  // withEnvironment runs fn with the globals createCORSRequest looks at set as
  // env asks: "modern" (the browser's own), "legacy" (XHR without
  // withCredentials plus the XDomainRequest shim) or "none" (neither).
  function withEnvironment(env, fn) {
    if (!env || env === "modern") return fn();
    var savedXHR = global.XMLHttpRequest, hadXDR = "XDomainRequest" in global, savedXDR = global.XDomainRequest;
    global.XMLHttpRequest = LegacyXHR;
    if (env === "legacy") global.XDomainRequest = XDomainRequestShim;
    else delete global.XDomainRequest;
    try {
      return fn();
    } finally {
      global.XMLHttpRequest = savedXHR;
      if (hadXDR) global.XDomainRequest = savedXDR;
      else delete global.XDomainRequest;
    }
  }

  function parseHeaders(all) {
    var out = {};
    (all || "").trim().split(/[\r\n]+/).forEach(function (line) {
      var i = line.indexOf(":");
      if (i > 0) {
        var k = line.slice(0, i).trim().toLowerCase(), v = line.slice(i + 1).trim();
        out[k] = k in out ? out[k] + ", " + v : v;
      }
    });
    return out;
  }

  function view(extra) {
    var v = { event: "", status: 0, statusText: "", responseText: "", headers: {}, transport: "", error: "", ms: 0, responseType: "" };
    for (var k in extra) v[k] = extra[k];
    return v;
  }

  // runXHR performs d through createCORSRequest.
  function runXHR(d) {
    return new Promise(function (resolve) {
      var start = performance.now(), xhr;
      function done(event, extra) {
        var v = view({ event: event, ms: performance.now() - start });
        if (xhr && xhr instanceof RealXHR) {
          v.transport = "XMLHttpRequest";
          v.status = xhr.status;
          v.statusText = xhr.statusText;
          try { v.responseText = xhr.responseText; } catch (e) { v.responseText = ""; }
          v.headers = parseHeaders(xhr.getAllResponseHeaders());
        } else if (xhr) {
          v.transport = "XDomainRequest";
          v.responseText = xhr.responseText;
          if (xhr.contentType) v.headers = { "content-type": xhr.contentType };
        }
        for (var k in extra) v[k] = extra[k];
        resolve(v);
      }
      try {
        xhr = withEnvironment(d.environment, function () { return createCORSRequest(d.method, d.url); });
        if (xhr === null) return done("unsupported", { error: "createCORSRequest returned null: CORS not supported" });
        if (xhr instanceof RealXHR) {
          // open() with a user name and password (the article's helper does not take them).
          if (d.user != null) xhr.open(d.method, d.url, true, d.user, d.password);
          if (d.credentials) xhr.withCredentials = true;
          (d.headers || []).forEach(function (h) { xhr.setRequestHeader(h[0], h[1]); });
          if (d.uploadListener) xhr.upload.onprogress = function () {};
          xhr.onreadystatechange = function () {
            if (d.abort === "on-headers" && xhr.readyState === 2) xhr.abort();
          };
          xhr.onabort = function () { done("abort"); };
        }
        if (d.timeout) xhr.timeout = d.timeout;
        xhr.onload = function () { done("load"); };
        xhr.onerror = function () { done("error"); };
        xhr.ontimeout = function () { done("timeout"); };
        xhr.send(d.body == null ? null : d.body);
        if (d.abort === "after-send") {
          xhr.abort();
          if (!(xhr instanceof RealXHR)) done("abort");
        }
      } catch (e) {
        done("exception", { error: String(e && e.message || e) });
      }
    });
  }

  // runSyncXHR performs d with a synchronous XMLHttpRequest (open's async
  // false), which Chrome still allows in a window. send() returns when the
  // answer is in, or throws a NetworkError: that is the only "error" it has.
  function runSyncXHR(d) {
    var start = performance.now(), xhr = new RealXHR();
    var v = view({ transport: "XMLHttpRequest (sync)" });
    try {
      if (d.user != null) xhr.open(d.method, d.url, false, d.user, d.password);
      else xhr.open(d.method, d.url, false);
      if (d.credentials) xhr.withCredentials = true;
      (d.headers || []).forEach(function (h) { xhr.setRequestHeader(h[0], h[1]); });
      xhr.send(d.body == null ? null : d.body);
      v.event = "load";
      v.status = xhr.status;
      v.statusText = xhr.statusText;
      v.responseText = xhr.responseText;
      v.headers = parseHeaders(xhr.getAllResponseHeaders());
    } catch (e) {
      v.event = e && e.name === "NetworkError" ? "error" : "exception";
      v.error = String(e && e.name + ": " + e.message || e);
    }
    v.ms = performance.now() - start;
    return Promise.resolve(v);
  }

  // runFetch performs d through fetch().
  function runFetch(d) {
    var start = performance.now(), ctrl = new AbortController(), timedOut = false, timer = null;
    var init = { method: d.method, headers: d.headers || [], mode: d.mode || "cors", signal: ctrl.signal };
    if (d.credentials) init.credentials = "include";
    if (d.redirect) init.redirect = d.redirect;
    if (d.targetAddressSpace) init.targetAddressSpace = d.targetAddressSpace;
    if (d.referrerPolicy) init.referrerPolicy = d.referrerPolicy;
    if (d.body != null && d.method !== "GET" && d.method !== "HEAD") init.body = d.body;
    if (d.timeout) timer = setTimeout(function () { timedOut = true; ctrl.abort(); }, d.timeout);
    function finish(v) { if (timer) clearTimeout(timer); v.transport = "fetch"; v.ms = performance.now() - start; return v; }
    var p;
    try {
      p = fetch(d.url, init);
    } catch (e) {
      return Promise.resolve(finish(view({ event: "exception", error: String(e && e.message || e) })));
    }
    if (d.abort === "after-send") ctrl.abort();
    return p.then(function (res) {
      var headers = {};
      res.headers.forEach(function (v, k) { headers[k] = v; });
      return res.text().then(function (text) {
        return finish(view({ event: "load", status: res.status, statusText: res.statusText, responseText: text, headers: headers, responseType: res.type }));
      });
    }, function (e) {
      var ev = e && e.name === "AbortError" ? (timedOut ? "timeout" : "abort") : "error";
      return finish(view({ event: ev, error: String(e && e.message || e) }));
    });
  }

  // runInWorker performs d in a dedicated worker made from this file's own
  // functions: the worker's requests carry the page's origin.
  function runInWorker(d) {
    return new Promise(function (resolve) {
      var start = performance.now(), inner = {}, k;
      for (k in d) if (k !== "worker") inner[k] = d[k];
      var src = createCORSRequest.toString() + "\nvar corslab = (" + corslabRunner.toString() + ")(self);\n" +
        "onmessage = function (e) { corslab.run(e.data).then(function (v) { postMessage(v); }); };";
      var url = URL.createObjectURL(new Blob([src], { type: "text/javascript" })), w;
      function finish(v) {
        if (w) w.terminate();
        URL.revokeObjectURL(url);
        v.transport = (v.transport || "") + " in a worker";
        resolve(v);
      }
      try {
        w = new Worker(url);
      } catch (e) {
        return finish(view({ event: "exception", error: String(e && e.message || e), ms: performance.now() - start }));
      }
      w.onmessage = function (e) { finish(e.data); };
      w.onerror = function (e) { finish(view({ event: "exception", error: "the worker failed: " + (e.message || "error"), ms: performance.now() - start })); };
      w.postMessage(inner);
    });
  }

  // run performs one request description and resolves to the page view.
  function run(d) {
    if (d.worker) return runInWorker(d);
    if (d.api === "fetch") return runFetch(d);
    return d.sync ? runSyncXHR(d) : runXHR(d);
  }

  return { run: run, XDomainRequestShim: XDomainRequestShim, withEnvironment: withEnvironment };
}

var corslab = corslabRunner(window);
