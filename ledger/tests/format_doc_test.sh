#!/usr/bin/env bash
# Keeps FORMAT.md honest: runs the Python walk-through of §8 against a real
# export made by the ledger binary, then checks it catches a changed byte.
# Usage: format_doc_test.sh LEDGER_BINARY FORMAT.md
set -euo pipefail
ledger=$1
format_md=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

"$ledger" init --db l.db --origin doc.example/ledger >/dev/null
"$ledger" append --db l.db --kind node.enrolled --actor verifier \
  --payload '{"node_id":"ab12","hostname":"worker-1","labels":{"zone":"b","rack":7}}' >/dev/null
"$ledger" append --db l.db --kind attestation.failed --actor verifier \
  --payload '{"reasons":[{"code":"PCR_DIGEST_MISMATCH","detail":"PCR 4 \u00e9"}],"ratio":1.5e-7,"big":1e21,"n":-3}' >/dev/null
"$ledger" append --db l.db --kind cert.issued --actor 'verifier "main"' \
  --payload '{"\ud83d\ude00":1,"\ue000":2,"serial":"01"}' >/dev/null
"$ledger" export --db l.db --checkpoint > export.jsonl

python3 - "$format_md" <<'PYTHON'
import re, sys
doc = open(sys.argv[1], encoding="utf-8").read()
code = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
exec(compile(code, "FORMAT.md", "exec"))
assert len(leaves) == 3, leaves

lines = open("export.jsonl", encoding="utf-8").read().split("\n")
lines[1] = lines[1].replace("PCR 4", "PCR 5")
open("export.jsonl", "w", encoding="utf-8").write("\n".join(lines))
try:
    exec(compile(code, "FORMAT.md", "exec"))
except AssertionError as error:
    assert "line 2" in str(error), error
else:
    raise SystemExit("the FORMAT.md walk-through missed a changed byte")
print("FORMAT.md walk-through verifies a real export and catches tampering")
PYTHON
