#!/usr/bin/env python3
"""Embeds a text file in C as `const char NAME[]` (used for config/reel.ini)."""
import sys

name, src, dst = sys.argv[1:4]
data = open(src, "rb").read()
out_lines = []
for line in data.split(b"\n"):
    esc = []
    for b in line:
        ch = chr(b)
        if ch in '"\\':
            esc.append("\\" + ch)
        elif 32 <= b < 127 and ch != "?":
            esc.append(ch)
        else:
            esc.append("\\%03o" % b)
    out_lines.append('    "%s\\n"' % "".join(esc))
if data.endswith(b"\n"):
    out_lines.pop()
with open(dst, "w") as out:
    out.write("/* Generated from %s by scripts/embed.py; do not edit. */\n" % src.split("/")[-1])
    out.write("extern const char %s[];\n" % name)
    out.write("const char %s[] =\n%s;\n" % (name, "\n".join(out_lines)))
