#!/usr/bin/env bash
# `proofgate sandbox-authority` through the binary: the listening line on stdout, a code request
# over mutual TLS (curl), the code file, refusal without a client certificate, SIGTERM, and exit 2
# with one line for bad flags.
# Usage: tests/authority/sandbox_cli_test.sh PROOFGATE_BIN
set -euo pipefail
bin=$1
dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
bash "$(dirname "$0")/../../scripts/make-test-ca.sh" "$dir/pki"
pki=$dir/pki

"$bin" sandbox-authority --kind moha --listen 127.0.0.1:0 --data-dir "$dir/data" --records 7 \
  --ca "$pki/ca.pem" --cert "$pki/authority.pem" --key "$pki/authority.key" \
  >"$dir/out" 2>"$dir/err" &
pid=$!
# Wait for the listening line (a deadline, not a fixed sleep).
for _ in $(seq 200); do
  grep -q listening "$dir/out" && break
  kill -0 "$pid" 2>/dev/null || fail "exited early: $(cat "$dir/err")"
  sleep 0.05
done
line=$(head -n1 "$dir/out")
[[ $line =~ ^\{\"listening\":\"127\.0\.0\.1:([0-9]+)\"\}$ ]] || fail "listening line: $line"
port=${BASH_REMATCH[1]}

record=$(node -e 'const r = require(process.argv[1]); if (r.kind !== "moha" || r.records.length !== 7) process.exit(1); console.log(r.records[0].record)' "$dir/data/records.json") ||
  fail "records.json"
answer=$(curl -sS --cacert "$pki/ca.pem" --cert "$pki/issuer.pem" --key "$pki/issuer.key" \
  -H 'Content-Type: application/json' -d "{\"record\":\"$record\"}" -w ' %{http_code}' \
  "https://localhost:$port/authority/v1/codes")
[[ $answer =~ ^\{\"sent_to\":\"98\*{6}[0-9]{2}\",\"expires_in\":300\}\ 202$ ]] || fail "code answer: $answer"
grep -qE '^[0-9]{6}$' "$dir/data/sms/$record.code" || fail "code file"
[ "$(stat -c %a "$dir/data/sms/$record.code")" = 600 ] || fail "code file mode"
if curl -sS --cacert "$pki/ca.pem" -H 'Content-Type: application/json' -d '{}' \
  "https://localhost:$port/authority/v1/codes" >/dev/null 2>&1; then
  fail "a client without a certificate was answered"
fi
! grep -q "$record" "$dir/err" || fail "the record number is in the log"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" = 0 ] || fail "exit status after SIGTERM: $status"

status=0
"$bin" sandbox-authority --kind abc --listen 127.0.0.1:0 --data-dir "$dir/data" \
  --ca "$pki/ca.pem" --cert "$pki/authority.pem" --key "$pki/authority.key" 2>"$dir/err2" || status=$?
[ "$status" = 2 ] || fail "bad --kind: exit $status"
grep -q -- "--kind" "$dir/err2" || fail "bad --kind: $(cat "$dir/err2")"
status=0
"$bin" sandbox-authority --kind tu --listen 127.0.0.1:0 --data-dir "$dir/data" \
  --ca "$pki/ca.pem" --cert "$pki/authority.pem" --key "$pki/missing.key" 2>"$dir/err3" || status=$?
[ "$status" = 2 ] || fail "missing key: exit $status"
grep -q "missing.key" "$dir/err3" || fail "missing key: $(cat "$dir/err3")"
echo "sandbox_cli: ok"
