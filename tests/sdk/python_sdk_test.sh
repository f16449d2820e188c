#!/usr/bin/env bash
# The Python SDK's tests as `make test` runs them: builds the wheel of sdk/python offline (Debian's
# pip and setuptools, no build isolation, no index) from a copy of the source, unpacks it, and runs
# the unit tests and the tests against the real server (tests/sdk/harness.mjs) on the unpacked
# wheel with Debian's python3.
# Usage: PROOFGATE_BIN=build/release/proofgate PROOFGATE_ARTIFACTS=build/release/artifacts \
#          bash tests/sdk/python_sdk_test.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${PROOFGATE_BIN:?must be set}" "${PROOFGATE_ARTIFACTS:?must be set}"
py=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/proofgate-sdk-python-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/source"
cp -r sdk/python/pyproject.toml sdk/python/README.md sdk/python/src "$work/source/"
PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 "$py" -m pip wheel --quiet --no-deps \
  --no-build-isolation --no-index --wheel-dir "$work/wheel" "$work/source"
wheel=$(ls "$work"/wheel/proofgate-*-py3-none-any.whl)
echo "built $(basename "$wheel")"
"$py" -m zipfile -e "$wheel" "$work/site"
PYTHONPATH="$work/site" PROOFGATE_SDK_WHEEL_DIR="$work/site" PYTHONDONTWRITEBYTECODE=1 \
  "$py" -m unittest discover -s sdk/python/tests -t sdk/python/tests -v
