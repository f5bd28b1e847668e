#!/usr/bin/env python3
"""A small API with a hand-written CORS policy, in Python's standard library:
the kind of server `corslab check --api URL` tests from the outside.

    python3 examples/python/server.py 8080

It allows https://app.example.com (with credentials) to GET /users and to
PUT /users/<id> with a JSON body; any other origin gets no CORS headers.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ALLOWED = "https://app.example.com"


class API(BaseHTTPRequestHandler):
    def cors(self):
        origin = self.headers.get("Origin")
        if origin == ALLOWED:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Credentials", "true")
        self.send_header("Vary", "Origin")

    def do_OPTIONS(self):
        self.send_response(204)
        self.cors()
        if self.headers.get("Origin") == ALLOWED:
            self.send_header("Access-Control-Allow-Methods", "GET, PUT")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")
            self.send_header("Access-Control-Max-Age", "60")
        self.end_headers()

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.cors()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.split("?")[0] == "/users":
            self.answer(200, [{"name": "ada"}])
        else:
            self.answer(404, {"error": "not found"})

    def do_PUT(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path.split("?")[0].startswith("/users/"):
            self.answer(200, {"saved": True})
        else:
            self.answer(404, {"error": "not found"})

    def log_message(self, *args):
        pass  # quiet: corslab prints what matters


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    server = ThreadingHTTPServer(("127.0.0.1", port), API)
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
