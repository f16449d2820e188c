// What tracing costs one verification, without the noise of a whole server on a shared machine
// (scripts/bench-cpu.mjs runs it beside its /proc figures): the spans of the verify path opened
// and closed as the server does, with no exporter (ids only), recorded then discarded (sampled
// out), and the OTLP JSON encoding the export thread does, per verification of a full batch.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trace/otlp.hpp"
#include "trace/span.hpp"

namespace {

using pg::trace::Activate;
using pg::trace::RequestTrace;
using pg::trace::ScopedSpan;
using pg::trace::SpanData;

/// One verification's trace as the server and the verify path make it: the server span with its
/// attributes, authenticate (rate_limit under it), decode, idempotency, nonce, checks, pairing
/// and commit.
std::vector<SpanData> verify_trace(bool recording) {
  RequestTrace trace(std::nullopt, 1.0, recording);
  {
    const Activate active(trace);
    {
      ScopedSpan authenticate("authenticate");
      ScopedSpan rate_limit("rate_limit");
    }
    for (const char* name : {"decode", "idempotency", "nonce", "checks", "pairing", "commit"}) {
      ScopedSpan span(name);
    }
  }
  auto& root = trace.root();
  root.name = "POST /api/v1/verify";
  root.set("http.request.method", std::string("POST"));
  root.set("http.route", std::string("/api/v1/verify"));
  root.set("http.response.status_code", std::int64_t{200});
  root.set("proofgate.partner.mode", std::string("live"));
  root.set("proofgate.claim_type", std::string("age_over_18"));
  root.set("proofgate.circuit_version", std::string("9.0.0"));
  return trace.finish();
}

/// Tracing off (no endpoint): the ids, the server span, no internal span recorded.
void BM_verify_trace_not_recording(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(verify_trace(false));
}
BENCHMARK(BM_verify_trace_not_recording);

/// An endpoint set, the trace sampled out: every span recorded, then thrown away.
void BM_verify_trace_recorded(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(verify_trace(true));
}
BENCHMARK(BM_verify_trace_recorded);

/// The export thread's encoding, per verification: one batch of 56 verifications' spans (504,
/// just under the 512 that make a batch leave), divided by 56 through the iteration count.
void BM_verify_trace_encoded(benchmark::State& state) {
  constexpr int kVerifies = 56;
  std::vector<SpanData> batch;
  for (int i = 0; i < kVerifies; ++i) {
    for (auto& s : verify_trace(true)) batch.push_back(std::move(s));
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(pg::trace::encode_otlp_json(batch, "proofgate", "0.1.0"));
  }
  state.SetItemsProcessed(state.iterations() * kVerifies);
}
BENCHMARK(BM_verify_trace_encoded);

}  // namespace

BENCHMARK_MAIN();
