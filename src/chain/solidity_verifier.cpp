// The Solidity Groth16 verifier generator (see solidity_verifier.hpp). The contract checks
//   e(A, B) · e(vk_x, −gamma) · e(C, −delta) · e(−alpha, beta) = 1,  vk_x = IC_0 + Σ s_i·IC_i
// (Groth, ePrint 2016/260 §3.2) with the EIP-196 ecMul/ecAdd precompiles (0x07, 0x06) for vk_x and
// one EIP-197 pairing call (0x08). The negations are made here, so A, B and C go from calldata to
// the pairing input with two calldatacopy and nothing is computed on chain but vk_x.
#include "chain/solidity_verifier.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "chain/hex.hpp"
#include "crypto/curve.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::chain {

namespace {

using crypto::Error;
using crypto::Fp;
using crypto::Fp2;
using crypto::G1Affine;
using crypto::G2Affine;
using crypto::InputError;

// Keywords, reserved words and literals of Solidity 0.8 ("Reserved Keywords" and the grammar's
// keyword tokens), and the unsized elementary type names; sized ones (uint8, bytes32, fixed128x18)
// are matched by elementary_type_name below.
constexpr std::array<std::string_view, 104> kReserved = {
    "abstract",  "address",    "after",    "alias",       "anonymous",   "apply",     "as",
    "assembly",  "auto",       "bool",     "break",       "byte",        "bytes",     "calldata",
    "case",      "catch",      "constant", "constructor", "continue",    "contract",  "copyof",
    "default",   "define",     "delete",   "do",          "else",        "emit",      "enum",
    "error",     "event",      "external", "fallback",    "false",       "final",     "fixed",
    "for",       "from",       "function", "global",      "gwei",        "hex",       "if",
    "immutable", "implements", "import",   "in",          "indexed",     "inline",    "int",
    "interface", "internal",   "is",       "layout",      "let",         "library",   "macro",
    "mapping",   "match",      "memory",   "modifier",    "mutable",     "new",       "null",
    "of",        "override",   "partial",  "payable",     "pragma",      "private",   "promise",
    "public",    "pure",       "receive",  "reference",   "relocatable", "return",    "returns",
    "revert",    "sealed",     "sizeof",   "static",      "storage",     "string",    "struct",
    "super",     "supports",   "switch",   "this",        "throw",       "transient", "true",
    "try",       "type",       "typedef",  "typeof",      "ufixed",      "uint",      "unchecked",
    "unicode",   "using",      "var",      "view",        "virtual",     "wei",
};

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// uintN, intN, bytesN, fixedMxN, ufixedMxN (any digits: solc refuses the identifiers either way).
bool elementary_type_name(std::string_view s) noexcept {
  for (std::string_view prefix : {"uint", "int", "bytes"}) {
    if (s.starts_with(prefix) && all_digits(s.substr(prefix.size()))) return true;
  }
  for (std::string_view prefix : {"ufixed", "fixed"}) {
    if (!s.starts_with(prefix)) continue;
    const std::string_view rest = s.substr(prefix.size());
    const auto x = rest.find('x');
    if (x != std::string_view::npos && all_digits(rest.substr(0, x)) &&
        all_digits(rest.substr(x + 1)))
      return true;
  }
  return false;
}

bool is_spdx_identifier(std::string_view s) noexcept {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '+';
  });
}

/// "0x" and 64 hex digits (a Yul number literal).
std::string hex(const crypto::Limbs& v) {
  std::string out = "0x";
  char buf[17];
  for (int i = 3; i >= 0; --i) {
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v[i]));
    out += buf;
  }
  return out;
}
std::string hex(const Fp& v) {
  return hex(v.to_canonical());
}

std::string word(unsigned offset) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%03x", offset);
  return buf;
}

// Fixed offsets: the ABI types are static, so the arguments sit at known calldata offsets
// (a 0x04, b 0x44, c 0xc4, pubSignals 0x104), and the pairing input is built at memory 0 (the
// contract returns from assembly, so Solidity's scratch space and free-memory pointer are free).
// Pairs: (vk_x, −gamma) at 0x000, (A, B) at 0x0c0, (C, −delta) at 0x180, (−alpha, beta) at 0x240.
// While vk_x is summed, 0x00..0x3f holds it and 0x40..0x9f the ecMul input (IC_i, s_i).
constexpr unsigned kPubSignals = 0x104;

