#!/usr/bin/env bash
# Tests of scan-log on sample console logs: clean logs pass (even when a
# test prints "WARNING:" itself), each kind of kernel report fails.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scan=$here/../scan-log
bad=0
expect() { # expect PASS|FAIL LOG
	if "$scan" "$here/logs/$2" >/dev/null 2>&1; then got=PASS; else got=FAIL; fi
	if [ "$got" = "$1" ]; then
		echo "ok: $2 -> $got"
	else
		echo "not ok: $2 -> $got, expected $1"
		bad=1
	fi
}
expect PASS clean.log
expect FAIL warning.log
expect FAIL bug.log
expect FAIL oops.log
expect FAIL lockdep.log
expect FAIL ubsan.log
expect FAIL kasan.log
expect FAIL kmemleak.log
# Boot banners of the debug kernel and injected faults are not reports.
expect PASS sanitizers-clean.log
exit $bad
