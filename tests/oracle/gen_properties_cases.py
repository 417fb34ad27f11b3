#!/usr/bin/env python3
"""Generates the differential corpus for the .properties parser:
tests/oracle/properties-cases/gen-NNN.properties.

Deterministic (fixed seed). Cases mix what java.util.Properties.load treats specially:
separators (=, :, white space, and their combinations), escaped separators in keys,
escapes (\\t \\n \\r \\f \\uXXXX, \\x), malformed \\u escapes, odd and even runs of
backslashes at line ends (continuations), continuation lines with leading white space,
comments (# and !) including inside continuations, \\n / \\r / \\r\\n line ends, blank
lines, a BOM, Unicode text, repeated keys (last wins), a final backslash at EOF.

usage: gen_properties_cases.py [OUTDIR] [COUNT]
"""
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "properties-cases")
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 220

KEYS = ["a", "key", "server.port", "db.url", "x_y", "k\\=eq", "k\\:col", "sp\\ ace", "\\#hash",
        "\\!bang", "caf\u00e9", "\u4e2d", "\\u0041", "k\\\\", "emoji\U0001f600", "tab\\tk",
        "a.b.c", "\\ lead", "-dash", "k"]
SEPS = ["=", ":", " ", "\t", "\f", " = ", " : ", "  ", " =", ": ", "\t=\t", " :=", "==", "::",
        " = = ", ""]
VALS = ["", "v", "value with spaces", "  lead", "trail  ", "a=b", "a:b", "#notcomment",
        "!x", "\\t\\n\\r\\f", "\\u00e9\\u20AC", "\\uD83D\\uDE00", "\\x\\y\\z", "\\\\",
        "\u20ac", "\U0001f511", "C:\\\\path", "http://h:80/p?q=1", "\\", "\\\\\\", "=", ":",
        "\\u0041BC"]
BAD_VALS = ["\\u12", "\\uZZZZ", "\\u00G0", "\\u", "\\uD83D", "\\uDE00x"]
LEADS = ["", "", "", " ", "\t", "  \f"]
EOLS = ["\n", "\r\n", "\r"]


def logical(rng):
    r = rng.random()
    lead = rng.choice(LEADS)
    if r < 0.08:
        return lead + rng.choice(["#", "!"]) + rng.choice(["", " comment", " k=v", "\\", " \u00e9"])
    if r < 0.13:
        return lead
    val = "".join(rng.choice(VALS) for _ in range(rng.randint(0, 3)))
    if rng.random() < 0.03:
        val += rng.choice(BAD_VALS)
    line = lead + rng.choice(KEYS) + rng.choice(SEPS) + val
    if rng.random() < 0.25:  # continue on the next natural line(s)
        for _ in range(rng.randint(1, 2)):
            line += "\\" + rng.choice(EOLS) + rng.choice(["", "   ", "\t", " \f "]) + \
                rng.choice(["cont", "", "#c", "!c", "x=y", "\\u0041", "  z"])
    return line


def case(rng):
    eol = rng.choice(EOLS)
    parts = [logical(rng) for _ in range(rng.randint(1, 10))]
    text = ""
    for p in parts:
        text += p + (eol if rng.random() < 0.85 else rng.choice(EOLS))
    if rng.random() < 0.2:
        text = text.rstrip("\r\n")
    if rng.random() < 0.05:
        text += "\\"  # backslash at EOF
    if rng.random() < 0.08:
        text = "\ufeff" + text
    data = text.encode("utf-8")
    if rng.random() < 0.03:
        pos = rng.randint(0, len(data))
        data = data[:pos] + rng.choice([b"\xff", b"\xc3", b"\xed\xb0\x80"]) + data[pos:]
    return data


def main():
    rng = random.Random(20240612)
    os.makedirs(OUT, exist_ok=True)
    for n in range(COUNT):
        with open(os.path.join(OUT, "gen-%03d.properties" % n), "wb") as f:
            f.write(case(rng))


if __name__ == "__main__":
    main()
