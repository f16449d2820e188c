#!/usr/bin/env bash
# TESTS AND DEVELOPMENT ONLY: makes the mutual-TLS test PKI of docs/issuers.md in DIR with OpenSSL:
# ca.pem/ca.key, authority.pem/.key (server, SAN DNS:localhost, IP:127.0.0.1), issuer.pem/.key
# (client, extendedKeyUsage clientAuth), and other-ca.pem + stranger.pem/.key (a client
# certificate from another CA, which the authority must refuse). EC P-256, valid 2 days, keys 0600.
# Idempotent: does nothing when DIR/ca.pem exists.
# Usage: scripts/make-test-ca.sh DIR
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
if [ -e "$dir/ca.pem" ]; then
  exit 0
fi
mkdir -p "$dir"
# Build in a temporary directory beside DIR and move the files in at the end, so an interrupted
# run never leaves a ca.pem without the rest (which the idempotency check above would trust).
work=$(mktemp -d "$dir/.make-test-ca.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 077
days=2

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# A self-signed CA: $1 = file stem, $2 = common name.
make_ca() {
  key "$work/$1.key"
  openssl req -x509 -new -key "$work/$1.key" -sha256 -days "$days" -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$work/$1.pem" 2>/dev/null
}

# A leaf signed by a CA: $1 = stem, $2 = CA stem, $3 = common name, $4 = extensions.
make_leaf() {
  key "$work/$1.key"
  openssl req -new -key "$work/$1.key" -subj "/CN=$3" -out "$work/$1.csr" 2>/dev/null
  printf '%s\n' "$4" >"$work/$1.ext"
  openssl x509 -req -in "$work/$1.csr" -CA "$work/$2.pem" -CAkey "$work/$2.key" \
    -CAcreateserial -sha256 -days "$days" -extfile "$work/$1.ext" -out "$work/$1.pem" 2>/dev/null
  rm -f "$work/$1.csr" "$work/$1.ext"
}

make_ca ca "proofgate test CA (TESTS ONLY)"
make_leaf authority ca "localhost" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"
make_leaf issuer ca "proofgate issuer node (TESTS ONLY)" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
make_ca other-ca "another CA (TESTS ONLY)"
make_leaf stranger other-ca "stranger (TESTS ONLY)" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"

chmod 0600 "$work"/*.key
chmod 0644 "$work"/*.pem
# The other CA's key and the serials are not needed by anyone.
rm -f "$work/other-ca.key" "$work"/*.srl
# ca.pem last: its presence means the set is complete.
for f in ca.key authority.pem authority.key issuer.pem issuer.key other-ca.pem stranger.pem stranger.key; do
  mv "$work/$f" "$dir/$f"
done
mv "$work/ca.pem" "$dir/ca.pem"
