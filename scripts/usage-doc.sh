#!/usr/bin/env bash
# usage-doc.sh [--check]: fill the code blocks of docs/usage.md from the
# tested examples they name, so the documentation shows the code the tests
# compile and run. A block is
#   <!-- include PATH#NAME -->
#   ```LANG
#   ...
#   ```
#   <!-- end include -->
# and its code is what PATH has between "usage: NAME" and "end usage".
# --check fails when docs/usage.md differs from what it would be.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
doc=$TOP/docs/usage.md
new=$(mktemp)
trap 'rm -f "$new"' EXIT
python3 - "$TOP" "$doc" "$new" <<'PY'
import re, sys
top, doc, new = sys.argv[1:]
text = open(doc).read()
lang = {'rs': 'rust', 'c': 'c', 'h': 'c'}

def snippet(m):
    path, name = m.group(1), m.group(2)
    src = open(f"{top}/{path}").read().split('\n')
    start = [i for i, l in enumerate(src) if re.search(rf'usage: {re.escape(name)}\b', l)]
    if len(start) != 1:
        sys.exit(f"usage-doc: {path} has no single 'usage: {name}' marker")
    end = next(i for i in range(start[0], len(src)) if 'end usage' in src[i])
    body = '\n'.join(src[start[0] + 1:end])
    ext = path.rsplit('.', 1)[-1]
    return f"<!-- include {path}#{name} -->\n```{lang[ext]}\n{body}\n```\n<!-- end include -->"

out = re.sub(r'<!-- include (\S+)#(\S+) -->.*?<!-- end include -->', snippet, text, flags=re.S)
open(new, 'w').write(out)
PY
if [ "${1:-}" = --check ]; then
	if ! diff -u "$doc" "$new"; then
		echo "usage-doc: docs/usage.md does not show the tested examples; run scripts/usage-doc.sh" >&2
		exit 1
	fi
	echo "usage-doc: docs/usage.md shows the tested examples"
else
	cp "$new" "$doc"
fi
