#!/usr/bin/env python3
"""An artifact store that misbehaves on purpose, for zdd-release's URL
tests.  It listens on 127.0.0.1:PORT and serves the files of DIR; the
first path component of a request says how, the rest names the file:

  /files/NAME      200 with the file (Content-Length), 404 if none
  /flaky/NAME      500 for the first two requests of a path, then 200
  /down/NAME       503 always
  /gone/NAME       404 always
  /deny/NAME       403 always
  /hang/NAME       accepts, reads the request, never answers
  /redirect/NAME   302 to /files/NAME, the query kept
  /insecure/NAME   302 to http://127.0.0.1:PORT/files/NAME (for https)
  /slow/NAME       200, the body in 8 pieces a quarter second apart

Query strings are ignored; a request in absolute form, as a client
sends it to a proxy, is served as if this were the proxy.  --log FILE appends each request's line
("GET /files/app.tgz?token=... HTTP/1.1") and headers, so that a test can
see what reached the server, and that a secret did.  --tls CERT KEY
serves HTTPS.
"""
import argparse
import os
import socketserver
import ssl
import sys
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("dir")
ap.add_argument("--log")
ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
opt = ap.parse_args()

lock = threading.Lock()
seen = {}


class Handler(socketserver.StreamRequestHandler):
    def answer(self, status, body=b"", headers=()):
        reason = {200: "OK", 302: "Found", 403: "Forbidden",
                  404: "Not Found", 500: "Internal Server Error",
                  503: "Service Unavailable"}[status]
        head = "HTTP/1.1 %d %s\r\nContent-Length: %d\r\n" % (
            status, reason, len(body))
        for h in headers:
            head += h + "\r\n"
        self.wfile.write((head + "Connection: close\r\n\r\n").encode())
        self.wfile.write(body)

    def handle(self):
        line = self.rfile.readline().decode("latin-1").rstrip("\r\n")
        head = [line]
        while True:
            h = self.rfile.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            head.append(h.decode("latin-1").rstrip("\r\n"))
        if opt.log:
            with lock, open(opt.log, "a") as f:
                f.write("\n".join(head) + "\n")
        try:
            target = line.split(" ")[1]
        except IndexError:
            return
        # A proxy is asked for the absolute form: http://host/path.
        if "://" in target:
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        path, _, query = target.partition("?")
        parts = path.lstrip("/").split("/", 1)
        mode, name = parts[0], parts[1] if len(parts) > 1 else ""
        file = os.path.join(opt.dir, os.path.basename(name))
        with lock:
            seen[path] = seen.get(path, 0) + 1
            count = seen[path]
        if mode == "hang":
            time.sleep(3600)
            return
        if mode == "gone":
            return self.answer(404, b"no such object\n")
        if mode == "deny":
            return self.answer(403, b"request has expired\n")
        if mode == "down" or (mode == "flaky" and count <= 2):
            return self.answer(503 if mode == "down" else 500,
                               b"try again\n")
        if mode in ("redirect", "insecure"):
            base = "" if mode == "redirect" else \
                "http://127.0.0.1:%d" % opt.port
            loc = base + "/files/" + name + ("?" + query if query else "")
            return self.answer(302, b"", ["Location: " + loc])
        if not os.path.isfile(file):
            return self.answer(404, b"no such file\n")
        with open(file, "rb") as f:
            data = f.read()
        if mode == "slow":
            self.wfile.write(("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                              "Connection: close\r\n\r\n" % len(data))
                             .encode())
            step = max(1, len(data) // 8)
            for i in range(0, len(data), step):
                self.wfile.write(data[i:i + step])
                self.wfile.flush()
                time.sleep(0.25)
            return
        self.answer(200, data)


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up on a body (--max-bytes) is no error here.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError,
                                               ConnectionResetError)):
            super().handle_error(request, client_address)


srv = Server(("127.0.0.1", opt.port), Handler)
if opt.tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(opt.tls[0], opt.tls[1])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
sys.stdout.flush()
srv.serve_forever()
