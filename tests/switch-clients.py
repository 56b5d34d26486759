# Many clients, each from its own loopback address 127.0.0.N, for the
# canary tests of tests/50-switch.t: each client asks URL twice on fresh
# connections, and the answers (the backend's name) are written to OUT,
# one line per client: "N FIRST SECOND".  Usage:
#   switch-clients.py PORT PATH NCLIENTS OUT
import http.client
import socket
import sys

port, path, n, out = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]


def ask(src):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                   source_address=(src, 0))
    try:
        c.request("GET", path, headers={"Connection": "close"})
        return c.getresponse().read().decode().strip() or "-"
    except (OSError, http.client.HTTPException):
        return "error"
    finally:
        c.close()


with open(out, "w") as f:
    for i in range(1, n + 1):
        src = "127.0.0.%d" % i
        f.write("%d %s %s\n" % (i, ask(src), ask(src)))
