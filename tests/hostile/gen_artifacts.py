#!/usr/bin/env python3
"""gen_artifacts.py: writes the hostile Flux-artifact corpus into OUTDIR.

Every case is an artifact file under OUTDIR/files/ (a real tar.gz made with Python's
tarfile and gzip, or bytes crafted by hand where tarfile refuses) plus one line of
OUTDIR/cases.tsv:

    name  url-path  digest  subpath  expected-code  expected-message-regex

url-path is served by tests/hostile/artifact_server.py (/files/X, or a fault path such as
/404/X or /stall-body/X); digest is the artifact's real digest unless the case is about
the digest. The expected code is an ERR_* name without the prefix; the regex (POSIX ERE)
must match the error message. Every case must be refused.

    gen_artifacts.py OUTDIR
"""
import bz2
import gzip
import hashlib
import io
import lzma
import os
import random
import sys
import tarfile
import zipfile

OUT = sys.argv[1]
FILES = os.path.join(OUT, "files")
os.makedirs(FILES, exist_ok=True)
rows = []
MiB = 1 << 20
rnd = random.Random(20261122)


def digest(data, alg="sha256"):
    return f"{alg}:{hashlib.new(alg, data).hexdigest()}"


def case(name, data, code, regex, path=None, dig=None, sub=""):
    """Writes one artifact and its manifest line."""
    fname = name + ".tar.gz"
    with open(os.path.join(FILES, fname), "wb") as f:
        f.write(data)
    url = (path or "/files/{}").format(fname)
    rows.append((name, url, digest(data) if dig is None else dig(data), sub, code, regex))


def gz(raw):
    return gzip.compress(raw, mtime=0)


