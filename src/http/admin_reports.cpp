// The admin API's reports: decode the query, call core::AdminService, present.
#include "http/admin_reports.hpp"

#include <charconv>
#include <chrono>
#include <limits>

#include "core/audit_chain.hpp"
#include "http/admin.hpp"
#include "http/presenter.hpp"

namespace pg::http {

namespace {

/// The most entries one export answers: a wider range is refused (narrow from/to).
constexpr std::size_t kMaxExportEntries = 1'000'000;

HttpReply bad(std::string field, std::string detail) {
  return problem({core::ErrorCode::kInvalidRequest, std::move(field), std::move(detail)});
}

bool digits(std::string_view s, std::size_t from, std::size_t n, int& out) {
  if (from + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::optional<core::UnixMillis> parse_time_param(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  if (s.find_first_not_of("0123456789") == std::string_view::npos) {
    if (s.size() > 15) return std::nullopt;  // beyond year 33658
    core::UnixMillis v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  }
  // YYYY-MM-DDTHH:MM:SS[.f+](Z|±HH:MM), RFC 3339 §5.6 ('t', 'z' and ' ' allowed as it says).
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) ||
      s[7] != '-' || !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
      !digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  std::size_t i = 19;
  std::int64_t ms = 0;
  if (i < s.size() && s[i] == '.') {
    std::size_t n = 0;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++n) {
      if (n < 3) ms = ms * 10 + (s[i] - '0');
    }
    if (n == 0) return std::nullopt;
    for (; n < 3; ++n) ms *= 10;
  }
  std::int64_t offset_min = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size()) {
    // UTC
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh = 0, om = 0;
    if (!digits(s, i + 1, 2, oh) || !digits(s, i + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_min = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)),
                           day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  const auto t = sys_days(ymd).time_since_epoch() + hours(h) + minutes(mi) +
                 seconds(std::min(sec, 59)) - minutes(offset_min);
  return duration_cast<milliseconds>(t).count() + ms;
}

HttpReply audit_export_reply(core::AdminService& admin, std::string_view query) {
  core::UnixMillis from = 0, to = std::numeric_limits<core::UnixMillis>::max();
  for (auto [name, target] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
    const auto value = query_param(query, name);
    if (!value) continue;
    const auto parsed = parse_time_param(*value);
    if (!parsed)
      return bad(name, "must be an RFC 3339 time (2026-12-05T19:00:00Z) or Unix milliseconds");
    *target = *parsed;
  }
  if (to < from) return bad("to", "must not be before from");
  auto entries = admin.export_audit(from, to, kMaxExportEntries + 1);
  if (!entries) return problem(entries.error());
  if (entries->size() > kMaxExportEntries)
    return bad("to", "more than 1000000 entries in this range: narrow from/to");
  HttpReply reply;
  reply.content_type = "application/x-ndjson";
  for (const core::AuditEntry& e : entries.value()) {
    reply.body += core::audit_export_line(e);
    reply.body += '\n';
  }
  return reply;
}

}  // namespace pg::http
