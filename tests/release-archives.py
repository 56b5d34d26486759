#!/usr/bin/env python3
# Builds the hostile and broken archives that tests/30-release.t feeds to
# zdd-release, one per call: release-archives.py KIND OUT.  Each is made
# here, by Python's tarfile and zipfile or by hand (cpio), the way
# libarchive's own test_write_disk_secure*.c tests make theirs, so that
# no file of the repository holds an attack.
import io
import os
import stat
import sys
import tarfile
import zipfile


def tar(out, entries, fmt=tarfile.PAX_FORMAT):
    """entries: (name, type, data-or-linkname[, mode])"""
    with tarfile.open(out, "w", format=fmt) as t:
        for e in entries:
            name, kind, arg = e[0], e[1], e[2]
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            ti.mode = e[3] if len(e) > 3 else 0o644
            data = None
            if kind == "file":
                data = arg.encode() if isinstance(arg, str) else arg
                ti.size = len(data)
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = e[3] if len(e) > 3 else 0o755
            elif kind == "sym":
                ti.type = tarfile.SYMTYPE
                ti.linkname = arg
            elif kind == "hard":
                ti.type = tarfile.LNKTYPE
                ti.linkname = arg
            elif kind == "chr":
                ti.type = tarfile.CHRTYPE
                ti.devmajor, ti.devminor = 1, 3
            elif kind == "blk":
                ti.type = tarfile.BLKTYPE
                ti.devmajor, ti.devminor = 7, 0
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
            t.addfile(ti, io.BytesIO(data) if data is not None else None)


def newc(out, entries):
    """A cpio newc archive by hand: (name, mode, data)."""
    buf = bytearray()

    def pad(n):
        buf.extend(b"\0" * ((4 - n % 4) % 4))
    ino = 1
    for name, mode, data in entries + [("TRAILER!!!", 0, b"")]:
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            ino, mode, 0, 0, 1, 1700000000, len(data), 0, 0, 0, 0,
            len(nb), 0))
        buf.extend(hdr.encode())
        buf.extend(nb)
        pad(110 + len(nb))
        buf.extend(data)
        pad(len(data))
        ino += 1
    with open(out, "wb") as f:
        f.write(buf)


class Unseekable(io.RawIOBase):
    """A stream zipfile cannot seek back in: it then writes data
    descriptors, and the local headers declare sizes of zero."""

    def __init__(self, f):
        self.f = f

    def writable(self):
        return True

    def write(self, b):
        return self.f.write(b)


def zip_(out, entries, stream=False):
    f = open(out, "wb")
    z = zipfile.ZipFile(Unseekable(f) if stream else f, "w",
                        zipfile.ZIP_DEFLATED)
    for name, data in entries:
        zi = zipfile.ZipInfo(name, (2023, 11, 14, 22, 13, 20))
        zi.external_attr = 0o644 << 16
        zi.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(zi, data)
    z.close()
    f.close()


