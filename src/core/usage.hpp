// The usage report (GET /api/admin/usage): verified and failed proofs per time bucket, claim type
// and partner, failures by error code, p50/p95 processing time; counts below a threshold k are
// suppressed so that usage cannot single out one person. The storage port and the report.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/model.hpp"

namespace pg::core {

inline constexpr std::int64_t kHourMs = 3'600'000;
inline constexpr std::int64_t kDayMs = 86'400'000;
/// The widest range per granularity: 366 days by day, 31 days by hour.
inline constexpr std::int64_t kMaxUsageDays = 366, kMaxUsageHours = 31 * 24;

/// What to count: proofs with from <= created_at < to, in UTC buckets of bucket_ms (aligned on the
/// Unix epoch), only of claim_type / verifier_id when they are not empty.
struct UsageQuery {
  UnixMillis from = 0, to = 0;
  std::int64_t bucket_ms = kDayMs;
  std::string claim_type, verifier_id;
};

/// Proofs of one bucket, claim type, partner, status and error code ("" when verified).
struct UsageCount {
  UnixMillis bucket = 0;  // the bucket's start
  std::string claim_type, verifier_id, status, error_code;
  std::int64_t count = 0;
};

/// Processing time of one bucket, claim type and partner over its proofs with a known latency:
/// nearest-rank percentiles (the value at rank ceil(p * n) in ascending order).
struct UsageLatency {
  UnixMillis bucket = 0;
  std::string claim_type, verifier_id;
  std::int64_t n = 0, p50_ms = 0, p95_ms = 0;
};

struct UsageData {
  std::vector<UsageCount> counts;       // ordered by bucket, claim_type, verifier_id
  std::vector<UsageLatency> latencies;  // the same order
};

/// Usage storage. Safe to call from several threads at once; throws StoreError when the storage
/// fails.
class UsageStore {
 public:
  virtual ~UsageStore() = default;
  virtual UsageData usage(const UsageQuery& query) = 0;
};

/// A count as reported: nullopt when it is below k (suppressed, presented as "<k").
using ReportedCount = std::optional<std::int64_t>;

/// One row of the report.
struct UsageBucket {
  UnixMillis start = 0;
  std::string claim_type, verifier_id;
  ReportedCount verified;
  std::map<std::string, ReportedCount> failed;  // by error code
  /// Over every proof of the row with a known latency; both nullopt when that count is below k.
  std::optional<std::int64_t> p50_ms, p95_ms;
};

struct UsageReport {
  UsageQuery query;
  std::int64_t min_count = 5;  // k
  std::vector<UsageBucket> buckets;
};

/// Builds the report from the store's data: one row per bucket, claim type and partner with any
/// proof; every count below `min_count` suppressed, and the percentiles when fewer than
/// `min_count` proofs have a latency.
UsageReport usage_report(const UsageQuery& query, const UsageData& data, std::int64_t min_count);

}  // namespace pg::core
