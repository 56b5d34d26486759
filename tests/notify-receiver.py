#!/usr/bin/env python3
"""A webhook receiver for tests/60-notify.t that answers like the chat
services zdd-notify talks to, and records every request it gets.

usage: notify-receiver.py PORT LOG

Each request is appended to LOG as one JSON line: monotonic time, method,
path (with query), headers, the body as text and, when it parses, as JSON.
The first path segment picks the answer, so one receiver plays every
service; the rest of the path is the "secret" and is ignored:

  /slack/...              200 "ok"
  /slack-err/WORD/...     Slack's status for WORD, body WORD
  /slack-200/WORD/...     200 with body WORD (not "ok")
  /r429/N/...             429 "Retry-After: 1" N times per path, then "ok"
  /r429date/N/...         the same with an HTTP date two seconds ahead
  /r429body/N/...         429 with Discord's JSON retry_after 0.3, no header
  /r429long/...           429 "Retry-After: 3600" for ever
  /e500/N/...             500 "rollup_error" N times per path, then "ok"
  /e503/N/...             503 with "Retry-After: 1" N times, then "ok"
  /drop/N/...             closes the connection unanswered N times, then "ok"
  /hang/...               reads the request and never answers
  /discord/...            204, or with ?wait=true 200 and the message; PATCH
                          .../messages/ID edits it (404 for an unknown id)
  /teams/...              202 with no body
  /gchat/...              200 with the message resource
  /hook/...               200 with no body
  /echo/...               400 echoing the request line, path and all
  /echoauth/...           401 echoing the Authorization header
  /nasty/...              400 with terminal escapes in the body
  /redirect/...           302 to /slack/...
  /api/chat.postMessage   Slack's Web API: {"ok":true,"channel","ts"} or
  /api/chat.update        {"ok":false,"error"} (bad token, channel, ts)
"""
import email.utils
import http.server
import json
import socketserver
import sys
import threading
import time

PORT = int(sys.argv[1])
LOG = sys.argv[2]
TOKEN = "xoxb-test-TOKENSECRET"
lock = threading.Lock()
counts = {}
messages = {}
next_id = [1]


def snowflake():
    """A Discord id for now: milliseconds since 2015 in the top bits."""
    next_id[0] += 1
    return str(((int(time.time() * 1000) - 1420070400000) << 22) + next_id[0])

SLACK_ERRORS = {
    "invalid_payload": 400, "no_text": 400, "action_prohibited": 403,
    "no_service": 404, "channel_not_found": 404, "no_team": 404,
    "channel_is_archived": 410, "rollup_error": 500,
}


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, body):
        text = body.decode("utf-8", "replace")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        entry = {
            "t": time.monotonic(), "method": self.command, "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": text, "json": parsed,
        }
        with lock:
            with open(LOG, "a") as f:
                f.write(json.dumps(entry) + "\n")
            counts[self.path] = counts.get(self.path, 0) + 1
            return counts[self.path]

    def answer(self, code, body=b"", ctype="text/plain", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        if body:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def jsonanswer(self, code, obj, headers=()):
        self.answer(code, json.dumps(obj), "application/json", headers)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        seen = self.record(body)
        path, _, query = self.path.partition("?")
        seg = path.strip("/").split("/")
        kind = seg[0]
        arg = seg[1] if len(seg) > 1 else ""
        if kind == "slack":
            self.answer(200, "ok")
        elif kind == "slack-err":
            self.answer(SLACK_ERRORS.get(arg, 400), arg)
        elif kind == "slack-200":
            self.answer(200, arg)
        elif kind in ("r429", "r429date", "r429body") and seen <= int(arg):
            if kind == "r429":
                self.answer(429, "rate_limited", headers=[("Retry-After", "1")])
            elif kind == "r429date":
                when = email.utils.formatdate(time.time() + 2, usegmt=True)
                self.answer(429, "rate_limited", headers=[("Retry-After", when)])
            else:
                self.jsonanswer(429, {"message": "You are being rate limited.",
                                      "retry_after": 0.3, "global": False})
        elif kind == "r429long":
            self.answer(429, "rate_limited", headers=[("Retry-After", "3600")])
        elif kind == "e500" and seen <= int(arg):
            self.answer(500, "rollup_error")
        elif kind == "e503" and seen <= int(arg):
            self.answer(503, "down for maintenance",
                        headers=[("Retry-After", "1")])
        elif kind == "drop" and seen <= int(arg):
            self.close_connection = True
            self.connection.shutdown(2)
        elif kind == "hang":
            time.sleep(120)
        elif kind == "discord":
            self.discord(seg, query, body)
        elif kind == "teams":
            self.answer(202)
        elif kind == "gchat":
            self.jsonanswer(200, {"name": "spaces/AAA/messages/BBB.CCC"})
        elif kind == "hook":
            self.answer(200)
        elif kind == "echo":
            self.answer(400, "bad request: POST " + self.path)
        elif kind == "echoauth":
            self.answer(401, "bad credentials: " +
                        self.headers.get("Authorization", "none"))
        elif kind == "nasty":
            self.answer(400, "\x1b[2J\x1b]0;pwned\x07evil\r\nsecond line\x9b31m")
        elif kind == "redirect":
            self.answer(302, headers=[("Location", "/slack/redirected")])
        elif kind == "api":
            self.slack_api(arg if len(seg) == 2 else seg[-1], body)
        else:
            self.answer(200, "ok")

    def discord(self, seg, query, body):
        try:
            msg = json.loads(body)
        except ValueError:
            self.jsonanswer(400, {"message": "Cannot send an empty message",
                                  "code": 50006})
            return
        if self.command == "PATCH":
            mid = seg[-1] if len(seg) > 2 and seg[-2] == "messages" else ""
            with lock:
                known = mid in messages
                if known:
                    messages[mid] = msg
            if not known:
                self.jsonanswer(404, {"message": "Unknown Message", "code": 10008})
            else:
                self.jsonanswer(200, dict(msg, id=mid, channel_id="42"))
            return
        with lock:
            mid = snowflake()
            messages[mid] = msg
        if "wait=true" in query.split("&"):
            self.jsonanswer(200, dict(msg, id=mid, channel_id="42"))
        else:
            self.answer(204)

    def slack_api(self, method, body):
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            self.jsonanswer(200, {"ok": False, "error": "invalid_auth"})
            return
        try:
            msg = json.loads(body)
        except ValueError:
            self.jsonanswer(200, {"ok": False, "error": "invalid_json"})
            return
        ch = msg.get("channel")
        if ch != "C024BE91L":
            self.jsonanswer(200, {"ok": False, "error": "channel_not_found"})
        elif method == "chat.postMessage":
            with lock:
                next_id[0] += 1
                ts = "%d.%06d" % (time.time(), next_id[0])
                messages[ts] = msg
            self.jsonanswer(200, {"ok": True, "channel": ch, "ts": ts,
                                  "message": {"text": msg.get("text")}})
        elif method == "chat.update":
            ts = msg.get("ts")
            with lock:
                known = ts in messages
            if known:
                self.jsonanswer(200, {"ok": True, "channel": ch, "ts": ts,
                                      "text": msg.get("text")})
            else:
                self.jsonanswer(200, {"ok": False, "error": "message_not_found"})
        else:
            self.jsonanswer(200, {"ok": False, "error": "unknown_method"})

    do_PATCH = do_POST
    do_PUT = do_POST


Server(("127.0.0.1", PORT), Handler).serve_forever()
