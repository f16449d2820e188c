// The Bikram Sambat (BS) calendar of Nepal: BS <-> AD conversion over a published month-length
// table, Nepal's civil date, and the Shrawan-to-Asar fiscal year (docs/issuers.md, "Dates").
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>

namespace pg::calendar {

/// A calendar date; which calendar (BS or AD) is the caller's to know. Months and days from 1.
struct Date {
  int year = 0, month = 0, day = 0;
  auto operator<=>(const Date&) const = default;
};

/// The BS years of the table (bikram_sambat.cpp names its source).
inline constexpr int kFirstBsYear = 2000, kLastBsYear = 2090;

/// The AD date of `bs`. nullopt: month not 1..12, day not 1..length of that month, or a year
/// outside kFirstBsYear..kLastBsYear.
std::optional<Date> bs_to_ad(Date bs) noexcept;

/// The BS date of the AD (proleptic Gregorian) date `ad`. nullopt: not a valid AD date, or a day
/// outside the table (before BS 2000-01-01 = AD 1943-04-14 or after the last day of BS 2090).
std::optional<Date> ad_to_bs(Date ad) noexcept;

/// Days in BS month `month` (1 Baisakh .. 12 Chaitra) of `bs_year`: 29..32; 0 outside the table.
int bs_month_length(int bs_year, int month) noexcept;

/// The fields of a strict "YYYY-MM-DD" text (exactly ten characters, ASCII digits, two '-').
/// Only the shape is checked: whether the fields make a date is for bs_to_ad / ad_to_bs to say.
std::optional<Date> parse_iso_date(std::string_view text) noexcept;

/// year * 10000 + month * 100 + day (the circuits' date encoding, docs/protocol.md).
std::uint32_t yyyymmdd(Date d) noexcept;

/// Nepal's civil date (UTC+05:45, no DST) at Unix time `unix_ms`, as yyyymmdd (AD); 0 when that
/// date is outside the years 1..9999.
std::uint32_t nepal_yyyymmdd(std::int64_t unix_ms) noexcept;

/// The BS fiscal year (Shrawan = month 4 to Asar = month 3) holding the BS date: 2080/81 -> 2080.
int fiscal_year_of(Date bs) noexcept;

/// The AD date of the first and last day of fiscal year `fy` (1 Shrawan fy .. last of Asar fy+1).
/// nullopt when the table does not hold that day.
std::optional<Date> fiscal_year_first_day_ad(int fy) noexcept;
std::optional<Date> fiscal_year_last_day_ad(int fy) noexcept;

}  // namespace pg::calendar
