#!/usr/bin/env bash
# Installs everything the build and the tests need: Debian packages with apt (only those missing,
# `apt-get update` at most once) and the npm packages pinned in package-lock.json. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev
  libssl-dev libsqlite3-dev zlib1g-dev
  postgresql libpq-dev  # the PostgreSQL store; its tests start their own server
  redis-server libhiredis-dev  # the Redis cache; its tests start their own server
  haproxy  # the cluster test's load balancer (tests/integration/cluster_test.mjs)
  prometheus  # promtool and a real Prometheus for the alert rules of ops/ (tests/ops/)
  libcli11-dev libqrencode-dev libtomlplusplus-dev
  libargon2-dev  # argon2id admin passwords (src/core/passwords.cpp)
  libspdlog-dev  # the JSON-lines logger (src/log)
  libgtest-dev libgmock-dev libbenchmark-dev
  clang clang-format libclang-rt-14-dev
  nodejs npm
  python3 wrk curl
  golang-go  # the Go SDK (sdk/go), standard library only
  openssl  # the test CA of scripts/make-test-ca.sh (the issuers' mutual TLS)
  libsecp256k1-dev  # signing Ethereum transactions (src/chain), with its recovery module
  chromium  # the wallet's browser test (tests/browser/)
)

missing=()
for p in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # nodejs/npm may come from outside Debian's packages; a working binary is enough.
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "install-deps: apt-get install ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The pinned JavaScript tooling (@noble/curves 2, snarkjs 0.7) needs Node.js 20 or newer.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "install-deps: Node.js >= 20 is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# npm packages, exactly as pinned in package-lock.json; skipped when node_modules already matches.
stamp=node_modules/.install-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
