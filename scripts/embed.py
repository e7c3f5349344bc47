#!/usr/bin/env python3
"""Embeds a text file in C as `const char NAME[]` (used for config/reel.ini).

The text is written as a byte-array initialiser rather than a string literal:
ISO C only promises string literals of 4,095 bytes (-Woverlength-strings),
and the commented default config is longer than that."""
import sys

name, src, dst = sys.argv[1:4]
data = open(src, "rb").read() + b"\0"
rows = []
for i in range(0, len(data), 16):
    rows.append("    " + ", ".join("'\\%03o'" % b for b in data[i:i + 16]) + ",")
with open(dst, "w") as out:
    out.write("/* Generated from %s by scripts/embed.py; do not edit. */\n" % src.split("/")[-1])
    out.write("extern const char %s[];\n" % name)
    out.write("const char %s[] = {\n%s\n};\n" % (name, "\n".join(rows)))
