#!/usr/bin/env python3
"""A health endpoint that misbehaves on purpose, for zdd-health's tests
and benchmark.  It listens on 127.0.0.1:PORT and answers every request
according to MODE:

  up            200 {"status":"UP"}
  down          503 {"status":"DOWN"}
  flag FILE     503 {"status":"DOWN"} until FILE exists, then 200 UP
  after SEC     503 {"status":"DOWN"} for SEC seconds, then 200 UP
  spring        200, Spring Boot actuator shape, every component UP
  spring-dbdown 503, actuator shape, db DOWN
  text          200 text/plain "hello, not json"
  hang          accepts, reads nothing, never answers
  trickle       sends the status line one byte a second
  trickle-body  200 headers at once, then one body byte a second
  stall-body    200 headers announcing 100 bytes of body, then nothing
  huge          200 with a 2 MiB JSON body (Content-Length)
  endless       200 with an endless chunked body
  flap          200 UP and 503 DOWN in turn, starting with UP
  close         accepts and closes at once
  redirect      301 to /elsewhere
  file FILE     200 with FILE's bytes as the body, read at each request

--log FILE appends "METHOD PATH" and every request header, one a line,
so tests can see what reached the server.  --tls CERT KEY serves HTTPS.
"""
import argparse
import json
import os
import socket
import socketserver
import ssl
import sys
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("mode")
ap.add_argument("arg", nargs="?")
ap.add_argument("--log")
ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
opt = ap.parse_args()

started = time.monotonic()
lock = threading.Lock()
count = [0]

UP = json.dumps({"status": "UP"}).encode()
DOWN = json.dumps({"status": "DOWN"}).encode()
SPRING = json.dumps({
    "status": "UP",
    "components": {
        "db": {"status": "UP", "details": {"database": "PostgreSQL",
                                          "validationQuery": "isValid()"}},
        "diskSpace": {"status": "UP", "details": {"total": 1000,
                                                 "free": 500}},
        "ping": {"status": "UP"},
    },
    "groups": ["liveness", "readiness"],
}).encode()
SPRING_DOWN = json.dumps({
    "status": "DOWN",
    "components": {
        "db": {"status": "DOWN", "details": {"error": "timeout"}},
        "ping": {"status": "UP"},
    },
}).encode()


def healthy():
    if opt.mode == "flag":
        return os.path.exists(opt.arg)
    if opt.mode == "after":
        return time.monotonic() - started >= float(opt.arg)
    return True


class Handler(socketserver.StreamRequestHandler):
    def log_request(self):
        """Read the request head; log it when asked."""
        lines = []
        while True:
            line = self.rfile.readline(65536)
            if not line or line in (b"\r\n", b"\n"):
                break
            lines.append(line.decode("latin-1").rstrip("\r\n"))
        if opt.log and lines:
            with lock, open(opt.log, "a") as f:
                f.write("\n".join(lines) + "\n")
        return lines

    def send(self, status, body, ctype="application/json"):
        reason = {200: "OK", 503: "Service Unavailable"}.get(status, "X")
        self.wfile.write(b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                         % (status, reason.encode(), ctype.encode(),
                            len(body)) + body)

    def handle(self):
        mode = opt.mode
        if mode == "hang":
            time.sleep(3600)
            return
        if mode == "close":
            return
        if not self.log_request():
            return
        with lock:
            count[0] += 1
            n = count[0]
        try:
            if mode in ("up", "flag", "after"):
                if healthy():
                    self.send(200, UP)
                else:
                    self.send(503, DOWN)
            elif mode == "redirect":
                self.wfile.write(b"HTTP/1.1 301 Moved Permanently\r\n"
                                 b"Location: /elsewhere\r\n"
                                 b"Content-Length: 0\r\n\r\n")
            elif mode == "file":
                with open(opt.arg, "rb") as f:
                    self.send(200, f.read())
            elif mode == "down":
                self.send(503, DOWN)
            elif mode == "flap":
                self.send(200, UP) if n % 2 else self.send(503, DOWN)
            elif mode == "spring":
                self.send(200, SPRING,
                          "application/vnd.spring-boot.actuator.v3+json")
            elif mode == "spring-dbdown":
                self.send(503, SPRING_DOWN)
            elif mode == "text":
                self.send(200, b"hello, not json", "text/plain")
            elif mode == "trickle":
                for b in b"HTTP/1.1 200 OK\r\n\r\n":
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                    time.sleep(1)
            elif mode == "trickle-body":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100"
                                 b"\r\n\r\n")
                for _ in range(100):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(1)
            elif mode == "stall-body":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100"
                                 b"\r\n\r\n")
                self.wfile.flush()
                time.sleep(3600)
            elif mode == "huge":
                pad = b" " * (2 << 20)
                self.send(200, b'{"status":"UP","pad":"' + pad + b'"}')
            elif mode == "endless":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: "
                                 b"application/json\r\nTransfer-Encoding: "
                                 b"chunked\r\n\r\n")
                chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
                while True:
                    self.wfile.write(chunk)
            else:
                self.send(500, b"unknown mode")
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128

    def get_request(self):
        conn, addr = super().get_request()
        if opt.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(opt.tls[0], opt.tls[1])
            conn = ctx.wrap_socket(conn, server_side=True,
                                   do_handshake_on_connect=False)
        return conn, addr

    def handle_error(self, request, client_address):
        pass


srv = Server(("127.0.0.1", opt.port), Handler)
try:
    srv.serve_forever()
except KeyboardInterrupt:
    pass
sys.exit(0)
