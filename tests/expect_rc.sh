#!/usr/bin/env bash
# expect_rc.sh RC CMD...: runs CMD and passes when it exits with RC (stderr shown on failure).
want=$1; shift
err=$("$@" 2>&1 >/dev/null); rc=$?
[ "$rc" -eq "$want" ] && exit 0
echo "exit $rc, expected $want; stderr: $err"
exit 1
