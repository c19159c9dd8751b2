#!/usr/bin/env python3
# Turns a JavaScript file into a C header holding it as one string constant, so that the script
# is edited as JavaScript and built into anyroomd (no file to find at run time).
#   embed-js.py INPUT.js OUTPUT.h SYMBOL
import sys

src, out, symbol = sys.argv[1:4]
with open(src, encoding="utf-8") as f:
    text = f.read()
lines = []
for line in text.splitlines(keepends=True):
    esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    if any(ord(c) < 0x20 or ord(c) > 0x7e for c in esc):
        sys.exit(f"{src}: only printable ASCII, tabs and newlines can be embedded: {line!r}")
    lines.append(f'    "{esc}"')
with open(out, "w", encoding="ascii") as f:
    f.write(f"/* Generated from {src.rsplit('/', 1)[-1]} by embed-js.py: do not edit. */\n")
    f.write(f"static const char {symbol}[] =\n")
    f.write("\n".join(lines) if lines else '    ""')
    f.write(";\n")
