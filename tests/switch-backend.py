# A backend for tests/50-switch.t: answers every request with its own name
# ("blue", "green" ...), keeps connections alive (HTTP/1.1), and on
# /slow?ms=N takes N milliseconds first, so that a request can be in
# flight across a switch.  With FAIL (a percentage), that share of the
# answers are 500s, as a broken new version's would be.
# Usage: switch-backend.py PORT|unix:PATH NAME [FAIL]
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        u = urlparse(self.path)
        if u.path == "/slow":
            ms = int(parse_qs(u.query).get("ms", ["500"])[0])
            time.sleep(ms / 1000)
        body = (NAME + "\n").encode()
        code = 200
        with LOCK:
            COUNT[0] += 1
            if FAIL and COUNT[0] * FAIL // 100 != (COUNT[0] - 1) * FAIL // 100:
                code = 500
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # a client that went away is no news here


class UnixServer(Server):
    address_family = socket.AF_UNIX

    def get_request(self):
        conn, _ = self.socket.accept()
        return conn, ("unix", 0)


NAME = sys.argv[2]
FAIL = int(sys.argv[3]) if len(sys.argv) > 3 else 0
COUNT = [0]
LOCK = threading.Lock()
if sys.argv[1].startswith("unix:"):
    path = sys.argv[1][5:]
    # Bound and listening under another name first: the socket appears
    # at PATH only once it accepts connections.
    srv = UnixServer(path + ".new", Handler)
    # nginx's workers run as another user, and connecting needs write.
    os.chmod(path + ".new", 0o666)
    os.rename(path + ".new", path)
    srv.serve_forever()
else:
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
