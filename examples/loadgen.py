# The load generator of `make demo` and bench/switch.sh: requests through
# the proxy the whole time a deploy runs, counted as a browser sees them.
#
# usage: loadgen.py URL OUT.json [CONNS] [SLOW] [SLOW_MS]
#
# CONNS threads each keep one HTTP/1.1 connection alive and send "GET /"
# one after another; SLOW threads each keep a "GET /slow?ms=SLOW_MS"
# (default 1500) in flight all the time, on a fresh connection each, so
# that some requests are always crossing a switch.  A request whose REUSED connection closed
# before any byte of a response is retried once on a new connection, as
# browsers and libcurl do (RFC 9110, section 9.2.2): those retries are
# counted and shown, never hidden.  A request fails when it gets no
# response after that, or a 5xx.  SIGTERM or SIGINT ends the run; the
# counts go to OUT.json.
import http.client
import json
import os
import signal
import sys
import threading
import time
from urllib.parse import urlparse

u = urlparse(sys.argv[1])
HOST, PORT = u.hostname, u.port or 80
OUT = sys.argv[2]
CONNS = int(sys.argv[3]) if len(sys.argv) > 3 else 8
SLOW = int(sys.argv[4]) if len(sys.argv) > 4 else 4
SLOW_MS = int(sys.argv[5]) if len(sys.argv) > 5 else 1500
lat = []

stop = threading.Event()
lock = threading.Lock()
c = {"requests": 0, "ok": 0, "failed": 0, "retried_resets": 0,
     "status_5xx": 0, "slow_requests": 0, "slow_failed": 0,
     "fresh_failures": 0, "versions": {}, "errors": {}}

# Errors that mean "the connection closed before any response".
CLOSED = (http.client.RemoteDisconnected, ConnectionResetError,
          BrokenPipeError, ConnectionAbortedError)


def count(key, n=1):
    with lock:
        c[key] += n


def seen(body):
    v = body.decode(errors="replace").strip().replace(" (slow)", "")
    with lock:
        c["versions"][v] = c["versions"].get(v, 0) + 1


def error(e):
    with lock:
        k = type(e).__name__
        c["errors"][k] = c["errors"].get(k, 0) + 1


def one(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    return r.status, r.read()


def steady():
    conn, used = None, 0
    while not stop.is_set():
        if conn is None:
            conn, used = http.client.HTTPConnection(HOST, PORT, timeout=10), 0
        count("requests")
        t0 = time.monotonic()
        try:
            try:
                st, body = one(conn, "/")
            except CLOSED as e:
                if used == 0:
                    raise
                # A reused connection closed under us: retry once.
                error(e)
                count("retried_resets")
                conn.close()
                conn, used = http.client.HTTPConnection(HOST, PORT,
                                                        timeout=10), 0
                st, body = one(conn, "/")
            used += 1
        except Exception as e:
            error(e)
            count("failed")
            if used == 0:
                count("fresh_failures")
            conn.close()
            conn = None
            continue
        lat.append(time.monotonic() - t0)
        if st >= 500:
            count("status_5xx")
            count("failed")
        else:
            count("ok")
            seen(body)


def slow():
    while not stop.is_set():
        conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
        count("requests")
        count("slow_requests")
        try:
            st, body = one(conn, "/slow?ms=%d" % SLOW_MS)
            if st >= 500:
                count("status_5xx")
                raise RuntimeError("status %d" % st)
            count("ok")
            seen(body)
        except Exception as e:
            error(e)
            count("failed")
            count("slow_failed")
        finally:
            conn.close()


def end(*_):
    stop.set()


signal.signal(signal.SIGTERM, end)
signal.signal(signal.SIGINT, end)
threads = [threading.Thread(target=steady) for _ in range(CONNS)]
threads += [threading.Thread(target=slow) for _ in range(SLOW)]
t0 = time.monotonic()
for t in threads:
    t.start()
while not stop.is_set():
    stop.wait(0.2)
for t in threads:
    t.join()
c["seconds"] = round(time.monotonic() - t0, 3)
lat.sort()
c["p99_ms"] = round(lat[int(len(lat) * 0.99)] * 1000, 2) if lat else 0
with open(OUT + ".tmp", "w") as f:
    json.dump(c, f)
os.rename(OUT + ".tmp", OUT)
