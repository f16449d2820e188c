#!/usr/bin/env bash
# The settings as the binary applies them: a malformed value or an unknown TOML key stops
# `serve`, `worker` and `migrate` with exit 2 and one line naming it; log_level drops lower lines.
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# expect_refusal WANT CMD...: exit 2, one line on stderr containing WANT, nothing on stdout.
expect_refusal() {
  local want=$1; shift
  local rc=0
  "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [ "$rc" = 2 ] || fail "$*: exit $rc, want 2"
  [ "$(wc -l <"$tmp/err")" = 1 ] || fail "$*: stderr is not one line: $(cat "$tmp/err")"
  grep -qF -- "$want" "$tmp/err" || fail "$*: stderr lacks '$want': $(cat "$tmp/err")"
  [ ! -s "$tmp/out" ] || fail "$*: wrote to stdout"
}

expect_refusal "body_limit: must be an integer from 1024 to 16777216, got '5' (from --body-limit)" \
  "$bin" serve --data-dir "$tmp/d" --body-limit 5
PROOFGATE_WEBHOOK_POLL_MS=1 expect_refusal \
  "webhook_poll_ms: must be an integer from 10 to 60000, got '1' (from PROOFGATE_WEBHOOK_POLL_MS)" \
  "$bin" worker --data-dir "$tmp/d"
printf 'lisen = "127.0.0.1:1"\n' >"$tmp/bad.toml"
expect_refusal "$tmp/bad.toml: unknown setting lisen" "$bin" serve --config "$tmp/bad.toml"
PROOFGATE_CONFIG="$tmp/bad.toml" expect_refusal "unknown setting lisen" "$bin" migrate --data-dir "$tmp/d"
printf 'log_level = "loud"\n' >"$tmp/level.toml"
expect_refusal "log_level: must be one of debug, info, warn, error, got 'loud' (from $tmp/level.toml)" \
  "$bin" migrate --data-dir "$tmp/d" --config "$tmp/level.toml"

# One signing key trusted by a live and a sandbox feed: refused (one side's entries would pass as
# the other's).
key_a=Wm9vWm9vWm9vWm9vWm9vWm9vWm9vWm9vWm9vWm9vWm8
key_b=QmFyQmFyQmFyQmFyQmFyQmFyQmFyQmFyQmFyQmFyQmE
expect_refusal "sandbox_issuer_feeds: the key of moha beginning Wm9vWm9v is also an issuer_feeds key of moha" \
  "$bin" serve --data-dir "$tmp/d" --issuer-feeds "moha|http://127.0.0.1:7101|$key_a" \
  --sandbox-issuer-feeds "moha|http://127.0.0.1:7201|$key_b+$key_a"

# migrate logs nothing at error level and prints its one JSON result.
"$bin" migrate --data-dir "$tmp/d" --log-level error >"$tmp/out" 2>"$tmp/err"
grep -q '"migrated":true' "$tmp/out" || fail "migrate: $(cat "$tmp/out")"
[ ! -s "$tmp/err" ] || fail "migrate --log-level error wrote: $(cat "$tmp/err")"

# The table the README holds is the one the binary prints.
"$bin" settings --markdown >"$tmp/table"
grep -q '^| `max_connections` | `PROOFGATE_MAX_CONNECTIONS` | `--max-connections` |' "$tmp/table" ||
  fail "settings --markdown lacks max_connections"
echo "settings_cli: 1 passed, 0 failed"
