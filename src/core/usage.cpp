// The usage report: the store's grouped counts and percentiles, suppressed below k; and
// AdminService::usage, which checks the query's range first.
#include "core/usage.hpp"

#include <tuple>

#include "core/admin_service.hpp"

namespace pg::core {

UsageReport usage_report(const UsageQuery& query, const UsageData& data, std::int64_t min_count) {
  UsageReport report{query, min_count, {}};
  using Key = std::tuple<UnixMillis, std::string, std::string>;
  std::map<Key, UsageBucket> rows;
  const auto row = [&rows](UnixMillis bucket, const std::string& claim,
                           const std::string& verifier) -> UsageBucket& {
    auto [it, added] = rows.try_emplace(Key{bucket, claim, verifier});
    if (added) {
      it->second.start = bucket;
      it->second.claim_type = claim;
      it->second.verifier_id = verifier;
      it->second.verified = 0;
    }
    return it->second;
  };
  const auto reported = [min_count](std::int64_t n) -> ReportedCount {
    if (n > 0 && n < min_count) return std::nullopt;
    return n;
  };
  for (const UsageCount& c : data.counts) {
    UsageBucket& b = row(c.bucket, c.claim_type, c.verifier_id);
    if (c.status == "verified") {
      b.verified = c.count;
    } else {
      b.failed[c.error_code.empty() ? "UNKNOWN" : c.error_code] = c.count;
    }
  }
  for (const UsageLatency& l : data.latencies) {
    UsageBucket& b = row(l.bucket, l.claim_type, l.verifier_id);
    if (l.n >= min_count) {
      b.p50_ms = l.p50_ms;
      b.p95_ms = l.p95_ms;
    }
  }
  for (auto& [key, b] : rows) {
    b.verified = reported(b.verified.value_or(0));
    for (auto& [code, n] : b.failed) n = reported(n.value_or(0));
    report.buckets.push_back(std::move(b));
  }
  return report;
}

Outcome<UsageReport> AdminService::usage(UsageQuery query, std::int64_t min_count) {
  if (p_.usage == nullptr) {
    return ApiError{ErrorCode::kNotFound, "", "the usage report is not available on this store"};
  }
  if (query.bucket_ms != kDayMs && query.bucket_ms != kHourMs) {
    return ApiError{ErrorCode::kInvalidRequest, "granularity", "must be day or hour"};
  }
  if (query.to <= query.from) {
    return ApiError{ErrorCode::kInvalidRequest, "to", "must be after from"};
  }
  const bool by_day = query.bucket_ms == kDayMs;
  const std::int64_t max_ms = by_day ? kMaxUsageDays * kDayMs : kMaxUsageHours * kHourMs;
  if (query.to - query.from > max_ms) {
    return ApiError{ErrorCode::kInvalidRequest, "to",
                    by_day ? "the range is at most 366 days by day"
                           : "the range is at most 31 days by hour (use granularity=day)"};
  }
  if (min_count < 1) min_count = 1;
  return usage_report(query, p_.usage->usage(query), min_count);
}

}  // namespace pg::core
