// The record -> credential rules (src/issuer/attributes.hpp, docs/issuers.md "From record to
// credential"): attribute order as the circuits hash them, expiry, and every refusal by name.
#include "issuer/attributes.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "calendar/bikram_sambat.hpp"

namespace pg::issuer {
namespace {

using Attrs = std::vector<std::pair<std::string, std::uint64_t>>;

MohaRecord moha(std::string dob) {
  return {"27-01-74-05123", "Ram", std::move(dob), "9841234567"};
}

std::string error_of(const AuthorityRecord& r, std::uint32_t today) {
  const auto out = credential_attributes(r, today);
  EXPECT_FALSE(out.ok());
  return out.ok() ? std::string("(accepted)") : out.error();
}

TEST(IssuerAttributes, moha_record_gives_identity_with_ad_birth_date) {
  // BS 2058-04-17 = AD 2001-08-01 (both npm converters of bs_cross_check.mjs agree).
  const auto out = credential_attributes(moha("2058-04-17"), 20261205);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->issuer_id, 1u);
  EXPECT_EQ(out->schema_id, 1u);
  EXPECT_EQ(out->schema, "identity");
  // circuits/lib/credential.circom IdentityLeaf: birth_date, country.
  EXPECT_EQ(out->attributes, (Attrs{{"birth_date", 20010801}, {"country", 524}}));
  EXPECT_EQ(out->expiry, 20361205u);
}

TEST(IssuerAttributes, expiry_ten_years_on_from_29_february_is_1_march) {
  const auto out = credential_attributes(moha("2058-04-17"), 20280229);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->expiry, 20380301u);
  const auto leap = credential_attributes(moha("2058-04-17"), 20200229);
  ASSERT_TRUE(leap.ok()) << leap.error();
  EXPECT_EQ(leap->expiry, 20300301u);
}

TEST(IssuerAttributes, birth_on_nepal_today_is_accepted_and_tomorrow_refused) {
  // 2026-12-05 is BS 2083-08-19 (Mangsir 2083).
  const auto bs = calendar::ad_to_bs({2026, 12, 5});
  ASSERT_TRUE(bs);
  EXPECT_EQ(*bs, (calendar::Date{2083, 8, 19}));
  const auto out = credential_attributes(moha("2083-08-19"), 20261205);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->attributes[0].second, 20261205u);
  EXPECT_EQ(error_of(moha("2083-08-20"), 20261205), "birth date is in the future");
}

TEST(IssuerAttributes, refuses_a_date_of_birth_that_is_not_a_bs_date) {
  EXPECT_EQ(error_of(moha("2058-13-01"), 20261205),
            "date_of_birth_bs: 2058-13-01 is not a Bikram Sambat date");
  EXPECT_EQ(error_of(moha("2081-01-32"), 20261205),
            "date_of_birth_bs: 2081-01-32 is not a Bikram Sambat date");
  EXPECT_EQ(error_of(moha("2058-04-00"), 20261205),
            "date_of_birth_bs: 2058-04-00 is not a Bikram Sambat date");
  EXPECT_EQ(error_of(moha("1999-01-01"), 20261205),
            "date_of_birth_bs: 1999-01-01 is outside the supported Bikram Sambat years 2000..2090");
  EXPECT_EQ(error_of(moha("2058/04/17"), 20261205),
            "date_of_birth_bs: \"2058/04/17\" is not a YYYY-MM-DD date");
  EXPECT_EQ(error_of(moha(""), 20261205), "date_of_birth_bs: \"\" is not a YYYY-MM-DD date");
}

TEST(IssuerAttributes, refuses_a_today_that_is_not_a_date) {
  EXPECT_EQ(error_of(moha("2058-04-17"), 20261345), "today: 20261345 is not a yyyymmdd date");
  EXPECT_EQ(error_of(moha("2058-04-17"), 20230229), "today: 20230229 is not a yyyymmdd date");
  EXPECT_EQ(error_of(moha("2058-04-17"), 0), "today: 0 is not a yyyymmdd date");
}

TEST(IssuerAttributes, tu_record_gives_education_in_leaf_order) {
  const auto out = credential_attributes(TuRecord{"7-2-28-1456-2017", 4, 2078, 17, "TU"}, 20261205);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->issuer_id, 2u);
  EXPECT_EQ(out->schema_id, 2u);
  EXPECT_EQ(out->schema, "education");
  // EducationLeaf: degree_level, graduation_year (kept in BS), institution_id.
  EXPECT_EQ(out->attributes,
            (Attrs{{"degree_level", 4}, {"graduation_year", 2078}, {"institution_id", 17}}));
  EXPECT_EQ(out->expiry, 20361205u);
}

