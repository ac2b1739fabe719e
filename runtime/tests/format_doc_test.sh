#!/usr/bin/env bash
# Keeps runtime/FORMAT.md honest: runs its Python example, which recomputes
# the worked example's extend digests and replayed PCR and asserts they equal
# the hex printed on the page. Usage: runtime_format_doc_test.sh FORMAT.md
set -euo pipefail
python3 - "$1" <<'PYTHON'
import re, sys
doc = open(sys.argv[1], encoding="utf-8").read()
blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
assert blocks, "no python block in FORMAT.md"
for code in blocks:
    exec(compile(code, "FORMAT.md", "exec"), {})
print("FORMAT.md example: ok")
PYTHON
