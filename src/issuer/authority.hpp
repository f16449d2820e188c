// The issuer node's port to its authority (docs/issuers.md, "The adapter protocol"): ask for a
// one-time code, then read the record with it. The mTLS client fills it in production and tests;
// unit tests of the node use an in-memory fake.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "crypto/result.hpp"

namespace pg::issuer {

enum class AuthorityKind { kMoha, kTu, kNrb };

/// "moha", "tu", "nrb".
constexpr std::string_view kind_name(AuthorityKind kind) noexcept {
  switch (kind) {
    case AuthorityKind::kMoha:
      return "moha";
    case AuthorityKind::kTu:
      return "tu";
    case AuthorityKind::kNrb:
      return "nrb";
  }
  return "unknown";
}

/// A citizenship record from MOHA. The name and phone never leave the issuer node's memory.
struct MohaRecord {
  std::string certificate_no;
  std::string name;
  std::string date_of_birth_bs;  // "YYYY-MM-DD", Bikram Sambat
  std::string phone;
};

/// A degree record from Tribhuvan University.
struct TuRecord {
  std::string registration_no;
  int degree_level = 0;  // 1 SEE/SLC … 7 PhD (docs/protocol.md)
  int graduation_year_bs = 0;
  int institution_id = 0;
  std::string institution;
};

/// One fiscal year's assessed income; fiscal_year_bs 2080 is the year 2080/81.
struct IncomeYear {
  int fiscal_year_bs = 0;
  std::uint64_t annual_income_npr = 0;
};

/// An income record from NRB/IRD, by PAN.
struct NrbRecord {
  std::string pan;
  std::vector<IncomeYear> incomes;
};

using AuthorityRecord = std::variant<MohaRecord, TuRecord, NrbRecord>;

/// Why the authority gave no answer the node can use.
struct AuthorityFailure {
  enum class Kind {
    kUnknownRecord,  // 404 unknown_record
    kWrongCode,      // 401 wrong_code
    kCodeExpired,    // 410 code_expired
    kLockedOut,      // 429 locked
    kUnavailable,    // down, refused, timed out, 5xx, or the circuit breaker is open
    kBadAnswer,      // an answer that is not the protocol's
  };
  Kind kind = Kind::kUnavailable;
  std::string detail;          // what happened, without personal data
  unsigned retry_after_s = 0;  // for kLockedOut and an open breaker
};

template <class T>
using AuthorityResult = crypto::Result<T, AuthorityFailure>;

/// A code went to the record's phone.
struct CodeSent {
  std::string sent_to;  // masked: "98******12"
  unsigned expires_in_s = 0;
};

/// The authority as the issuer node sees it. Implementations are safe to call from several
/// threads and never throw.
class AuthorityPort {
 public:
  virtual ~AuthorityPort() = default;
  virtual AuthorityResult<CodeSent> send_code(std::string_view record) = 0;
  virtual AuthorityResult<AuthorityRecord> fetch_record(std::string_view record,
                                                        std::string_view code) = 0;
};

}  // namespace pg::issuer