def main():
    kind, out = sys.argv[1], sys.argv[2]
    ok = ("ok.txt", "file", "fine\n")
    big = b"\0" * (4 << 20)
    cases = {
        "abs": lambda: tar(out, [ok, ("/tmp/zdd-abs-%d/pwned" % os.getppid(),
                                      "file", "x")]),
        "dotdot": lambda: tar(out, [ok, ("../sentinel/pwned", "file", "x")]),
        "dotdot-mid": lambda: tar(out, [ok, ("a/b/../../../sentinel/pwned",
                                             "file", "x")]),
        "through-file": lambda: tar(out, [("d", "dir", None),
                                          ("l", "sym", "d"),
                                          ("l/pwned", "file", "x")]),
        "through-dir": lambda: tar(out, [("d", "dir", None),
                                         ("l", "sym", "d"),
                                         ("l/sub", "dir", None)]),
        "through-escape": lambda: tar(out, [("l", "sym", "../sentinel"),
                                            ("l/pwned", "file", "x")]),
        "sym-abs": lambda: tar(out, [ok, ("etc", "sym", "/etc")]),
        "sym-rel": lambda: tar(out, [ok, ("a/b/evil", "sym",
                                          "../../../sentinel")]),
        "sym-chain": lambda: tar(out, [("d/e", "dir", None),
                                       ("d/e/up", "sym", "../.."),
                                       ("evil", "sym", "d/e/up/../sentinel")]),
        "sym-later": lambda: tar(out, [ok, ("a", "sym", "b/../x"),
                                       ("b", "sym", ".")]),
        "sym-loop": lambda: tar(out, [("a", "sym", "b/x"),
                                      ("b", "sym", "a/y"),
                                      ("c", "sym", "a/z")]),
        "hard-out": lambda: tar(out, [ok, ("h", "hard", "../sentinel/file")]),
        "hard-abs": lambda: tar(out, [ok, ("h", "hard", "/etc/passwd")]),
        "hard-missing": lambda: tar(out, [ok, ("h", "hard", "etc/passwd")]),
        "hard-sym": lambda: tar(out, [("s", "sym", "ok.txt"), ok,
                                      ("h", "hard", "s")]),
        "chr": lambda: tar(out, [ok, ("null", "chr", None)]),
        "blk": lambda: tar(out, [ok, ("loop0", "blk", None)]),
        "fifo": lambda: tar(out, [ok, ("pipe", "fifo", None)]),
        "sock": lambda: newc(out, [("ok.txt", 0o100644, b"fine\n"),
                                   ("sock", stat.S_IFSOCK | 0o755, b"")]),
        "cpio-fifo": lambda: newc(out, [("ok.txt", 0o100644, b"fine\n"),
                                        ("pipe", stat.S_IFIFO | 0o644, b"")]),
        "longname": lambda: tar(out, [ok, ("d/" * 2100 + "f", "file", "x")]),
        "longcomp": lambda: tar(out, [ok, ("n" * 300, "file", "x")]),
        "dup": lambda: tar(out, [ok, ("ok.txt", "file", "again\n")]),
        "sym-then-file": lambda: tar(out, [("x", "sym", "ok.txt"), ok,
                                           ("x", "file", "over\n")]),
        "bomb-gz": lambda: tar(out, [ok, ("zeros", "file", big)]),
        "bomb-zip": lambda: zip_(out, [("ok.txt", "fine\n"),
                                       ("zeros", big)], stream=True),
        "many": lambda: tar(out, [("f%03d" % i, "file", "x")
                                  for i in range(50)]),
        "zip-dotdot": lambda: zip_(out, [("ok.txt", "fine\n"),
                                         ("../sentinel/pwned", "x")]),
        "zip-abs": lambda: zip_(out, [("ok.txt", "fine\n"),
                                      ("/tmp/zdd-zipabs/pwned", "x")]),
        "jar-dotdot": lambda: zip_(out, [("META-INF/MANIFEST.MF",
                                          "Manifest-Version: 1.0\n"),
                                         ("com/App.class", "\xca\xfe"),
                                         ("META-INF/../../sentinel/pwned",
                                          "x")]),
        "modes": lambda: tar(out, [("suid", "file", "x", 0o4755),
                                   ("sgid", "file", "x", 0o2755),
                                   ("tmp", "dir", None, 0o1777),
                                   ("gdir", "dir", None, 0o2775)]),
        "ro-dir": lambda: tar(out, [("ro", "dir", None, 0o555),
                                    ("ro/f", "file", "in a read-only dir\n",
                                     0o444)]),
        "sym-ok": lambda: tar(out, [("d/e", "dir", None),
                                    ("d/e/f", "file", "deep\n"),
                                    ("d/up", "sym", ".."),
                                    ("to-f", "sym", "d/up/d/e/f"),
                                    ("dangling", "sym", "not/yet/there"),
                                    ("h", "hard", "d/e/f")]),
    }
    cases[kind]()


main()
