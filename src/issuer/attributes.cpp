// The record -> credential rules of docs/issuers.md ("From record to credential").
#include "issuer/attributes.hpp"

#include <chrono>
#include <cstdio>
#include <optional>
#include <set>
#include <type_traits>

#include "calendar/bikram_sambat.hpp"
#include "crypto/poseidon.hpp"

namespace pg::issuer {
namespace {

using calendar::Date;
using Outcome = crypto::Result<CredentialAttributes, std::string>;

constexpr std::uint64_t kNepal = 524;  // ISO 3166-1 numeric, docs/protocol.md

std::string text(Date d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

/// The AD date of a yyyymmdd integer, when it is one.
std::optional<Date> ad_date(std::uint32_t v) {
  const Date d{static_cast<int>(v / 10000), static_cast<int>(v / 100 % 100),
               static_cast<int>(v % 100)};
  const std::chrono::year_month_day ymd{std::chrono::year{d.year},
                                        std::chrono::month{static_cast<unsigned>(d.month)},
                                        std::chrono::day{static_cast<unsigned>(d.day)}};
  if (d.year < 1 || !ymd.ok()) return std::nullopt;
  return d;
}

/// `d` plus ten years as yyyymmdd; 29 February becomes 1 March in a common year, the reading
/// docs/protocol.md gives for birthdays.
std::uint64_t ten_years_after(Date d) {
  Date later{d.year + 10, d.month, d.day};
  if (!ad_date(calendar::yyyymmdd(later))) later = {later.year, 3, 1};
  return calendar::yyyymmdd(later);
}

Outcome identity(const MohaRecord& r, Date today) {
  const auto bs = calendar::parse_iso_date(r.date_of_birth_bs);
  if (!bs) return "date_of_birth_bs: \"" + r.date_of_birth_bs + "\" is not a YYYY-MM-DD date";
  if (bs->year < calendar::kFirstBsYear || bs->year > calendar::kLastBsYear) {
    return "date_of_birth_bs: " + text(*bs) + " is outside the supported Bikram Sambat years " +
           std::to_string(calendar::kFirstBsYear) + ".." + std::to_string(calendar::kLastBsYear);
  }
  const auto ad = calendar::bs_to_ad(*bs);
  if (!ad) return "date_of_birth_bs: " + text(*bs) + " is not a Bikram Sambat date";
  if (*ad > today) return std::string("birth date is in the future");
  return CredentialAttributes{1,
                              1,
                              "identity",
                              {{"birth_date", calendar::yyyymmdd(*ad)}, {"country", kNepal}},
                              ten_years_after(today)};
}

Outcome education(const TuRecord& r, Date today) {
  if (r.degree_level < 1 || r.degree_level > 7) {
    return "degree_level " + std::to_string(r.degree_level) + " is not 1..7";
  }
  // The current BS year: a graduation cannot lie after it.
  const auto bs_today = calendar::ad_to_bs(today);
  if (!bs_today) return "today: " + text(today) + " is outside the Bikram Sambat table";
  if (r.graduation_year_bs < calendar::kFirstBsYear || r.graduation_year_bs > bs_today->year) {
    return "graduation_year_bs " + std::to_string(r.graduation_year_bs) + " is not " +
           std::to_string(calendar::kFirstBsYear) + ".." + std::to_string(bs_today->year) +
           " (the current year)";
  }
  if (r.institution_id < 0) {
    return "institution_id " + std::to_string(r.institution_id) + " is negative";
  }
  return CredentialAttributes{
      2,
      2,
      "education",
      {{"degree_level", static_cast<std::uint64_t>(r.degree_level)},
       // Kept in BS: the circuit only hashes it into the leaf (docs/issuers.md).
       {"graduation_year", static_cast<std::uint64_t>(r.graduation_year_bs)},
       {"institution_id", static_cast<std::uint64_t>(r.institution_id)}},
      ten_years_after(today)};
}

Outcome income(const NrbRecord& r, Date today) {
  // A fiscal year is usable when the table holds its last day (1 Shrawan fy .. end of Asar fy+1).
  constexpr int kFirstFy = calendar::kFirstBsYear - 1, kLastFy = calendar::kLastBsYear - 1;
  std::set<int> seen;
  const IncomeYear* best = nullptr;
  for (std::size_t i = 0; i < r.incomes.size(); ++i) {
    const IncomeYear& y = r.incomes[i];
    const std::string field = "incomes[" + std::to_string(i) + "].fiscal_year_bs";
    if (y.fiscal_year_bs < kFirstFy || y.fiscal_year_bs > kLastFy) {
      return field + " " + std::to_string(y.fiscal_year_bs) + " is not " +
             std::to_string(kFirstFy) + ".." + std::to_string(kLastFy);
    }
    if (!seen.insert(y.fiscal_year_bs).second) {
      return field + ": fiscal year " + std::to_string(y.fiscal_year_bs) + " appears twice";
    }
    const auto last = calendar::fiscal_year_last_day_ad(y.fiscal_year_bs);
    if (last && *last < today && (best == nullptr || y.fiscal_year_bs > best->fiscal_year_bs))
      best = &y;
  }
  if (best == nullptr) return std::string("no completed fiscal year");
  const int fy = best->fiscal_year_bs;
  // The credential holds until the next fiscal year ends, when a newer assessment exists.
  const auto expiry = calendar::fiscal_year_last_day_ad(fy + 1);
  if (!expiry) {
    return "fiscal year " + std::to_string(fy + 1) + " ends beyond the Bikram Sambat table";
  }
  if (*expiry < today) {
    return "the latest completed fiscal year " + std::to_string(fy) +
           " is too old: its credential would have expired on " + text(*expiry);
  }
  return CredentialAttributes{3,
                              3,
                              "income",
                              {{"annual_income_npr", best->annual_income_npr},
                               {"fiscal_year", static_cast<std::uint64_t>(fy)}},
                              calendar::yyyymmdd(*expiry)};
}

}  // namespace

crypto::Result<CredentialAttributes, std::string> credential_attributes(const AuthorityRecord& r,
                                                                        std::uint32_t today) {
  const auto day = ad_date(today);
  if (!day) return "today: " + std::to_string(today) + " is not a yyyymmdd date";
  return std::visit(
      [&](const auto& record) -> Outcome {
        using T = std::decay_t<decltype(record)>;
        if constexpr (std::is_same_v<T, MohaRecord>) return identity(record, *day);
        if constexpr (std::is_same_v<T, TuRecord>) return education(record, *day);
        if constexpr (std::is_same_v<T, NrbRecord>) return income(record, *day);
      },
      r);
}

std::optional<crypto::Fr> credential_leaf(const CredentialAttributes& credential,
                                          const crypto::Fr& holder_commitment) {
  std::vector<crypto::Fr> inputs{crypto::Fr::from_u64(credential.issuer_id),
                                 crypto::Fr::from_u64(credential.schema_id), holder_commitment};
  for (const auto& attribute : credential.attributes) {
    inputs.push_back(crypto::Fr::from_u64(attribute.second));
  }
  inputs.push_back(crypto::Fr::from_u64(credential.expiry));
  return crypto::poseidon_hash_checked(inputs);
}

}  // namespace pg::issuer