def tar(entries, fmt=tarfile.PAX_FORMAT, base=True, errors="surrogateescape"):
    """entries: (name, kind, payload, extra-attrs) — kind f/d/l/h/c/b/p or a raw typeflag.
    base: start with a harmless file, as a real artifact would. Returns raw tar bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8", errors=errors) as t:
        if base:
            add(t, "apps/ok.env", "f", b"OK=1\n")
        for e in entries:
            add(t, *e)
    return buf.getvalue()


def add(t, name, kind="f", payload=b"", attrs=None):
    ti = tarfile.TarInfo(name)
    ti.mtime = 0
    ti.mode = 0o755 if kind == "d" else 0o644
    types = {"f": tarfile.REGTYPE, "d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE,
             "h": tarfile.LNKTYPE, "c": tarfile.CHRTYPE, "b": tarfile.BLKTYPE,
             "p": tarfile.FIFOTYPE}
    ti.type = types.get(kind, kind.encode() if isinstance(kind, str) else kind)
    if kind in ("l", "h"):
        ti.linkname = payload
        payload = b""
    if kind in ("c", "b"):
        ti.devmajor, ti.devminor = 1, 3
    for k, v in (attrs or {}).items():
        setattr(ti, k, v)
    if ti.type == tarfile.REGTYPE:
        ti.size = len(payload)
        t.addfile(ti, io.BytesIO(payload))
    else:
        t.addfile(ti)


def targz(entries, **kw):
    return gz(tar(entries, **kw))


def stream(name, code, regex, entries, **kw):
    case(name, targz(entries, **kw), code, regex)


# ---- names ----
stream("abs_file", "INVAL", "/etc/passwd.*absolute", [("/etc/passwd", "f", b"x")])
stream("abs_dir", "INVAL", "absolute", [("/tmp/", "d")])
stream("abs_deep", "INVAL", "absolute", [("/var/lib/smc/secret.env", "f", b"x")])
stream("abs_double_slash", "INVAL", "absolute", [("//etc/x", "f", b"x")])
stream("dotdot_lead", "INVAL", r"evil\.env.*'\.\.'", [("../evil.env", "f", b"x")])
stream("dotdot_mid", "INVAL", "'\\.\\.'", [("apps/../../evil.env", "f", b"x")])
stream("dotdot_end_dir", "INVAL", "'\\.\\.'", [("apps/..", "d")])
stream("dotdot_only", "INVAL", "'\\.\\.'", [("..", "d")])
stream("dotdot_many", "INVAL", "'\\.\\.'", [("../../../../../../etc/cron.d/x", "f", b"x")])
stream("dotdot_dotslash", "INVAL", "'\\.\\.'", [("./../evil", "f", b"x")])
stream("dotdot_gnu_longname", "INVAL", "'\\.\\.'",
       [("a" * 120 + "/../../evil.env", "f", b"x")], fmt=tarfile.GNU_FORMAT)
stream("dotdot_pax_path", "INVAL", "'\\.\\.'", [("x" * 150 + "/../../../evil", "f", b"x")])
stream("abs_pax_path", "INVAL", "absolute", [("/" + "y" * 150 + "/evil", "f", b"x")])
stream("dotdot_hardlink_name", "INVAL", "'\\.\\.'", [("../h", "h", "apps/ok.env")])
stream("dotdot_symlink_name", "INVAL", "'\\.\\.'", [("../l", "l", "apps/ok.env")])
for i, raw in enumerate([b"bad\xff.env", b"\xc0\xaf.env", b"\xed\xa0\x80.env", b"d\xfe/f",
                         b"a\xe2\x82", b"\xf8\x88\x80\x80\x80"]):
    stream(f"nonutf8_{i}", "INVAL", "UTF-8",
           [(raw.decode("utf-8", "surrogateescape"), "f", b"x")], fmt=tarfile.GNU_FORMAT)
stream("nonutf8_symlink_target", "INVAL", "bad target",
       [("l", "l", b"t\xff".decode("utf-8", "surrogateescape"))], fmt=tarfile.GNU_FORMAT)

# ---- symlinks ----
stream("symlink_abs", "PERM", "leak.*outside the tree", [("apps/leak", "l", "/etc/passwd")])
stream("symlink_dotdot", "PERM", "outside the tree", [("apps/leak", "l", "../../etc/passwd")])
stream("symlink_deep_dotdot", "PERM", "outside the tree",
       [("a/b/c/leak", "l", "../../../../x")])
stream("symlink_root_parent", "PERM", "outside the tree", [("up", "l", "..")])
stream("symlink_chain_escape", "PERM", "outside the tree",
       [("a", "l", "b"), ("b", "l", "c"), ("c", "l", "../out")])
stream("symlink_via_dir_link", "PERM", "outside the tree",
       [("l", "l", "apps"), ("esc", "l", "l/../../etc")])
stream("symlink_loop", "INVAL", "too many levels", [("a", "l", "b"), ("b", "l", "a")])
stream("symlink_self", "INVAL", "too many levels", [("a", "l", "a")])
stream("symlink_dir_loop", "INVAL", "loop", [("apps/self", "l", "..")])
stream("symlink_dir_loop_deep", "INVAL", "loop", [("apps/x/y/back", "l", "../../..")])
stream("symlink_long_chain", "INVAL", "too many levels",
       [(f"c{i}", "l", f"c{i + 1}") for i in range(45)] + [("c45", "f", b"x")])
stream("symlink_dangling", "NOTFOUND", "does not exist", [("apps/gone", "l", "nothing")])
stream("symlink_empty_target", "INVAL", "bad target", [("apps/empty", "l", "")])
stream("symlink_target_too_long", "INVAL", "bad target", [("apps/long", "l", "a/" * 600)])
stream("symlink_through_file", "NOTFOUND", "not a directory",
       [("apps/l", "l", "ok.env/x")])
stream("symlink_write_through", "CONFLICT", "which is a symlink",
       [("apps/l", "l", "sub"), ("apps/l/evil.env", "f", b"x")])
stream("symlink_write_through_dir", "CONFLICT", "which is a symlink",
       [("l", "l", "."), ("l/x/", "d")])
stream("symlink_dup_over_file", "CONFLICT", "twice", [("apps/ok.env", "l", "x")])

# ---- hardlinks ----
stream("hardlink_abs", "PERM", "outside the archive", [("h", "h", "/etc/shadow")])
stream("hardlink_dotdot", "PERM", "outside the archive", [("h", "h", "../x")])
stream("hardlink_forward", "PERM", "not an earlier file",
       [("h", "h", "later"), ("later", "f", b"x")])
stream("hardlink_missing", "PERM", "not an earlier file", [("h", "h", "missing")])
stream("hardlink_chain", "PERM", "chained", [("h1", "h", "apps/ok.env"), ("h2", "h", "h1")])
stream("hardlink_to_symlink", "PERM", "a symlink",
       [("l", "l", "apps/ok.env"), ("h", "h", "l")])
stream("hardlink_to_dir", "PERM", "a directory", [("h", "h", "apps")])
stream("hardlink_self", "PERM", "not an earlier file", [("h", "h", "h")])
stream("hardlink_into_git", "PERM", "not an earlier file",
       [(".git/config", "f", b"x"), ("h", "h", ".git/config")])
stream("hardlink_dup_name", "CONFLICT", "twice", [("apps/ok.env", "h", "apps/ok.env")])

# ---- special files and mode bits ----
stream("chardev", "INVAL", "character device", [("dev/null", "c")])
stream("blockdev", "INVAL", "block device", [("dev/sda", "b")])
stream("fifo", "INVAL", "FIFO", [("apps/pipe", "p")])
stream("chardev_nested", "INVAL", "character device", [("a/b/c/tty", "c")])
stream("fifo_gnu", "INVAL", "FIFO", [("pipe", "p")], fmt=tarfile.GNU_FORMAT)
stream("setuid_file", "PERM", "setuid", [("bin/sh", "f", b"x", {"mode": 0o4755})])
stream("setgid_file", "PERM", "setgid", [("bin/x", "f", b"x", {"mode": 0o2755})])
stream("setgid_dir", "PERM", "setgid", [("d/", "d", b"", {"mode": 0o2775})])
stream("setuid_setgid", "PERM", "setuid", [("s", "f", b"x", {"mode": 0o6777})])
stream("setuid_ustar", "PERM", "setuid", [("s", "f", b"x", {"mode": 0o4700})],
       fmt=tarfile.USTAR_FORMAT)

# ---- duplicates ----
stream("dup_file", "CONFLICT", "twice", [("apps/ok.env", "f", b"EVIL=1\n")])
stream("dup_dotslash", "CONFLICT", "twice", [("./apps/ok.env", "f", b"EVIL=1\n")])
stream("dup_double_slash", "CONFLICT", "twice", [("apps//ok.env", "f", b"EVIL=1\n")])
stream("dup_dir_then_file", "CONFLICT", "twice", [("d/", "d"), ("d", "f", b"x")])
stream("dup_file_then_dir", "CONFLICT", "twice|which is a file", [("f", "f", b"x"), ("f/", "d")])
stream("dup_dir_twice", "CONFLICT", "twice", [("d/", "d"), ("./d/", "d")])
stream("file_below_file", "CONFLICT", "which is a file", [("apps/ok.env/x", "f", b"x")])

# ---- sizes and counts (the test runs with max_total 48 MiB, download cap 16 MiB) ----
def sparse_data(n):
    """Compresses about 45:1: 64 random bytes per 4 KiB."""
    out = bytearray(n)
    for off in range(0, n, 4096):
        out[off:off + 64] = rnd.randbytes(min(64, n - off))
    return bytes(out)


stream("file_over_8mib", "TOOBIG", "file larger than", [("big.bin", "f", sparse_data(9 * MiB))])
stream("total_over_cap", "TOOBIG", "tree larger than",
       [(f"part{i}.bin", "f", sparse_data(7 * MiB)) for i in range(8)])
stream("too_many_files", "TOOBIG", "more than 20000 files|expands more",
       [(f"f/{i}", "f", b"") for i in range(20001)])
stream("too_many_dirs", "TOOBIG", "too many directories|more than|expands more",
       [(f"d{i}/", "d") for i in range(20001)])
stream("too_deep_file", "TOOBIG", "deeper than 64", [("/".join(["d"] * 70) + "/f", "f", b"x")])
stream("too_deep_dirs", "TOOBIG", "deeper than 64", [("/".join(["d"] * 66) + "/", "d")])
stream("name_too_long", "TOOBIG", "longer than 1024", [("n" * 1100, "f", b"x")])
stream("component_path_too_long", "TOOBIG", "longer than 1024",
       [("/".join(["p" * 200] * 6), "f", b"x")])

# a header that declares a huge size, with little data behind it
raw = bytearray(tar([("huge.bin", "f", b"x" * 512)], fmt=tarfile.GNU_FORMAT))
hdr = raw.index(b"huge.bin") - 0
raw[hdr + 124:hdr + 136] = b"\x80" + (10 << 30).to_bytes(11, "big")  # base-256 size 10 GiB
chk = sum(raw[hdr:hdr + 148]) + 8 * 32 + sum(raw[hdr + 156:hdr + 512])
raw[hdr + 148:hdr + 156] = b"%06o\0 " % chk
case("declared_size_huge", gz(bytes(raw)), "TOOBIG", "file larger than")

# ---- gzip bombs (the ratio is checked while decompressing) ----
def zeros_tar(name, size):
    """A tar with one file of `size` zero bytes, streamed into gzip without holding it."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as g:
        ti = tarfile.TarInfo(name)
        ti.size = size
        g.write(ti.tobuf(format=tarfile.GNU_FORMAT))
        chunk = b"\0" * MiB
        left = size
        while left:
            n = min(left, len(chunk))
            g.write(chunk[:n])
            left -= n
        g.write(b"\0" * ((512 - size % 512) % 512) + b"\0" * 1024)
    return buf.getvalue()


