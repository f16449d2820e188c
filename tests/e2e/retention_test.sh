#!/usr/bin/env bash
# The audit trail and retention end to end on the embedded store: `admin create-client` leaves an
# audit entry without the API key or webhook secret, `admin audit` exports it, `admin retention
# --older-than-days 0` archives it to a gzip'd JSON-lines file and removes it, `admin
# anonymise-user` records only a hash of the user id. Usage: retention_test.sh PROOFGATE
set -u
bin=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/proofgate-retention-XXXXXX")
trap 'rm -rf "$work"' EXIT
data="$work/data"
archive="$work/archive"
passed=0
failed=0
check() {  # check NAME COMMAND...: passes when COMMAND succeeds
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    failed=$((failed + 1))
  fi
}
contains() { grep -qF -- "$2" <<<"$1"; }
lacks() { ! grep -qF -- "$2" <<<"$1"; }
# The value of a top-level string member of a one-line JSON object (node parses it).
member() { node -e 'process.stdout.write(String(JSON.parse(process.argv[1])[process.argv[2]] ?? ""))' "$1" "$2"; }

created=$("$bin" admin create-client --name "Retention Bank" --scopes age_over_18 --domains bank.example \
  --webhook-url "http://127.0.0.1:9/hooks/partner-path-token" --allow-loopback-webhook --data-dir "$data")
check create_client_succeeds test -n "$created"
client_id=$(member "$created" client_id)
api_key=$(member "$created" api_key)
key_prefix=$(member "$created" key_prefix)
secret=$(member "$created" webhook_secret)
check create_client_prints_key_and_secret test -n "$api_key" -a -n "$key_prefix" -a -n "$secret" -a -n "$client_id"

audit=$("$bin" admin audit --data-dir "$data")
check audit_lists_the_creation contains "$audit" '"action":"client.created"'
check audit_names_the_client contains "$audit" "\"client_id\":\"$client_id\""
check audit_keeps_the_webhook_host contains "$audit" '"webhook_host":"127.0.0.1"'
check audit_lacks_the_api_key lacks "$audit" "$api_key"
check audit_lacks_the_key_prefix lacks "$audit" "$key_prefix"
check audit_lacks_the_webhook_secret lacks "$audit" "$secret"
check audit_lacks_the_webhook_path lacks "$audit" "partner-path-token"
check audit_is_json_lines node -e '
  const lines = process.argv[1].trim().split("\n");
  for (const line of lines) { const e = JSON.parse(line); if (!e.at || !e.actor_type || typeof e.details !== "object") process.exit(1); }
' "$audit"

anonymised=$("$bin" admin anonymise-user --user-id "alice@example.com" --data-dir "$data")
check anonymise_reports_a_count contains "$anonymised" '"proofs_anonymised":0'
audit=$("$bin" admin audit --data-dir "$data")
check anonymise_is_audited contains "$audit" '"action":"user.anonymised"'
check anonymise_audit_holds_no_user_id lacks "$audit" "alice@example.com"
user_hash=$(printf '%s' "alice@example.com" | sha256sum | cut -d' ' -f1)
check anonymise_audit_holds_the_user_id_hash contains "$audit" "$user_hash"

summary=$("$bin" admin retention --older-than-days 0 --archive-dir "$archive" --data-dir "$data")
check retention_archives_both contains "$summary" '"archived":2'
files=("$archive"/audit-*.jsonl.gz)
check retention_writes_one_file test "${#files[@]}" = 1 -a -f "${files[0]}"
check archive_is_a_valid_gzip gzip -t "${files[0]}"
archived=$(gunzip -c "${files[0]}")
check archive_holds_the_creation contains "$archived" "\"client_id\":\"$client_id\""
check archive_holds_two_lines test "$(wc -l <<<"$archived")" = 2
check archive_lacks_the_api_key lacks "$archived" "$api_key"
check archive_lacks_the_webhook_secret lacks "$archived" "$secret"
check archive_name_counts_its_entries test "${files[0]%-2.jsonl.gz}" != "${files[0]}"

audit=$("$bin" admin audit --data-dir "$data")
check audit_no_longer_lists_the_creation lacks "$audit" '"action":"client.created"'
check audit_lists_the_retention_run contains "$audit" '"action":"retention.archived"'

# A second run finds nothing older than the window it has not archived already.
summary=$("$bin" admin retention --older-than-days 1 --archive-dir "$archive" --data-dir "$data")
check second_run_archives_nothing contains "$summary" '"archived":0'

# The time-range export and its errors.
audit=$("$bin" admin audit --from 2000-01-01 --to 2000-01-02 --data-dir "$data")
check audit_range_before_anything_is_empty test -z "$audit"
"$bin" admin audit --from yesterday --data-dir "$data" >/dev/null 2>&1
check audit_refuses_a_bad_date test $? = 2

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
