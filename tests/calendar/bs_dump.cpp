// Prints our calendar for tests/calendar/bs_cross_check.mjs: every month length ("len Y M N"),
// every BS day with its AD date ("bs2ad BS AD"), and every AD day of the range with its BS date
// ("ad2bs AD BS"); dates as YYYY-MM-DD, "none" where we have no answer.
#include <cstdio>
#include <optional>

#include "calendar/bikram_sambat.hpp"

namespace {

using pg::calendar::Date;

void print(const std::optional<Date>& d) {
  if (d) {
    std::printf("%04d-%02d-%02d", d->year, d->month, d->day);
  } else {
    std::printf("none");
  }
}

// The AD day after `d` (proleptic Gregorian).
Date next_ad(Date d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (d.year % 4 == 0 && d.year % 100 != 0) || d.year % 400 == 0;
  const int len = d.month == 2 && leap ? 29 : kDays[d.month - 1];
  if (d.day < len) return {d.year, d.month, d.day + 1};
  if (d.month < 12) return {d.year, d.month + 1, 1};
  return {d.year + 1, 1, 1};
}

}  // namespace

int main() {
  using namespace pg::calendar;
  for (int y = kFirstBsYear; y <= kLastBsYear; ++y) {
    for (int m = 1; m <= 12; ++m) std::printf("len %d %d %d\n", y, m, bs_month_length(y, m));
  }
  for (int y = kFirstBsYear; y <= kLastBsYear; ++y) {
    for (int m = 1; m <= 12; ++m) {
      for (int d = 1; d <= bs_month_length(y, m); ++d) {
        std::printf("bs2ad %04d-%02d-%02d ", y, m, d);
        print(bs_to_ad({y, m, d}));
        std::printf("\n");
      }
    }
  }
  const auto first = bs_to_ad({kFirstBsYear, 1, 1});
  const auto last = bs_to_ad({kLastBsYear, 12, bs_month_length(kLastBsYear, 12)});
  if (!first || !last) return 1;
  for (Date d = *first;; d = next_ad(d)) {
    std::printf("ad2bs ");
    print(d);
    std::printf(" ");
    print(ad_to_bs(d));
    std::printf("\n");
    if (d == *last) break;
  }
  return 0;
}
