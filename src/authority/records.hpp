// The sandbox authority's records: generated deterministically from a fixed seed (the same N
// records for a kind on every run and machine), each with the phone its codes go to.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "issuer/authority.hpp"

namespace pg::authority {

/// One record and the phone registered for it (for MOHA the record's own phone).
struct SandboxRecord {
  issuer::AuthorityRecord record;
  std::string phone;  // ten digits, "98XXXXXXXX"
};

/// The record number: certificate number, registration number or PAN.
std::string record_number(const issuer::AuthorityRecord& record);

/// `count` records of `kind`, generated from the fixed seed: the first k of generate(kind, n) are
/// generate(kind, k), and record numbers are unique within a kind. NRB/IRD incomes end with
/// `latest_fiscal_year`, the last fiscal year that has ended (a fixed range would leave every
/// record's newest income too old to enrol once a year or two have passed: docs/issuers.md,
/// "From record to credential").
std::vector<SandboxRecord> generate_records(issuer::AuthorityKind kind, std::size_t count,
                                            int latest_fiscal_year);

/// The last fiscal year that has ended before Nepal's date `today_yyyymmdd` (AD); 0 outside the
/// Bikram Sambat table.
int latest_completed_fiscal_year(std::uint32_t today_yyyymmdd) noexcept;

/// The record as the protocol's JSON object (docs/issuers.md, "Records").
std::string record_json(const issuer::AuthorityRecord& record);

/// `{"kind": …, "records": [<record_json + "phone">, …]}`, for tests and `make demo`.
std::string records_file_json(issuer::AuthorityKind kind,
                              const std::vector<SandboxRecord>& records);

/// Writes `content` to `path` with mode 0600 through a temporary file in the same directory and a
/// rename, so a reader sees the old file or the new one, never half of one. Empty on success,
/// else what went wrong.
std::string write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace pg::authority
