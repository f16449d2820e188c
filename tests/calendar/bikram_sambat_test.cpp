// The Bikram Sambat table and conversions (src/calendar/bikram_sambat.hpp): anchors and dates
// published as Nepal's new year and fiscal year days, round trips over the whole table, refusals,
// the strict date parser, Nepal's date at the UTC+05:45 boundary, fiscal years.
#include "calendar/bikram_sambat.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <optional>

namespace pg::calendar {
namespace {

namespace chr = std::chrono;

std::int64_t unix_ms(int y, unsigned mo, unsigned d, int h, int mi, int s, int ms) {
  const chr::sys_days day{chr::year{y} / chr::month{mo} / chr::day{d}};
  const auto t = day + chr::hours{h} + chr::minutes{mi} + chr::seconds{s} + chr::milliseconds{ms};
  return chr::duration_cast<chr::milliseconds>(t.time_since_epoch()).count();
}

TEST(BikramSambat, anchor_bs_2000_01_01_is_ad_1943_04_14) {
  EXPECT_EQ(bs_to_ad({2000, 1, 1}), (Date{1943, 4, 14}));
  EXPECT_EQ(ad_to_bs({1943, 4, 14}), (Date{2000, 1, 1}));
}

TEST(BikramSambat, new_years_and_fiscal_years_as_published) {
  // Nepal's new year (1 Baisakh) of 2080, 2081, 2082 and the fiscal years 2080/81 and 2081/82
  // as the government announced them.
  EXPECT_EQ(bs_to_ad({2080, 1, 1}), (Date{2023, 4, 14}));
  EXPECT_EQ(bs_to_ad({2081, 1, 1}), (Date{2024, 4, 13}));
  EXPECT_EQ(bs_to_ad({2082, 1, 1}), (Date{2025, 4, 14}));
  EXPECT_EQ(fiscal_year_first_day_ad(2080), (Date{2023, 7, 17}));
  EXPECT_EQ(fiscal_year_last_day_ad(2080), (Date{2024, 7, 15}));
  EXPECT_EQ(fiscal_year_first_day_ad(2081), (Date{2024, 7, 16}));
  EXPECT_EQ(fiscal_year_last_day_ad(2081), (Date{2025, 7, 16}));
}

TEST(BikramSambat, bs_2062_baisakh_and_jestha_have_31_days) {
  // The erratum of docs/issuers.md ("Dates"): both npm converters give 30 and 32.
  EXPECT_EQ(bs_month_length(2062, 1), 31);
  EXPECT_EQ(bs_month_length(2062, 2), 31);
  EXPECT_EQ(bs_to_ad({2062, 1, 31}), (Date{2005, 5, 14}));
  EXPECT_EQ(bs_to_ad({2062, 2, 1}), (Date{2005, 5, 15}));
  EXPECT_EQ(bs_to_ad({2062, 2, 32}), std::nullopt);
}

TEST(BikramSambat, every_day_round_trips_and_the_ad_days_are_consecutive) {
  std::optional<chr::sys_days> previous;
  int days = 0;
  for (int y = kFirstBsYear; y <= kLastBsYear; ++y) {
    for (int m = 1; m <= 12; ++m) {
      for (int d = 1; d <= bs_month_length(y, m); ++d) {
        const auto ad = bs_to_ad({y, m, d});
        ASSERT_TRUE(ad) << y << "-" << m << "-" << d;
        ASSERT_EQ(ad_to_bs(*ad), (Date{y, m, d}));
        const chr::sys_days day{chr::year{ad->year} / chr::month{unsigned(ad->month)} /
                                chr::day{unsigned(ad->day)}};
        if (previous) {
          ASSERT_EQ(day - *previous, chr::days{1}) << y << "-" << m << "-" << d;
        }
        previous = day;
        ++days;
      }
    }
  }
  EXPECT_EQ(days, 33238);
  EXPECT_EQ(previous, chr::sys_days{chr::year{2034} / chr::April / 13});
}

TEST(BikramSambat, month_lengths_are_29_to_32_and_years_365_or_366) {
  for (int y = kFirstBsYear; y <= kLastBsYear; ++y) {
    int year = 0;
    for (int m = 1; m <= 12; ++m) {
      const int len = bs_month_length(y, m);
      EXPECT_GE(len, 29) << y << "-" << m;
      EXPECT_LE(len, 32) << y << "-" << m;
      year += len;
    }
    EXPECT_TRUE(year == 365 || year == 366) << y << ": " << year;
  }
  EXPECT_EQ(bs_month_length(2081, 2), 32);
  EXPECT_EQ(bs_month_length(2081, 11), 29);
}

TEST(BikramSambat, month_length_is_0_outside_the_table) {
  EXPECT_EQ(bs_month_length(kFirstBsYear - 1, 1), 0);
  EXPECT_EQ(bs_month_length(kLastBsYear + 1, 1), 0);
  EXPECT_EQ(bs_month_length(2080, 0), 0);
  EXPECT_EQ(bs_month_length(2080, 13), 0);
}

TEST(BikramSambat, refuses_dates_that_are_not_bs_dates_of_the_table) {
  EXPECT_EQ(bs_to_ad({2058, 13, 1}), std::nullopt);
  EXPECT_EQ(bs_to_ad({2058, 0, 1}), std::nullopt);
  EXPECT_EQ(bs_to_ad({2058, 4, 33}), std::nullopt);
  EXPECT_EQ(bs_to_ad({2058, 4, 0}), std::nullopt);
  EXPECT_EQ(bs_to_ad({2081, 1, 32}), std::nullopt);   // Baisakh 2081 has 31 days
  EXPECT_EQ(bs_to_ad({2081, 11, 30}), std::nullopt);  // Falgun 2081 has 29
  EXPECT_EQ(bs_to_ad({1999, 12, 30}), std::nullopt);
  EXPECT_EQ(bs_to_ad({2091, 1, 1}), std::nullopt);
  EXPECT_EQ(bs_to_ad({-2080, 1, 1}), std::nullopt);
}

TEST(BikramSambat, ad_to_bs_refuses_invalid_and_out_of_range_ad_dates) {
  EXPECT_EQ(ad_to_bs({2023, 2, 29}), std::nullopt);
  EXPECT_EQ(ad_to_bs({2024, 13, 1}), std::nullopt);
  EXPECT_EQ(ad_to_bs({2024, 4, 31}), std::nullopt);
  EXPECT_EQ(ad_to_bs({2024, 4, 0}), std::nullopt);
  EXPECT_EQ(ad_to_bs({1943, 4, 13}), std::nullopt);
  EXPECT_EQ(ad_to_bs({2034, 4, 13}), (Date{2090, 12, 30}));
  EXPECT_EQ(ad_to_bs({2034, 4, 14}), std::nullopt);
  EXPECT_EQ(ad_to_bs({2024, 2, 29}), (Date{2080, 11, 17}));
}

TEST(BikramSambat, parse_iso_date_is_strict) {
  EXPECT_EQ(parse_iso_date("2058-04-17"), (Date{2058, 4, 17}));
  // Shape only: calendar validity is bs_to_ad's to judge.
  EXPECT_EQ(parse_iso_date("2058-13-01"), (Date{2058, 13, 1}));
  for (const char* bad :
       {"", "2058-4-17", "2058-04-7", " 2058-04-17", "2058-04-17 ", "2058/04/17", "20580417",
        "2058-04-1x", "+058-04-17", "2058-04-170", "2058--4-17", "٢٠٥٨-04-17", "2058-04-17\n"}) {
    EXPECT_EQ(parse_iso_date(bad), std::nullopt) << '"' << bad << '"';
  }
  EXPECT_EQ(parse_iso_date(std::string_view("2058-04-17\0", 11)), std::nullopt);
}

TEST(BikramSambat, yyyymmdd_packs_the_fields) {
  EXPECT_EQ(yyyymmdd({2001, 12, 1}), 20011201u);
  EXPECT_EQ(yyyymmdd({2058, 4, 17}), 20580417u);
}

TEST(BikramSambat, nepal_date_turns_at_18_15_utc) {
  EXPECT_EQ(nepal_yyyymmdd(unix_ms(2026, 12, 5, 18, 14, 59, 999)), 20261205u);
  EXPECT_EQ(nepal_yyyymmdd(unix_ms(2026, 12, 5, 18, 15, 0, 0)), 20261206u);
  EXPECT_EQ(nepal_yyyymmdd(unix_ms(2026, 12, 5, 0, 0, 0, 0)), 20261205u);
  EXPECT_EQ(nepal_yyyymmdd(unix_ms(2024, 2, 28, 18, 15, 0, 0)), 20240229u);
  EXPECT_EQ(nepal_yyyymmdd(unix_ms(2025, 12, 31, 18, 15, 0, 0)), 20260101u);
  // Before 1970 the division must round down, not toward zero.
  EXPECT_EQ(nepal_yyyymmdd(unix_ms(1969, 12, 31, 18, 14, 59, 999)), 19691231u);
  EXPECT_EQ(nepal_yyyymmdd(unix_ms(1969, 12, 31, 18, 15, 0, 0)), 19700101u);
}

TEST(BikramSambat, nepal_date_is_0_outside_years_1_to_9999) {
  EXPECT_EQ(nepal_yyyymmdd(unix_ms(1, 1, 1, 0, 0, 0, 0) - 20700000), 10101u);
  EXPECT_EQ(nepal_yyyymmdd(unix_ms(1, 1, 1, 0, 0, 0, 0) - 20700001), 0u);
  EXPECT_EQ(nepal_yyyymmdd(unix_ms(9999, 12, 31, 18, 14, 59, 999)), 99991231u);
  EXPECT_EQ(nepal_yyyymmdd(unix_ms(9999, 12, 31, 18, 15, 0, 0)), 0u);
  EXPECT_EQ(nepal_yyyymmdd(std::numeric_limits<std::int64_t>::max()), 0u);
  EXPECT_EQ(nepal_yyyymmdd(std::numeric_limits<std::int64_t>::min()), 0u);
}

TEST(BikramSambat, fiscal_year_runs_shrawan_to_asar) {
  EXPECT_EQ(fiscal_year_of({2080, 4, 1}), 2080);
  EXPECT_EQ(fiscal_year_of({2080, 12, 30}), 2080);
  EXPECT_EQ(fiscal_year_of({2081, 1, 1}), 2080);
  EXPECT_EQ(fiscal_year_of({2081, 3, 31}), 2080);
  EXPECT_EQ(fiscal_year_of({2081, 4, 1}), 2081);
  EXPECT_EQ(fiscal_year_of({2080, 3, 31}), 2079);
}

TEST(BikramSambat, fiscal_years_are_contiguous_and_bounded_by_the_table) {
  for (int fy = kFirstBsYear; fy < kLastBsYear; ++fy) {
    const auto last = fiscal_year_last_day_ad(fy);
    const auto next = fiscal_year_first_day_ad(fy + 1);
    ASSERT_TRUE(last && next) << fy;
    const auto day = [](Date d) {
      return chr::sys_days{chr::year{d.year} / chr::month{unsigned(d.month)} /
                           chr::day{unsigned(d.day)}};
    };
    EXPECT_EQ(day(*next) - day(*last), chr::days{1}) << fy;
    EXPECT_EQ(fiscal_year_of(*ad_to_bs(*last)), fy);
    EXPECT_EQ(fiscal_year_of(*ad_to_bs(*next)), fy + 1);
  }
  EXPECT_EQ(fiscal_year_first_day_ad(kFirstBsYear - 1), std::nullopt);
  EXPECT_TRUE(fiscal_year_last_day_ad(kFirstBsYear - 1));
  EXPECT_TRUE(fiscal_year_first_day_ad(kLastBsYear));
  EXPECT_EQ(fiscal_year_last_day_ad(kLastBsYear), std::nullopt);
}

}  // namespace
}  // namespace pg::calendar
