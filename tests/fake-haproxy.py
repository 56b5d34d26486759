# A HAProxy runtime API that refuses what a test asks it to, for the
# faults a real HAProxy will not produce on demand: tests/50-switch.t.
# It serves "show servers state BACKEND" for servers blue and green of
# backend app, and "set server app/NAME state S", logging every command
# to LOG.  Usage: fake-haproxy.py SOCKET LOG REFUSE
#   REFUSE is a comma-separated list of states it refuses to set
#   (e.g. "drain" or "drain,maint"); its refusals carry terminal control
#   bytes, as a hostile or broken peer's could.
import os
import socket
import sys

path, log, refuse = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
ports = {"blue": int(sys.argv[4]), "green": int(sys.argv[5])}
admin = {"blue": 0, "green": 1}
words = {"ready": 0, "drain": 8, "maint": 1}

try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
while True:
    c, _ = s.accept()
    cmd = b""
    while not cmd.endswith(b"\n"):
        b = c.recv(4096)
        if not b:
            break
        cmd += b
    cmd = cmd.decode().strip()
    with open(log, "a") as f:
        f.write(cmd + "\n")
    w = cmd.split()
    if cmd == "show servers state app":
        out = ("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state "
               "srv_admin_state srv_port\n")
        for i, n in enumerate(("blue", "green")):
            out += "3 app %d %s 127.0.0.1 2 %d %d\n" % (
                i + 1, n, admin[n], ports[n])
        out += "\n"
    elif len(w) == 5 and w[:2] == ["set", "server"] and w[3] == "state":
        name = w[2].split("/")[1]
        if w[4] in refuse:
            out = ("Refused.\x1b[2J\x1b[H\rzdd-switch: all good\x9b31m\n"
                   "\n")
        else:
            admin[name] = words[w[4]]
            out = "\n"
    else:
        out = "Unknown command.\n\n"
    c.sendall(out.encode("utf-8", "surrogateescape"))
    c.close()
