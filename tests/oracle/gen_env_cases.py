#!/usr/bin/env python3
"""Generates the differential corpus for the .env parser: tests/oracle/env-cases/gen-NNN.env.

Deterministic (fixed seed), so regenerating gives the same files. Each case mixes the line
shapes that kustomize's `envs:` generator treats specially: BOM, CRLF, inner CR, leading
Unicode white space, comments, blank lines, quotes, `export`, `=` inside values, lines
without `=`, empty keys, Unicode. A few cases are meant to be refused by both sides
(invalid UTF-8, a repeated key). Keys never contain NUL and lines stay far below 64 KiB:
those are smc's documented, deliberate refusals (see decryptor/parse_env.h).

usage: gen_env_cases.py [OUTDIR] [COUNT]
"""
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "env-cases")
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 220

SPACES = [" ", "\t", "  ", "\v", "\f", "\u00a0", "\u3000", "\u2003", "\u0085", "\u1680"]
KEY_PARTS = ["A", "KEY", "db_url", "my.env-name", "x", "Z9", "_u", "-d", ".hidden",
             "Caf\u00e9", "\u00fcber", "\u4e2d", "k y", "\"q\"", "'s'", "a/b", "$V", "1st",
             "emoji\U0001f600", "tab\tin", "\ufeffbom"]
VALUE_PARTS = ["", "1", "value", "\"quoted\"", "'single'", "a=b", "==", " lead", "trail ",
               "# not comment", "x#y", "\\n", "\\", "\u20ac", "\U0001f511", "tab\there",
               "$HOME", "${X}", "multi word value", "'", "\"", "`cmd`", "\r", "=", "\u3000"]


def key(rng, i):
    k = "".join(rng.choice(KEY_PARTS) for _ in range(rng.randint(1, 2)))
    return k + str(i)  # unique unless a repeat is wanted


def line(rng, i):
    r = rng.random()
    lead = "".join(rng.choice(SPACES) for _ in range(rng.randint(0, 2))) if rng.random() < 0.3 else ""
    if r < 0.08:
        return lead + "#" + rng.choice(["", " comment", " K=V", "\u00e9"])
    if r < 0.14:
        return lead  # blank or white space only
    if r < 0.18:
        return lead + "export " + key(rng, i) + "=" + rng.choice(VALUE_PARTS)
    if r < 0.24:
        return lead + key(rng, i)  # no '=': empty value
    if r < 0.27:
        return lead + "=" + rng.choice(VALUE_PARTS)  # empty key: skipped
    if r < 0.30:
        return lead + key(rng, i) + rng.choice([" ", "\t"]) + "=" + rng.choice([" ", ""]) + rng.choice(VALUE_PARTS)
    val = "".join(rng.choice(VALUE_PARTS) for _ in range(rng.randint(0, 3)))
    return lead + key(rng, i) + "=" + val


def case(rng, n):
    lines = [line(rng, i) for i in range(rng.randint(1, 12))]
    eol = rng.choice(["\n", "\n", "\r\n", "\r\r\n"])
    text = eol.join(lines)
    if rng.random() < 0.7:
        text += eol
    if rng.random() < 0.15:
        text = "\ufeff" + text
    data = text.encode("utf-8")
    r = rng.random()
    if r < 0.04:  # invalid UTF-8 somewhere: refused by both
        pos = rng.randint(0, len(data))
        data = data[:pos] + rng.choice([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82"]) + data[pos:]
    elif r < 0.08:  # a repeated key: refused by both
        data += b"DUP=1\nDUP=2\n"
    return data


def main():
    rng = random.Random(20240611)
    os.makedirs(OUT, exist_ok=True)
    for n in range(COUNT):
        with open(os.path.join(OUT, "gen-%03d.env" % n), "wb") as f:
            f.write(case(rng, n))


if __name__ == "__main__":
    main()
