// BS <-> AD over the month-length table below; AD arithmetic is std::chrono's proleptic Gregorian
// calendar (C++20 [time.cal]).
#include "calendar/bikram_sambat.hpp"

#include <array>
#include <chrono>

namespace pg::calendar {
namespace {

namespace chr = std::chrono;

constexpr int kYears = kLastBsYear - kFirstBsYear + 1;

// Days of each month (Baisakh .. Chaitra) of BS 2000 .. 2090, as the calendars published each
// year by Nepal's calendar committee (Nepal Panchanga Nirnayak Bikas Samiti) give them, reproduced
// by nepalipatro.com.np and collected in the nepali-datetime project's calendar_bs.csv
// (github.com/amitgaru2/nepali-datetime, nepali_datetime/data/calendar_bs.csv at b1de206,
// 2025-05-10; it corrects BS 2062 Baisakh/Jestha to 31/31 and 2082 to the published calendar)
// with its later correction of BS 2083 (nepali-datetime pull request #70, 2026-05-07: Asoj 31,
// Mangsir 29, Poush 30, Magh 29; medic/bikram-sambat issue #31 agrees). BS 2084 onwards is not
// published yet: those rows are projections, and where the sources differ (2087) the reading two
// of the three sources share is taken. docs/issuers.md ("Dates") lists every known disagreement.
// Anchor: BS 2000-01-01 = AD 1943-04-14 (both npm converters of tests/calendar/ agree).
constexpr std::array<std::array<std::uint8_t, 12>, kYears> kMonthLengths{{
    {30, 32, 31, 32, 31, 30, 30, 30, 29, 30, 29, 31},  // 2000 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2001 (365)
    {31, 31, 32, 32, 31, 30, 30, 29, 30, 29, 30, 30},  // 2002 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2003 (366)
    {30, 32, 31, 32, 31, 30, 30, 30, 29, 30, 29, 31},  // 2004 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2005 (365)
    {31, 31, 32, 32, 31, 30, 30, 29, 30, 29, 30, 30},  // 2006 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2007 (366)
    {31, 31, 31, 32, 31, 31, 29, 30, 30, 29, 29, 31},  // 2008 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2009 (365)
    {31, 31, 32, 32, 31, 30, 30, 29, 30, 29, 30, 30},  // 2010 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2011 (366)
    {31, 31, 31, 32, 31, 31, 29, 30, 30, 29, 30, 30},  // 2012 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2013 (365)
    {31, 31, 32, 32, 31, 30, 30, 29, 30, 29, 30, 30},  // 2014 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2015 (366)
    {31, 31, 31, 32, 31, 31, 29, 30, 30, 29, 30, 30},  // 2016 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2017 (365)
    {31, 32, 31, 32, 31, 30, 30, 29, 30, 29, 30, 30},  // 2018 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 30, 29, 31},  // 2019 (366)
    {31, 31, 31, 32, 31, 31, 30, 29, 30, 29, 30, 30},  // 2020 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2021 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 30},  // 2022 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 30, 29, 31},  // 2023 (366)
    {31, 31, 31, 32, 31, 31, 30, 29, 30, 29, 30, 30},  // 2024 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2025 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2026 (366)
    {30, 32, 31, 32, 31, 30, 30, 30, 29, 30, 29, 31},  // 2027 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2028 (365)
    {31, 31, 32, 31, 32, 30, 30, 29, 30, 29, 30, 30},  // 2029 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2030 (366)
    {30, 32, 31, 32, 31, 30, 30, 30, 29, 30, 29, 31},  // 2031 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2032 (365)
    {31, 31, 32, 32, 31, 30, 30, 29, 30, 29, 30, 30},  // 2033 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2034 (366)
    {30, 32, 31, 32, 31, 31, 29, 30, 30, 29, 29, 31},  // 2035 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2036 (365)
    {31, 31, 32, 32, 31, 30, 30, 29, 30, 29, 30, 30},  // 2037 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2038 (366)
    {31, 31, 31, 32, 31, 31, 29, 30, 30, 29, 30, 30},  // 2039 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2040 (365)
    {31, 31, 32, 32, 31, 30, 30, 29, 30, 29, 30, 30},  // 2041 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2042 (366)
    {31, 31, 31, 32, 31, 31, 29, 30, 30, 29, 30, 30},  // 2043 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2044 (365)
    {31, 32, 31, 32, 31, 30, 30, 29, 30, 29, 30, 30},  // 2045 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2046 (366)
    {31, 31, 31, 32, 31, 31, 30, 29, 30, 29, 30, 30},  // 2047 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2048 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 30},  // 2049 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 30, 29, 31},  // 2050 (366)
    {31, 31, 31, 32, 31, 31, 30, 29, 30, 29, 30, 30},  // 2051 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2052 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 30},  // 2053 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 30, 29, 31},  // 2054 (366)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2055 (365)
    {31, 31, 32, 31, 32, 30, 30, 29, 30, 29, 30, 30},  // 2056 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2057 (366)
    {30, 32, 31, 32, 31, 30, 30, 30, 29, 30, 29, 31},  // 2058 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2059 (365)
    {31, 31, 32, 32, 31, 30, 30, 29, 30, 29, 30, 30},  // 2060 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2061 (366)
    {31, 31, 31, 32, 31, 31, 29, 30, 29, 30, 29, 31},  // 2062 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2063 (365)
    {31, 31, 32, 32, 31, 30, 30, 29, 30, 29, 30, 30},  // 2064 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2065 (366)
    {31, 31, 31, 32, 31, 31, 29, 30, 30, 29, 29, 31},  // 2066 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2067 (365)
    {31, 31, 32, 32, 31, 30, 30, 29, 30, 29, 30, 30},  // 2068 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2069 (366)
    {31, 31, 31, 32, 31, 31, 29, 30, 30, 29, 30, 30},  // 2070 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2071 (365)
    {31, 32, 31, 32, 31, 30, 30, 29, 30, 29, 30, 30},  // 2072 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 31},  // 2073 (366)
    {31, 31, 31, 32, 31, 31, 30, 29, 30, 29, 30, 30},  // 2074 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2075 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 30},  // 2076 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 30, 29, 31},  // 2077 (366)
    {31, 31, 31, 32, 31, 31, 30, 29, 30, 29, 30, 30},  // 2078 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2079 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 29, 30, 30},  // 2080 (365)
    {31, 32, 31, 32, 31, 30, 30, 30, 29, 30, 29, 31},  // 2081 (366)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2082 (365)
    {31, 31, 32, 31, 31, 31, 30, 29, 30, 29, 30, 30},  // 2083 (365)
    {31, 31, 32, 31, 31, 30, 30, 30, 29, 30, 30, 30},  // 2084 (365)
    {31, 32, 31, 32, 30, 31, 30, 30, 29, 30, 30, 30},  // 2085 (366)
    {30, 32, 31, 32, 31, 30, 30, 30, 29, 30, 30, 30},  // 2086 (365)
    {31, 31, 32, 31, 31, 31, 30, 30, 29, 30, 30, 30},  // 2087 (366)
    {30, 31, 32, 32, 30, 31, 30, 30, 29, 30, 30, 30},  // 2088 (365)
    {30, 32, 31, 32, 31, 30, 30, 30, 29, 30, 30, 30},  // 2089 (365)
    {30, 32, 31, 32, 31, 30, 30, 30, 29, 30, 30, 30},  // 2090 (365)
}};

constexpr chr::sys_days kAnchor = chr::sys_days{chr::year{1943} / chr::April / 14};

constexpr int year_length(int index) {
  int n = 0;
  for (int len : kMonthLengths[static_cast<std::size_t>(index)]) n += len;
  return n;
}

// kYearStart[i]: days from the anchor to 1 Baisakh of BS year kFirstBsYear + i; the last entry
// is the number of days the table holds.
constexpr std::array<int, kYears + 1> kYearStart = [] {
  std::array<int, kYears + 1> starts{};
  for (int i = 0; i < kYears; ++i) starts[i + 1] = starts[i] + year_length(i);
  return starts;
}();

static_assert(kYearStart[kYears] == 33238, "BS 2000..2090 hold 33,238 days");
static_assert(
    [] {
      for (const auto& year : kMonthLengths)
        for (int len : year)
          if (len < 29 || len > 32) return false;
      for (int i = 0; i < kYears; ++i)
        if (year_length(i) < 365 || year_length(i) > 366) return false;
      return true;
    }(),
    "every month has 29..32 days and every year 365 or 366");

Date from_sys_days(chr::sys_days days) noexcept {
  const chr::year_month_day ymd{days};
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

}  // namespace

int bs_month_length(int bs_year, int month) noexcept {
  if (bs_year < kFirstBsYear || bs_year > kLastBsYear || month < 1 || month > 12) return 0;
  return kMonthLengths[static_cast<std::size_t>(bs_year - kFirstBsYear)]
                      [static_cast<std::size_t>(month - 1)];
}

std::optional<Date> bs_to_ad(Date bs) noexcept {
  const int len = bs_month_length(bs.year, bs.month);
  if (len == 0 || bs.day < 1 || bs.day > len) return std::nullopt;
  const int index = bs.year - kFirstBsYear;
  int offset = kYearStart[static_cast<std::size_t>(index)] + bs.day - 1;
  for (int m = 1; m < bs.month; ++m) offset += bs_month_length(bs.year, m);
  return from_sys_days(kAnchor + chr::days{offset});
}

std::optional<Date> ad_to_bs(Date ad) noexcept {
  if (ad.month < 1 || ad.month > 12 || ad.day < 1 || ad.day > 31) return std::nullopt;
  const chr::year_month_day ymd{chr::year{ad.year}, chr::month{static_cast<unsigned>(ad.month)},
                                chr::day{static_cast<unsigned>(ad.day)}};
  if (!ymd.ok()) return std::nullopt;
  const auto offset = (chr::sys_days{ymd} - kAnchor).count();
  if (offset < 0 || offset >= kYearStart[kYears]) return std::nullopt;
  int index = 0;
  while (kYearStart[static_cast<std::size_t>(index) + 1] <= offset) ++index;
  int rest = static_cast<int>(offset) - kYearStart[static_cast<std::size_t>(index)];
  const int year = kFirstBsYear + index;
  int month = 1;
  while (rest >= bs_month_length(year, month)) rest -= bs_month_length(year, month++);
  return Date{year, month, rest + 1};
}

std::optional<Date> parse_iso_date(std::string_view text) noexcept {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int fields[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (int f = 0; f < 3; ++f) {
    for (std::size_t i = 0; i < lengths[f]; ++i) {
      const char c = text[starts[f] + i];
      if (c < '0' || c > '9') return std::nullopt;
      fields[f] = fields[f] * 10 + (c - '0');
    }
  }
  return Date{fields[0], fields[1], fields[2]};
}

std::uint32_t yyyymmdd(Date d) noexcept {
  return static_cast<std::uint32_t>(d.year * 10000 + d.month * 100 + d.day);
}

std::uint32_t nepal_yyyymmdd(std::int64_t unix_ms) noexcept {
  // Nepal Standard Time is UTC+05:45 all year (no daylight saving since 1986).
  constexpr std::int64_t kOffsetMs = (5 * 60 + 45) * 60 * 1000;
  // Nepal's 0001-01-01 00:00 and 10000-01-01 00:00 in Unix milliseconds; also keeps the sum
  // below from overflowing.
  constexpr std::int64_t kFirst = -62135596800000 - kOffsetMs, kEnd = 253402300800000 - kOffsetMs;
  if (unix_ms < kFirst || unix_ms >= kEnd) return 0;
  const chr::sys_time<chr::milliseconds> local{chr::milliseconds{unix_ms + kOffsetMs}};
  return yyyymmdd(from_sys_days(chr::floor<chr::days>(local)));
}

int fiscal_year_of(Date bs) noexcept {
  return bs.month >= 4 ? bs.year : bs.year - 1;
}

std::optional<Date> fiscal_year_first_day_ad(int fy) noexcept {
  return bs_to_ad({fy, 4, 1});
}

std::optional<Date> fiscal_year_last_day_ad(int fy) noexcept {
  return bs_to_ad({fy + 1, 3, bs_month_length(fy + 1, 3)});
}

}  // namespace pg::calendar