case("bomb_one_file", zeros_tar("zeros.bin", 7 * MiB), "TOOBIG", "gzip bomb")
case("bomb_many_files", targz([(f"z{i}", "f", b"\0" * (6 * MiB)) for i in range(40)]),
     "TOOBIG", "gzip bomb")
case("bomb_declared_big", zeros_tar("zeros.bin", 64 * MiB), "TOOBIG", "file larger than")
case("bomb_pax_header", targz([("p", "f", b"x", {"pax_headers": {"comment": "A" * (64 * MiB)}})]),
     "TOOBIG|INVAL", "gzip bomb|damaged|too large|larger than")
case("bomb_gnu_longname", gz(tar([("L" * (8 * MiB), "f", b"x")], fmt=tarfile.GNU_FORMAT)),
     "TOOBIG|INVAL", "longer than|gzip bomb|damaged")

# ---- truncation and damage ----
good = targz([("apps/a.env", "f", b"A=1\n" * 200), ("apps/b.env", "f", b"B=2\n" * 200)])
good_tar = tar([("apps/a.env", "f", rnd.randbytes(3000)), ("apps/b.env", "f", b"B=2\n")])
case("truncated_half", good[: len(good) // 2], "INVAL", "truncated|damaged")
case("truncated_gzip_header", good[:10], "INVAL|UNSUPPORTED", "truncated|damaged|not a tar")
case("truncated_tar_in_file", gz(good_tar[:2000]), "INVAL", "truncated|damaged")
case("truncated_tar_header", gz(good_tar[:700]), "INVAL", "truncated|damaged")
case("truncated_deflate", good[:-20], "INVAL", "truncated|damaged")
bad_chk = bytearray(good_tar)
bad_chk[150] ^= 0x01  # the checksum field of the first header
case("tar_checksum_bad", gz(bytes(bad_chk)), "INVAL|UNSUPPORTED", "damaged|not a tar")
corrupt = bytearray(good)
for i in range(20, 60):
    corrupt[i] = rnd.randrange(256)
case("deflate_garbage", bytes(corrupt), "INVAL|UNSUPPORTED", "damaged|truncated|not a tar")

# ---- wrong compression ----
case("plain_tar", good_tar, "UNSUPPORTED", "not gzip")
case("bzip2_tar", bz2.compress(good_tar), "UNSUPPORTED", "not gzip")
case("xz_tar", lzma.compress(good_tar), "UNSUPPORTED", "not gzip")
case("double_gzip", gz(gz(good_tar)), "UNSUPPORTED", "not a tar|not a plain tar")
case("gzip_of_text", gz(b"just some text, not a tar archive\n" * 10), "UNSUPPORTED", "not a tar")
case("gzip_of_bzip2_tar", gz(bz2.compress(good_tar)), "UNSUPPORTED", "not a tar")
zbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, "w") as z:
    z.writestr("a.env", "A=1\n")
case("zip_file", zbuf.getvalue(), "UNSUPPORTED", "not gzip")
case("empty_file", b"", "UNSUPPORTED", "not gzip")
case("random_bytes", rnd.randbytes(4096), "UNSUPPORTED", "not gzip")

# ---- download faults ----
case("http_404_forever", good, "NOTFOUND", "garbage-collected by source-controller", "/404/{}")
case("http_stall_headers", good, "TIMEOUT", "timed out", "/stall-headers/{}")
case("http_stall_body", good, "TIMEOUT", "timed out", "/stall-body/{}")
case("http_trickle", good, "TIMEOUT", "timed out", "/trickle/{}")
case("http_endless_body", good, "TOOBIG", "larger than", "/endless/{}")
case("http_huge_length", good, "TOOBIG", "larger than", "/huge-length/{}")
case("http_short_body", good, "IO", "cannot download", "/short/{}")
case("http_500", good, "REMOTE", "HTTP 500", "/status/500/{}")
case("http_403", good, "REMOTE", "HTTP 403", "/status/403/{}")
case("http_redirect", good, "REMOTE", "HTTP 302", "/redirect/{}")
case("http_content_encoding", good, "CRYPTO", "digest mismatch", "/gzip-encoded/{}")

# ---- digests ----
case("digest_mismatch", good, "CRYPTO", "mismatch: expected sha256:0{64}, got sha256:[0-9a-f]{64}",
     dig=lambda d: "sha256:" + "0" * 64)
case("digest_sha384_mismatch", good, "CRYPTO", "mismatch: expected sha384",
     dig=lambda d: "sha384:" + "1" * 96)
case("digest_sha512_mismatch", good, "CRYPTO", "mismatch: expected sha512",
     dig=lambda d: digest(d[:-1], "sha512"))
case("digest_of_other_artifact", good, "CRYPTO", "mismatch", dig=lambda d: digest(good_tar))
case("digest_md5", good, "UNSUPPORTED", "not one of sha256",
     dig=lambda d: "md5:" + hashlib.md5(d).hexdigest())
case("digest_sha1", good, "UNSUPPORTED", "not one of sha256",
     dig=lambda d: "sha1:" + hashlib.sha1(d).hexdigest())
case("digest_short", good, "INVAL", "needs 64 hex digits", dig=lambda d: digest(d)[:-2])
case("digest_not_hex", good, "INVAL", "not hexadecimal", dig=lambda d: "sha256:" + "z" * 64)
case("digest_missing", good, "INVAL", "no digest", dig=lambda d: "")
case("digest_bare_hex", good, "INVAL", "algorithm", dig=lambda d: hashlib.sha256(d).hexdigest())

# ---- subpaths ----
case("subpath_escape_link", targz([("env", "l", "../..")]), "PERM", "outside the tree", sub="env")
case("subpath_is_file", good, "INVAL", "not a directory", sub="apps/a.env")
case("subpath_missing", good, "NOTFOUND", "not found", sub="nothing/here")
case("subpath_dotdot", good, "INVAL", "'\\.\\.'", sub="apps/../..")

with open(os.path.join(OUT, "cases.tsv"), "w") as f:
    for r in rows:
        assert all("\t" not in x and "\n" not in x for x in r), r
        f.write("\t".join(r) + "\n")
print(f"{len(rows)} cases in {OUT}")
