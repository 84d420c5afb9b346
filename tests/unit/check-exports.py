#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks the dynamic symbol table of libxmppc.so: every defined symbol is a
public xmppc_ name (no xmppc__ internals, no dependency symbols leaking) and
carries the XMPPC_ version node from lib/libxmppc.map."""
import subprocess
import sys

lib = sys.argv[1]
out = subprocess.run(["nm", "-D", "--defined-only", "--with-symbol-versions", lib],
                     check=True, capture_output=True, text=True).stdout
bad, names = [], []
for line in out.splitlines():
    parts = line.split()
    if len(parts) < 3:
        continue
    kind, sym = parts[1], parts[2]
    if kind == "A":  # the version node itself, e.g. XMPPC_0.1
        continue
    name, _, version = sym.partition("@")
    version = version.lstrip("@")
    names.append(name)
    if not name.startswith("xmppc_") or name.startswith("xmppc__"):
        bad.append(f"unexpected export {sym}")
    elif not version.startswith("XMPPC_"):
        bad.append(f"unversioned export {sym}")
for required in ("xmppc_version", "xmppc_error_last", "xmppc_free",
                 "xmppc_set_allocator", "xmppc_set_log_cb", "xmppc_strerror"):
    if required not in names:
        bad.append(f"missing export {required}")
for b in bad:
    print(b)
print(f"{len(names)} exported symbols checked, {len(bad)} problems")
sys.exit(1 if bad else 0)
