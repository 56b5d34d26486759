# The application that tests/70..74 ship in their artifacts: a backend
# that runs from a release directory, as a real app would from current.
# usage: python3 RELEASE/app.py PORT [NAME]
#
#   /        "VERSION NAME" (VERSION is the release's VERSION file)
#   /health  200 {"status":"UP","version":...}, or 503 {"status":"DOWN"}
#            when the release's VERSION says "broken" or its .env (a
#            shared file) says HEALTH=fail
#
# It keeps connections alive (HTTP/1.1) as application servers do.
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))


def read(name):
    try:
        with open(os.path.join(HERE, name)) as f:
            return f.read()
    except OSError:
        return ""


VERSION = read("VERSION").strip() or "unknown"
ENV = dict(line.split("=", 1) for line in read(".env").splitlines()
           if "=" in line)
NAME = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("APP_NAME", "app")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, code, body, ctype):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/health"):
            if "broken" in VERSION or ENV.get("HEALTH", "").strip() == "fail":
                self.answer(503, json.dumps({"status": "DOWN"}),
                            "application/json")
            else:
                self.answer(200, json.dumps({"status": "UP",
                                             "version": VERSION}),
                            "application/json")
        else:
            self.answer(200, "%s %s\n" % (VERSION, NAME), "text/plain")

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass


Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