/// mstore lines for an EIP-197 G2 point (x.c1, x.c0, y.c1, y.c0) at `at`.
void store_g2(std::string& out, unsigned at, const G2Affine& q, const char* indent) {
  const Fp words[4] = {q.x.c1, q.x.c0, q.y.c1, q.y.c0};
  for (unsigned i = 0; i < 4; ++i)
    out += std::string(indent) + "mstore(" + word(at + 32 * i) + ", " + hex(words[i]) + ")\n";
}

// Small inputs: 4-bit windows. Window j of a value holds the digit d = (s >> 4j) & 15 and has
// the points d·16^j·IC for d = 1..15 (fewer in a top window narrower than 4 bits).
constexpr unsigned kWindowBits = 4;

std::size_t table_points(unsigned bits) noexcept {
  const unsigned rest = bits % kWindowBits;
  return (bits / kWindowBits) * ((1u << kWindowBits) - 1) + (rest == 0 ? 0 : (1u << rest) - 1);
}

/// For each window of a `bits`-bit value, the points d·16^j·p for d = 1 .. 2^width - 1.
std::vector<std::vector<G1Affine>> window_tables(const G1Affine& p, unsigned bits) {
  std::vector<std::vector<G1Affine>> out;
  crypto::G1 base = crypto::G1::from_affine(p);
  for (unsigned at = 0; at < bits; at += kWindowBits) {
    const unsigned width = std::min(kWindowBits, bits - at);
    std::vector<crypto::G1> multiples;
    crypto::G1 m = base;
    for (unsigned d = 1; d < (1u << width); ++d) {
      multiples.push_back(m);
      m = m.add(base);
    }
    out.push_back(crypto::batch_to_affine<crypto::G1Params>(multiples));
    for (unsigned k = 0; k < kWindowBits; ++k) base = base.dbl();
  }
  return out;
}

/// Stores the point for the digit `d` (known nonzero) of a window at 0x40/0x60: a binary tree of
/// switches on d's bits over the digits lo .. lo + 2^width - 1.
void emit_digit_tree(std::string& out, const std::vector<G1Affine>& points, unsigned lo,
                     unsigned width, const std::string& indent) {
  if (width == 0 || (lo == 0 && width == 1)) {
    const G1Affine& q = points[(width == 0 ? lo : 1) - 1];  // d != 0: below 2 it is 1
    out += indent + "mstore(0x40, " + hex(q.x) + ")\n";
    out += indent + "mstore(0x60, " + hex(q.y) + ")\n";
    return;
  }
  const unsigned half = 1u << (width - 1);
  out += indent + "switch and(d, " + std::to_string(half) + ")\n";
  out += indent + "case 0 {\n";
  emit_digit_tree(out, points, lo, width - 1, indent + "    ");
  out += indent + "}\n" + indent + "default {\n";
  emit_digit_tree(out, points, lo + half, width - 1, indent + "    ");
  out += indent + "}\n";
}

/// "0x" and the hex digits of 2^bits.
std::string power_of_two(unsigned bits) {
  std::string out = "0x1";
  if (bits % 4 != 0) out.back() = "1248"[bits % 4];
  out.append(bits / 4, '0');
  return out;
}

constexpr const char* kEcMul = "ok := and(ok, staticcall(gas(), 0x07, 0x40, 0x60, 0x40, 0x40))\n";
constexpr const char* kEcAdd = "ok := and(ok, staticcall(gas(), 0x06, 0x00, 0x80, 0x00, 0x40))\n";
constexpr const char* kReturned64 = "ok := and(ok, eq(returndatasize(), 0x40))\n";

