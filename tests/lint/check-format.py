#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every C source and header in the tree is formatted with the committed
.clang-format (clang-format --dry-run --Werror lists what is not)."""
import pathlib
import shutil
import subprocess
import sys

top = pathlib.Path(sys.argv[1]).resolve()
clang_format = shutil.which("clang-format")
if not clang_format:
    print("clang-format not found (tools/test installs it)")
    sys.exit(1)
files = sorted(str(p) for d in ("lib", "include", "tests", "examples", "bench", "tools")
               if (top / d).is_dir()
               for p in (top / d).rglob("*") if p.suffix in (".c", ".h", ".cpp")
               and "build" not in p.relative_to(top).parts[0])
r = subprocess.run([clang_format, "--dry-run", "--Werror", *files], capture_output=True,
                   text=True)
print(r.stderr[-4000:], end="")
print(f"{len(files)} files checked, {'all formatted' if r.returncode == 0 else 'some not formatted'}")
sys.exit(1 if r.returncode else 0)
