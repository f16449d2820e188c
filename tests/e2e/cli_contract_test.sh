#!/usr/bin/env bash
# The command-line contract around the inputs themselves: unreadable, oversized and missing
# files, directories, usage errors, help and version. Usage: cli_contract_test.sh PROOFGATE VECTORS
set -u
bin=$1
dir=$2/mixed_3pub
passed=0
failed=0
expect() {  # expect NAME CODE STDERR_SUBSTRING -- ARGS...
  local name=$1 code=$2 want=$3
  shift 4
  local err out rc
  err=$(mktemp)
  out=$("$bin" "$@" 2>"$err")
  rc=$?
  local lines
  lines=$(wc -l <"$err")
  if [ "$rc" != "$code" ]; then
    echo "FAIL $name: exit $rc, expected $code"; failed=$((failed + 1))
  elif [ "$code" = 2 ] && { [ "$lines" != 1 ] || ! grep -q -- "$want" "$err"; }; then
    echo "FAIL $name: stderr should be one line containing '$want', got: $(cat "$err")"
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
  rm -f "$err"
}
v=(--vkey "$dir/verification_key.json")
expect valid 0 "" -- verify "${v[@]}" --proof "$dir/proof.json" --public "$dir/public.json"
expect endless_file 2 "proof: /dev/zero is larger" -- verify "${v[@]}" --proof /dev/zero --public "$dir/public.json"
expect directory 2 "vkey: cannot read" -- verify --vkey "$dir" --proof "$dir/proof.json" --public "$dir/public.json"
expect missing_file 2 "public: cannot read" -- verify "${v[@]}" --proof "$dir/proof.json" --public "$dir/nonexistent.json"
expect missing_option 2 "--public" -- verify "${v[@]}" --proof "$dir/proof.json"
expect no_subcommand 2 "usage" --
expect unknown_subcommand 2 "usage" -- frobnicate
expect negative_batch 2 "--batch" -- bench "${v[@]}" --proof "$dir/proof.json" --public "$dir/public.json" --batch -5
expect help 0 "" -- --help
expect version 0 "" -- --version
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
