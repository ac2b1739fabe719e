#!/usr/bin/env bash
# Keeps FORMAT.md honest: runs the Python walk-through of §8 against a real
# export made by the ledger binary, then checks it catches a changed byte,
# and that its check against a kept checkpoint catches an export cut back to
# an earlier one, as `ledger verify --checkpoint` does.
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
"$ledger" export --db l.db --checkpoint > early.jsonl
"$ledger" checkpoint --db l.db --latest > early.checkpoint
"$ledger" append --db l.db --kind cert.issued --actor 'verifier "main"' \
  --payload '{"\ud83d\ude00":1,"\ue000":2,"serial":"01"}' >/dev/null
"$ledger" export --db l.db --checkpoint > export.jsonl
"$ledger" checkpoint --db l.db --latest > later.checkpoint

# The binary's verdicts the walk-through must agree with.
"$ledger" verify export.jsonl --key l.db.pub --checkpoint early.checkpoint >/dev/null
if "$ledger" verify early.jsonl --key l.db.pub --checkpoint later.checkpoint >/dev/null; then
  echo "ledger verify accepted an export cut back to an earlier checkpoint" >&2
  exit 1
fi

python3 - "$format_md" <<'PYTHON'
import re, shutil, sys
doc = open(sys.argv[1], encoding="utf-8").read()
# The first block reads export.jsonl, the second kept.checkpoint.
walk, kept_check = [compile(block, "FORMAT.md", "exec")
                    for block in re.findall(r"```python\n(.*?)```", doc, re.S)]
shutil.copy("export.jsonl", "honest.jsonl")

def walk_through(export, kept=None):
    shutil.copy(export, "export.jsonl")
    scope = {}
    exec(walk, scope)
    if kept:
        shutil.copy(kept, "kept.checkpoint")
        exec(kept_check, scope)
    return scope

assert len(walk_through("honest.jsonl", "early.checkpoint")["leaves"]) == 3
# An export cut back to an earlier checkpoint passes on its own...
walk_through("early.jsonl")
# ...and the checkpoint kept from later catches it, naming both sizes.
try:
    walk_through("early.jsonl", "later.checkpoint")
except AssertionError as error:
    assert "holds 2 entries but the checkpoint commits to 3" in str(error), error
else:
    raise SystemExit("the FORMAT.md walk-through missed an export cut back to an earlier checkpoint")

lines = open("honest.jsonl", encoding="utf-8").read().split("\n")
lines[1] = lines[1].replace("PCR 4", "PCR 5")
open("tampered.jsonl", "w", encoding="utf-8").write("\n".join(lines))
try:
    walk_through("tampered.jsonl")
except AssertionError as error:
    assert "line 2" in str(error), error
else:
    raise SystemExit("the FORMAT.md walk-through missed a changed byte")
print("FORMAT.md walk-through verifies a real export and catches tampering and a cut-back export")
PYTHON
