// Package webkit is corslab's WebKit engine: WebKitGTK's MiniBrowser on an
// Xvfb display, driven through its remote Web Inspector (a WebSocket per
// page, each page command wrapped in Target.sendMessageToTarget). Import it
// for its side effect, or harness/engines for every engine; harness.Start
// with verdict.WebKit then launches it.
//
// What the harness gets, and where it comes from:
//   - A browser context is a MiniBrowser process (stock MiniBrowser gives
//     all its tabs one network session). The launch's MiniBrowser serves
//     the first NewContext; one a closed context gives back is cleared in
//     the background (reset.go) and serves a later NewContext without a
//     launch.
//   - Send is one Runtime.callFunctionOn on the page's corslab object; the
//     inspector's Network and Console events give the actual exchange and
//     WebKit's reason sentence, which reasons.go maps to the common reasons
//     (harness/verdict). The inspector shows no preflight: the preflight in
//     the BrowserView is the server's journal entry (PreflightFromJournal).
//   - The origins' host names and their one certificate reach MiniBrowser
//     through a private mount namespace (sandbox.go); every host that is not
//     on this machine meets a proxy that refuses it (guard.go).
//   - A page that runs as another origin (harness.Page.As) is answered by the
//     inspector's request interception (intercept.go).
//
// docs/decisions/2026-12-01-one-vocabulary-and-an-engine-seam.md describes
// the seam this package implements.
package webkit