/// vk_x += s·ic for the public input at calldata offset `at`: from the tables while s < 2^bits,
/// by ecMul otherwise.
void emit_small_input(std::string& out, const G1Affine& ic, unsigned at, unsigned bits) {
  const std::string in = "            ";
  out += in + "{\n";
  out += in + "    let s := calldataload(" + word(at) + ")\n";
  out += in + "    switch lt(s, " + power_of_two(bits) + ")\n";
  out += in + "    case 0 {\n";
  out += in + "        mstore(0x40, " + hex(ic.x) + ")\n";
  out += in + "        mstore(0x60, " + hex(ic.y) + ")\n";
  out += in + "        mstore(0x80, s)\n";
  out += in + "        " + kEcMul + in + "        " + kReturned64;
  out += in + "        " + kEcAdd + in + "        " + kReturned64;
  out += in + "    }\n";
  out += in + "    default {\n";
  const auto tables = window_tables(ic, bits);
  for (unsigned j = 0; j < tables.size(); ++j) {
    const unsigned width = std::min(kWindowBits, bits - kWindowBits * j);
    const std::string shifted = j == 0 ? "s" : "shr(" + std::to_string(kWindowBits * j) + ", s)";
    // The top window needs no mask: s < 2^bits.
    const bool top = kWindowBits * (j + 1) >= bits;
    out += in + "        " + (j == 0 ? "let d := " : "d := ") +
           (top ? shifted : "and(" + shifted + ", 0xf)") + "\n";
    out += in + "        if d {\n";
    emit_digit_tree(out, tables[j], 0, width, in + "            ");
    out += in + "            " + kEcAdd + in + "            " + kReturned64;
    out += in + "        }\n";
  }
  out += in + "    }\n";
  out += in + "}\n";
}

}  // namespace

std::size_t estimated_code_size(std::size_t public_inputs,
                                std::span<const SmallInput> small_inputs) noexcept {
  std::size_t size = 1300 + 130 * public_inputs;
  for (const SmallInput& in : small_inputs)
    size += 40 + 92 * table_points(std::min(in.bits, kMaxSmallInputBits));
  return size;
}

std::vector<SmallInput> small_inputs_for(std::span<const std::string> public_signal_names) {
  static constexpr std::pair<std::string_view, unsigned> kPreferred[] = {
      {"today", 25}, {"min_level", 8}, {"fiscal_year", 12}, {"threshold", 24}};
  std::vector<SmallInput> out;
  for (const auto& [name, bits] : kPreferred) {
    for (std::size_t i = 0; i < public_signal_names.size(); ++i) {
      if (public_signal_names[i] != name) continue;
      out.push_back({i, bits});
      if (estimated_code_size(public_signal_names.size(), out) > kMaxCodeSize) out.pop_back();
    }
  }
  std::sort(out.begin(), out.end(),
            [](const SmallInput& a, const SmallInput& b) { return a.index < b.index; });
  return out;
}

bool is_solidity_identifier(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  const auto letter = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  };
  if (!letter(name[0])) return false;
  if (!std::all_of(name.begin(), name.end(),
                   [&](char c) { return letter(c) || (c >= '0' && c <= '9'); }))
    return false;
  if (std::find(kReserved.begin(), kReserved.end(), name) != kReserved.end()) return false;
  return !elementary_type_name(name);
}

