#!/usr/bin/env python3
"""Embeds a text file in C as `const char NAME[]` (used for config/reel.ini).

The text is emitted as a brace-enclosed list of byte values rather than one
string literal: ISO C only guarantees string literals of 4095 bytes, and
-Wpedantic -Werror turns a longer one into an error (-Woverlength-strings).
"""
import sys

name, src, dst = sys.argv[1:4]
data = open(src, "rb").read() + b"\0"
rows = []
for i in range(0, len(data), 12):
    rows.append("    " + " ".join("'\\x%02x'," % b for b in data[i:i + 12]))
with open(dst, "w") as out:
    out.write("/* Generated from %s by scripts/embed.py; do not edit. */\n" % src.split("/")[-1])
    out.write("extern const char %s[];\n" % name)
    out.write("const char %s[] = {\n%s\n};\n" % (name, "\n".join(rows)))
