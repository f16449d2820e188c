// The audit trail's hash chain: each entry's SHA-256 over a canonical encoding of its fields and
// its predecessor's hash (docs/admin.md, "The audit chain"), the export's JSON line, and the
// offline check of an export (`proofgate admin audit verify`). No I/O: the caller feeds lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/audit.hpp"

namespace pg::core {

/// The genesis entry's prev_hash: 64 zeros.
inline constexpr std::string_view kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// The last entry of a chain (seq 0 and the genesis hash when it is empty).
struct AuditChainHead {
  std::int64_t seq = 0;
  std::string hash = std::string(kAuditGenesisHash);
  UnixMillis at = 0;
};

/// The canonical serialization of a JSON object: members sorted by key (bytewise, recursively),
/// no whitespace, Boost.JSON's escaping and number forms. nullopt when `json` is not an object.
/// canonical_details(canonical_details(x)) == canonical_details(x).
std::optional<std::string> canonical_details(std::string_view json);

/// SHA-256 (lowercase hex) of the entry's canonical encoding (docs/admin.md): the ASCII tag
/// "proofgate-audit-v1", then seq (8 bytes big-endian), prev_hash (its 64 hex chars), actor_type,
/// actor_id, action and canonical details, each as a 4-byte big-endian length and its bytes, then
/// at (Unix ms, 8 bytes big-endian two's complement).
std::string audit_entry_hash(std::int64_t seq, std::string_view prev_hash,
                             std::string_view actor_type, std::string_view actor_id,
                             std::string_view action, std::string_view canonical_details,
                             UnixMillis at);

/// Links `entry` after `head`: seq = head.seq + 1, prev_hash = head.hash, details made canonical
/// (the caller has checked it is an object), at raised to head.at when it is earlier (the chain's
/// times never go back, so a time range of the chain is a contiguous run of seq) unless
/// `keep_at` (entries written before the chain existed keep their recorded time), hash computed.
/// Returns the new head (its at the latest time seen).
AuditChainHead chain_audit_entry(AuditEntry& entry, const AuditChainHead& head,
                                 bool keep_at = false);

/// One entry as an export line (no newline): a JSON object with id, seq, at (RFC 3339 with ms),
/// at_ms, actor_type, actor_id, action, details (an object), prev_hash and hash.
std::string audit_export_line(const AuditEntry& entry);

/// What checking an export found.
struct AuditChainCheck {
  enum class Verdict { kIntact, kBroken, kMalformed };
  Verdict verdict = Verdict::kIntact;
  std::size_t entries = 0;  // lines read (blank lines ignored)
  std::int64_t first_seq = 0, last_seq = 0;
  std::string head;      // the last entry's hash
  std::size_t line = 0;  // kBroken / kMalformed: the first bad line (1-based)
  std::int64_t seq = 0;  // kBroken: that entry's seq
  std::string reason;    // kBroken / kMalformed: why, starting "edited", "removed",
                         // "reordered" or "truncated" for kBroken
};

/// Checks export lines (one entry per element, in file order; blank lines are skipped but counted
/// for line numbers): every hash recomputed, seq contiguous, each prev_hash its predecessor's hash.
/// `anchor`: the prev_hash the first entry must have; `head`: the hash the last must have. An
/// entry with seq 1 must have the genesis prev_hash. Stops at the first bad entry.
AuditChainCheck check_audit_export(const std::vector<std::string>& lines,
                                   std::optional<std::string_view> anchor,
                                   std::optional<std::string_view> head);

}  // namespace pg::core
