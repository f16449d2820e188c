// The admin reports' time parameters: RFC 3339 (with fractions and offsets) or Unix milliseconds,
// and nothing else.
#include "http/admin_reports.hpp"

#include <gtest/gtest.h>

namespace pg::http {
namespace {

TEST(TimeParam, reads_unix_milliseconds_and_rfc3339_with_fractions_and_offsets) {
  EXPECT_EQ(parse_time_param("0"), 0);
  EXPECT_EQ(parse_time_param("1796500210312"), 1796500210312);
  EXPECT_EQ(parse_time_param("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_time_param("2026-11-03T00:00:00Z"), 1793664000000);
  EXPECT_EQ(parse_time_param("2026-11-03t00:00:00.5z"), 1793664000500);
  EXPECT_EQ(parse_time_param("2026-11-03T00:00:00.123456Z"), 1793664000123);
  // Nepal is UTC+05:45: 05:45 there is midnight UTC.
  EXPECT_EQ(parse_time_param("2026-11-03T05:45:00+05:45"), 1793664000000);
  EXPECT_EQ(parse_time_param("2026-11-03T05:45:00 05:45"), 1793664000000);  // '+' decoded as ' '
  EXPECT_EQ(parse_time_param("2026-11-02T23:00:00-01:00"), 1793664000000);
}

TEST(TimeParam, refuses_anything_else) {
  for (const char* bad :
       {"", "yesterday", "-5", "1e12", "2026-11-03", "2026-11-03T00:00:00", "2026-02-30T00:00:00Z",
        "2026-11-03T24:00:00Z", "2026-11-03T00:00:00.Z", "2026-11-03T00:00:00+5:45",
        "2026-11-03T00:00:00Zjunk", "9999999999999999"}) {
    EXPECT_EQ(parse_time_param(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace pg::http
