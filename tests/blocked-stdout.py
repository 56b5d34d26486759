"""Run a zdd-release whose stdout is a full pipe, and break the pipe at a
chosen moment: once the release exists under ROOT/releases and the tool
has let go of the deploy lock, either hold the lock ("lock") or point a
link at the release with zdd-link ("link"), then close the pipe's last
reader, so that the tool's print fails with EPIPE while that is true.

usage: blocked-stdout.py ROOT ID lock|link CMD...
Exits with CMD's exit status; CMD's stderr is passed on.  No timing: every
wait is for a state (the release, the lock), never for a while."""
import fcntl
import os
import subprocess
import sys
import time

root, rid, how = sys.argv[1:4]
cmd = sys.argv[4:]
fifo = os.path.join(os.environ.get("T", "/tmp"), "blocked-stdout.%d" % os.getpid())
os.mkfifo(fifo)
# Open as reader and writer, then fill the pipe: the tool's first write
# blocks until this end goes away.
rw = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
try:
    while True:
        os.write(rw, b"x" * 4096)
except BlockingIOError:
    pass
w = os.open(fifo, os.O_WRONLY)
os.unlink(fifo)
p = subprocess.Popen(cmd, stdout=w)
os.close(w)
while not os.path.isdir(os.path.join(root, "releases", rid)):
    if p.poll() is not None:
        sys.exit("blocked-stdout: the tool exited before it made releases/" + rid)
    time.sleep(0.01)
if how == "lock":
    # Blocks until the tool unlocks, just before it prints.
    lock = os.open(os.path.join(root, ".zdd", "lock"), os.O_RDWR)
    fcntl.flock(lock, fcntl.LOCK_EX)
else:
    subprocess.run(["zdd-link", "-q", "-r", root, "--lock-wait", "60", rid],
                   stdout=subprocess.DEVNULL, check=True)
os.close(rw)
sys.exit(p.wait())