TEST(IssuerAttributes, refuses_bad_tu_fields_by_name) {
  EXPECT_EQ(error_of(TuRecord{"r", 9, 2078, 17, ""}, 20261205), "degree_level 9 is not 1..7");
  EXPECT_EQ(error_of(TuRecord{"r", 0, 2078, 17, ""}, 20261205), "degree_level 0 is not 1..7");
  EXPECT_EQ(error_of(TuRecord{"r", 7, 2084, 17, ""}, 20261205),
            "graduation_year_bs 2084 is not 2000..2083 (the current year)");
  EXPECT_EQ(error_of(TuRecord{"r", 7, 1990, 17, ""}, 20261205),
            "graduation_year_bs 1990 is not 2000..2083 (the current year)");
  EXPECT_EQ(error_of(TuRecord{"r", 7, 2078, -1, ""}, 20261205), "institution_id -1 is negative");
  const auto this_year = credential_attributes(TuRecord{"r", 7, 2083, 0, ""}, 20261205);
  EXPECT_TRUE(this_year.ok());
}

NrbRecord nrb(std::vector<IncomeYear> incomes) {
  return {"301234567", std::move(incomes)};
}

TEST(IssuerAttributes, nrb_record_gives_the_latest_completed_fiscal_year) {
  // FY 2081/82 ended on 2025-07-16 (32 Asar 2082).
  const auto r = nrb({{2079, 900000}, {2081, 1250000}, {2080, 1100000}, {2082, 1400000}});
  const auto out = credential_attributes(r, 20250801);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->issuer_id, 3u);
  EXPECT_EQ(out->schema_id, 3u);
  EXPECT_EQ(out->schema, "income");
  // IncomeLeaf: annual_income_npr, fiscal_year.
  EXPECT_EQ(out->attributes, (Attrs{{"annual_income_npr", 1250000}, {"fiscal_year", 2081}}));
  // Valid until fiscal year 2082/83 ends.
  EXPECT_EQ(out->expiry, calendar::yyyymmdd(*calendar::fiscal_year_last_day_ad(2082)));
}

TEST(IssuerAttributes, a_fiscal_year_counts_only_the_day_after_its_last_day) {
  const auto last = calendar::yyyymmdd(*calendar::fiscal_year_last_day_ad(2081));
  ASSERT_EQ(last, 20250716u);
  const auto r = nrb({{2080, 1100000}, {2081, 1250000}});
  const auto on_last_day = credential_attributes(r, 20250716);
  ASSERT_TRUE(on_last_day.ok()) << on_last_day.error();
  EXPECT_EQ(on_last_day->attributes[1].second, 2080u);
  EXPECT_EQ(on_last_day->expiry, 20250716u);
  const auto day_after = credential_attributes(r, 20250717);
  ASSERT_TRUE(day_after.ok()) << day_after.error();
  EXPECT_EQ(day_after->attributes[1].second, 2081u);
}

TEST(IssuerAttributes, refuses_nrb_records_without_a_usable_fiscal_year) {
  EXPECT_EQ(error_of(nrb({}), 20250801), "no completed fiscal year");
  EXPECT_EQ(error_of(nrb({{2082, 1}}), 20250801), "no completed fiscal year");
  EXPECT_EQ(error_of(nrb({{2080, 1}, {2081, 2}, {2080, 3}}), 20250801),
            "incomes[2].fiscal_year_bs: fiscal year 2080 appears twice");
  EXPECT_EQ(error_of(nrb({{2081, 1}, {1990, 2}}), 20250801),
            "incomes[1].fiscal_year_bs 1990 is not 1999..2089");
  EXPECT_EQ(error_of(nrb({{2081, 1}, {2090, 2}}), 20250801),
            "incomes[1].fiscal_year_bs 2090 is not 1999..2089");
  EXPECT_EQ(error_of(nrb({{2070, 1}}), 20250801),
            "the latest completed fiscal year 2070 is too old: its credential would have "
            "expired on 2015-07-16");
}

}  // namespace
}  // namespace pg::issuer
