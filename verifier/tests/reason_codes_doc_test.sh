#!/usr/bin/env bash
# Keeps docs/reason-codes.md honest against the code: the page's summary
# table and its per-code sections must name exactly the reason codes of
# reasons.cpp, mark exactly IsInformational()'s codes "informational", and
# mark "reserved" exactly the codes no verifier source outside reasons.cpp
# emits. Usage: reason_codes_doc_test.sh REASONS_H REASONS_CPP VERIFIER_DIR DOC
set -euo pipefail
python3 - "$@" <<'PYTHON'
import pathlib, re, sys

reasons_h, reasons_cpp, verifier_dir, doc_path = sys.argv[1:5]
header = pathlib.Path(reasons_h).read_text(encoding="utf-8")
source = pathlib.Path(reasons_cpp).read_text(encoding="utf-8")
doc = pathlib.Path(doc_path).read_text(encoding="utf-8")
failures = []

# The code's view: enumerators in declaration order, their names in kNames
# order (reasons.cpp static_asserts the two have the same length).
enum_body = re.search(r"enum class ReasonCode \{(.*?)\};", header, re.S)
assert enum_body, f"{reasons_h}: no 'enum class ReasonCode {{...}};'"
enumerators = re.findall(r"^\s*(k[A-Za-z0-9]+)\s*,", enum_body.group(1), re.M)
names_body = re.search(r"kNames = \{(.*?)\};", source, re.S)
assert names_body, f"{reasons_cpp}: no 'kNames = {{...}};'"
names = re.findall(r'"([A-Z][A-Z0-9_]*)"', names_body.group(1))
assert names, f"{reasons_cpp}: kNames lists no codes"
assert len(names) == len(enumerators), (
    f"{len(enumerators)} enumerators in reasons.h but {len(names)} names in reasons.cpp")
name_of = dict(zip(enumerators, names))

informational_body = re.search(r"bool IsInformational\(ReasonCode code\) \{(.*?)\n\}", source, re.S)
assert informational_body, f"{reasons_cpp}: no IsInformational definition"
informational = {name_of[e] for e in re.findall(r"ReasonCode::(k[A-Za-z0-9]+)",
                                                  informational_body.group(1))}
assert informational, "IsInformational names no code"

# A code is emitted when some verifier source (tests, test support and
# fuzzers aside) makes a reason of it: Make*Reason(ReasonCode::kX, ...) or
# Reason{ReasonCode::kX, ...}.
made = re.compile(r"(?:Make[A-Za-z]*Reason\(|Reason\{)\s*ReasonCode::(k[A-Za-z0-9]+)")
emitted = set()
root = pathlib.Path(verifier_dir)
for path in root.rglob("*"):
    relative_dirs = set(path.relative_to(root).parts[:-1])
    if path.suffix not in (".cpp", ".h") or {"tests", "testing", "fuzz"} & relative_dirs:
        continue
    text = path.read_text(encoding="utf-8", errors="replace")
    emitted |= {name_of[e] for e in made.findall(text) if e in name_of}
assert emitted, f"no verifier source under {verifier_dir} makes a reason"

# The page's view: summary rows "| `CODE` | effect | check |" and headings
# "### `CODE`".
rows = re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*?) \|", doc, re.M)
headings = re.findall(r"^### `([A-Z][A-Z0-9_]*)`\s*$", doc, re.M)
row_effect = {}
for code, effect in rows:
    if code in row_effect:
        failures.append(f"summary table lists {code} twice")
    row_effect[code] = effect.strip()
for code in {c for c in headings if headings.count(c) > 1}:
    failures.append(f"section ### `{code}` appears twice")

code_set = set(names)
for what, found in (("summary table", set(row_effect)), ("sections", set(headings))):
    for code in sorted(code_set - found):
        failures.append(f"{code} is a reason code in {reasons_cpp} but missing from the {what}")
    for code in sorted(found - code_set):
        failures.append(f"the {what} names {code}, which {reasons_cpp} does not have")

for code, effect in sorted(row_effect.items()):
    if code not in code_set:
        continue
    if code in informational:
        expected = "informational"
    elif code in emitted:
        expected = "fails"
    else:
        expected = "reserved"
    if effect != expected:
        failures.append(f"{code}: the summary says '{effect}', the code says '{expected}'")

if failures:
    print("docs/reason-codes.md does not match the code:", file=sys.stderr)
    for failure in failures:
        print("  " + failure, file=sys.stderr)
    sys.exit(1)
print(f"docs/reason-codes.md: {len(code_set)} reason codes, "
      f"{len(informational)} informational, {len(code_set - emitted)} reserved: ok")
PYTHON