crypto::Result<std::string> solidity_verifier(std::string_view vkey_json,
                                              const VerifierOptions& options) {
  if (!is_solidity_identifier(options.contract_name)) {
    return Error{
        InputError::kWrongType, "name",
        "not a Solidity contract name (letters, digits and _, not starting with a digit, at "
        "most 64 characters, not a keyword)"};
  }
  if (!is_spdx_identifier(options.spdx_license)) {
    return Error{InputError::kWrongType, "license", "not an SPDX licence identifier"};
  }
  // The native verifier's checks (curves, subgroups, insecure keys) before anything is written.
  if (auto prepared = crypto::snarkjs::load_verifying_key(vkey_json); !prepared)
    return prepared.error();
  auto decoded = crypto::snarkjs::decode_verifying_key(vkey_json);
  if (!decoded) return decoded.error();
  const crypto::VerifyingKey& vk = *decoded;
  const std::size_t n = vk.ic.size() - 1;
  if (n == 0) {
    return Error{InputError::kWrongCount, "vkey.IC",
                 "the key has no public inputs; the verifyProof ABI needs at least one"};
  }

  std::vector<unsigned> small_bits(n, 0);
  std::size_t points = 0;
  for (const SmallInput& in : options.small_inputs) {
    const std::string field = "small_inputs[" + std::to_string(in.index) + "]";
    if (in.index >= n) {
      return Error{InputError::kOutOfRange, field,
                   "no such public input: the key has " + std::to_string(n)};
    }
    if (in.bits < 1 || in.bits > kMaxSmallInputBits) {
      return Error{InputError::kOutOfRange, field,
                   "bits must be 1 to " + std::to_string(kMaxSmallInputBits) +
                       " (wider, the ecAdds of a large value cost more than one ecMul)"};
    }
    if (small_bits[in.index] != 0) {
      return Error{InputError::kWrongCount, field, "the input is given twice"};
    }
    small_bits[in.index] = in.bits;
    points += table_points(in.bits);
  }
  if (const std::size_t size = estimated_code_size(n, options.small_inputs); size > kMaxCodeSize) {
    return Error{InputError::kOutOfRange, "small_inputs",
                 std::to_string(points) + " table points make about " + std::to_string(size) +
                     " bytes of code; EIP-170 allows " + std::to_string(kMaxCodeSize)};
  }

  const G1Affine neg_alpha = vk.alpha.negate();
  const G2Affine neg_gamma = vk.gamma.negate();
  const G2Affine neg_delta = vk.delta.negate();
  const std::string p = hex(Fp::kModulus);
  const std::string r = hex(crypto::Fr::kModulus);
  const std::string ns = std::to_string(n);
  const std::string& name = options.contract_name;

  std::string out;
  out.reserve(4096 + 400 * n);
  out += "// SPDX-License-Identifier: " + options.spdx_license + "\n";
  out += "// Generated by `proofgate chain verifier`; do not edit.\n";
  out += "// verification_key.json SHA-256: " + sha256_hex(vkey_json) + "\n";
  out += "pragma solidity ^0.8.20;\n\n";
  out += "/// @title " + name + "\n";
  out += "/// @notice Groth16 (BN254) verifier for one verification key with " + ns +
         " public inputs.\n";
  out += "/// verifyProof returns false, without reverting, unless the calldata is exactly its\n";
  out +=
      "/// arguments, every proof coordinate is below p, A, B and C are not the point at "
      "infinity,\n";
  out += "/// every public input is below r and\n";
  out += "/// e(A, B) = e(alpha, beta) e(IC_0 + sum s_i IC_i, gamma) e(C, delta).\n";
  out += "contract " + name + " {\n";
  out +=
      "    /// @param a the proof's A (x, y); b its B ([x.c1, x.c0], [y.c1, y.c0]); c its C (x, "
      "y),\n";
  out += "    /// in snarkjs's calldata layout. @param pubSignals the public inputs, in order.\n";
  out += "    function verifyProof(\n";
  out += "        uint256[2] calldata a,\n";
  out += "        uint256[2][2] calldata b,\n";
  out += "        uint256[2] calldata c,\n";
  out += "        uint256[" + ns + "] calldata pubSignals\n";
  out += "    ) external view returns (bool) {\n";
  out += "        assembly {\n";
  out +=
      "            // Static ABI types: a = 0x04, b = 0x44, c = 0xc4, pubSignals = 0x104 in "
      "calldata.\n";
  out +=
      "            // Exactly the ABI's arguments: a call with more or fewer words is refused.\n";
  out += "            let ok := eq(calldatasize(), " +
         word(kPubSignals + 32 * static_cast<unsigned>(n)) + ")\n";
  out +=
      "            // Every coordinate < p (the precompiles are not relied on for it); A, B and\n";
  out += "            // C not the point at infinity (EIP-196/197 encode it as zeros).\n";
  out += "            let p := " + p + "\n";
  out += "            {\n";
  out += "                let ax := calldataload(a)\n";
  out += "                let ay := calldataload(0x24)\n";
  out += "                let cx := calldataload(c)\n";
  out += "                let cy := calldataload(0xe4)\n";
  out +=
      "                ok := and(ok, and(and(lt(ax, p), lt(ay, p)), and(lt(cx, p), lt(cy, p))))\n";
  out += "                ok := and(ok, and(gt(or(ax, ay), 0), gt(or(cx, cy), 0)))\n";
  out += "            }\n";
  out += "            {\n";
  out += "                let b0 := calldataload(b)\n";
  out += "                let b1 := calldataload(0x64)\n";
  out += "                let b2 := calldataload(0x84)\n";
  out += "                let b3 := calldataload(0xa4)\n";
  out +=
      "                ok := and(ok, and(and(lt(b0, p), lt(b1, p)), and(lt(b2, p), lt(b3, p))))\n";
  out += "                ok := and(ok, gt(or(or(b0, b1), or(b2, b3)), 0))\n";
  out += "            }\n\n";
  out += "            // Every public input < r (ecMul would reduce it modulo r).\n";
  out += "            let r := " + r + "\n";
  for (std::size_t i = 0; i < n; ++i) {
    const std::string at =
        i == 0 ? "pubSignals" : word(kPubSignals + 32 * static_cast<unsigned>(i));
    out += "            ok := and(ok, lt(calldataload(" + at + "), r))\n";
  }
  out +=
      "\n            // vk_x = IC_0 + sum s_i IC_i at 0x00. The IC points are on the curve "
      "(checked by the\n";
  out +=
      "            // generator). Each call must succeed and return its 64 bytes: a chain without "
      "the\n";
  out +=
      "            // precompile \"succeeds\" with no return data and leaves the memory as it "
      "was.\n";
  out +=
      "            // returndatasize() is read in a statement of its own, after the call (Yul "
      "evaluates\n";
  out += "            // a function's arguments right to left).\n";
  out += "            mstore(0x00, " + hex(vk.ic[0].x) + ")\n";
  out += "            mstore(0x20, " + hex(vk.ic[0].y) + ")\n";
  if (points > 0) {
    out +=
        "            // Small inputs: below 2^bits, one ecAdd of a precomputed d·16^j·IC_i per "
        "nonzero\n";
    out += "            // 4-bit digit d of window j; from 2^bits, ecMul as the others.\n";
  }
  for (std::size_t i = 1; i <= n; ++i) {
    if (small_bits[i - 1] != 0) {
      emit_small_input(out, vk.ic[i], kPubSignals + 32 * static_cast<unsigned>(i - 1),
                       small_bits[i - 1]);
      continue;
    }
    out += "            mstore(0x40, " + hex(vk.ic[i].x) + ")\n";
    out += "            mstore(0x60, " + hex(vk.ic[i].y) + ")\n";
    out += "            calldatacopy(0x80, " +
           word(kPubSignals + 32 * static_cast<unsigned>(i - 1)) + ", 0x20)\n";
    out += std::string("            ") + kEcMul + "            " + kReturned64;
    out += std::string("            ") + kEcAdd + "            " + kReturned64;
  }
  out +=
      "\n            // -gamma after vk_x; A and B, then C, straight from calldata; -delta; "
      "-alpha, beta.\n";
  store_g2(out, 0x040, neg_gamma, "            ");
  out += "            calldatacopy(0x0c0, 0x04, 0xc0)\n";
  out += "            calldatacopy(0x180, 0xc4, 0x40)\n";
  store_g2(out, 0x1c0, neg_delta, "            ");
  out += "            mstore(0x240, " + hex(neg_alpha.x) + ")\n";
  out += "            mstore(0x260, " + hex(neg_alpha.y) + ")\n";
  store_g2(out, 0x280, vk.beta, "            ");
  out +=
      "            // Too little gas left for the pairing (181000 after the call costs and the "
      "63/64 rule)\n";
  out +=
      "            // reverts: a call short of gas must not read as an invalid proof (nor "
      "eth_estimateGas\n";
  out += "            // settle on a limit where it does).\n";
  out += "            if lt(gas(), 185000) { revert(0, 0) }\n";
  out += "            ok := and(ok, staticcall(gas(), 0x08, 0x00, 0x300, 0x00, 0x20))\n";
  out +=
      "            // Exactly one 32-byte word, and exactly 1: otherwise 0x00 may still hold "
      "vk_x.x.\n";
  out += "            ok := and(ok, eq(returndatasize(), 0x20))\n";
  out += "            ok := and(ok, eq(mload(0x00), 1))\n";
  out += "            mstore(0x00, ok)\n";
  out += "            return(0x00, 0x20)\n";
  out += "        }\n";
  out += "    }\n";
  out += "}\n";
  return out;
}

}  // namespace pg::chain
