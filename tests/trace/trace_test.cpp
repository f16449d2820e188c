// pg_trace: W3C traceparent/tracestate parsing (every malformed class starts a new trace), id
// generation, sampling, span nesting, the OTLP JSON encoding's field names, and the batch
// processor dropping (and counting) behind a slow sink without blocking the submitter.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "trace/context.hpp"
#include "trace/otlp.hpp"
#include "trace/span.hpp"

namespace pg::trace {
namespace {

namespace json = boost::json;

// The example of Trace Context §3.2.4.
constexpr std::string_view kSpecExample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(Traceparent, parses_the_specs_example) {
  const auto c = parse_traceparent(kSpecExample);
  ASSERT_TRUE(c);
  EXPECT_EQ(to_hex(c->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(to_hex(c->span_id), "00f067aa0ba902b7");
  EXPECT_EQ(c->flags, 1);
  EXPECT_TRUE(c->sampled());
  EXPECT_EQ(format_traceparent(c->trace_id, c->span_id, c->flags), kSpecExample);
}

TEST(Traceparent, keeps_unsampled_and_other_flag_bits) {
  const auto c = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->sampled());
  const auto d = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->sampled());
}

TEST(Traceparent, refuses_every_malformed_class) {
  const std::string good(kSpecExample);
  const auto with = [&](std::size_t pos, std::string_view part) {
    std::string s = good;
    s.replace(pos, part.size(), part);
    return s;
  };
  const std::vector<std::string> bad{
      "",
      good.substr(0, 54),                           // one short
      good + "0",                                   // one long
      good + "-00",                                 // version 00 has no more fields
      with(0, "01"),                                // another version
      with(0, "ff"),                                // the forbidden version
      with(0, "0A"),                                // not hex
      with(3, "4BF92F3577B34DA6A3CE929D0E0E4736"),  // uppercase trace id
      with(3, "00000000000000000000000000000000"),  // all-zero trace id
      with(36, "0000000000000000"),                 // all-zero parent id
      with(36, "00F067AA0BA902B7"),                 // uppercase parent id
      with(36, "00f067aa0ba902bg"),                 // not hex
      with(53, "0x"),                               // flags not hex
      with(53, "0F"),                               // flags uppercase
      with(2, "_"),                                 // wrong separator
      with(35, "_"),
      with(52, "_"),
      " " + good.substr(0, 54),                                   // leading space
      "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",  // separator misplaced
  };
  for (const auto& s : bad) EXPECT_FALSE(parse_traceparent(s)) << s;
}

TEST(Tracestate, accepts_the_grammar_and_refuses_the_rest) {
  EXPECT_TRUE(valid_tracestate(""));
  EXPECT_TRUE(valid_tracestate("rojo=00f067aa0ba902b7"));
  EXPECT_TRUE(valid_tracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"));
  EXPECT_TRUE(valid_tracestate("rojo=1 , congo=2,,"));  // OWS and empty members
  EXPECT_TRUE(valid_tracestate("tenant1@sys=v"));
  EXPECT_TRUE(valid_tracestate("a=b c"));           // a space inside a value
  EXPECT_FALSE(valid_tracestate("Rojo=1"));         // uppercase key
  EXPECT_FALSE(valid_tracestate("rojo"));           // no value
  EXPECT_FALSE(valid_tracestate("rojo="));          // empty value
  EXPECT_FALSE(valid_tracestate("rojo=a="));        // '=' in the value
  EXPECT_FALSE(valid_tracestate("rojo=1,rojo=2"));  // a key twice
  EXPECT_FALSE(valid_tracestate("rojo=a\x01"));     // control character
  EXPECT_FALSE(valid_tracestate("t@Sys=1"));        // bad system id
  std::string many;
  for (int i = 0; i < 33; ++i) many += "k" + std::to_string(i) + "=v,";
  EXPECT_FALSE(valid_tracestate(many));                                     // 33 members
  EXPECT_FALSE(valid_tracestate("k=" + std::string(kMaxTracestate, 'v')));  // too long
}

TEST(TraceIds, are_random_and_never_zero) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const TraceId t = new_trace_id();
    const SpanId s = new_span_id();
    EXPECT_FALSE(is_zero(t));
    EXPECT_FALSE(is_zero(s));
    seen.insert(to_hex(t));
  }
  EXPECT_EQ(seen.size(), 200u);
  const auto parsed = parse_traceparent(format_traceparent(new_trace_id(), new_span_id(), 1));
  EXPECT_TRUE(parsed);  // what we generate we accept
}

TEST(TraceSampling, follows_the_parent_else_the_ratio) {
  auto parent = parse_traceparent(kSpecExample);
  const TraceId id = new_trace_id();
  EXPECT_TRUE(should_sample(parent, id, 0.0));  // the parent's sampled flag wins
  parent->flags = 0;
  EXPECT_FALSE(should_sample(parent, id, 1.0));
  EXPECT_TRUE(should_sample(std::nullopt, id, 1.0));
  EXPECT_FALSE(should_sample(std::nullopt, id, 0.0));
  int kept = 0;
  for (int i = 0; i < 4000; ++i) kept += should_sample(std::nullopt, new_trace_id(), 0.25);
  EXPECT_GT(kept, 800);
  EXPECT_LT(kept, 1200);
}

TEST(TraceSpans, nest_under_the_server_span_and_record_nothing_outside_a_request) {
  { ScopedSpan orphan("nothing"); }  // no active trace: no effect, no crash
  EXPECT_EQ(current_traceparent(), "");
  const auto incoming = parse_traceparent(kSpecExample);
  RequestTrace trace(incoming, 1.0);
  EXPECT_EQ(trace.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(to_hex(trace.root().parent_span_id), "00f067aa0ba902b7");
  SpanId outer_id{};
  {
    const Activate active(trace);
    ScopedSpan outer("outer");
    outer_id = parse_traceparent(current_traceparent())->span_id;
    {
      ScopedSpan inner("inner");
      inner.fail("PROOF_INVALID");
    }
  }
  EXPECT_EQ(current(), nullptr);
  const auto spans = trace.finish();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].name, "inner");
  EXPECT_EQ(spans[0].parent_span_id, outer_id);
  EXPECT_EQ(spans[0].status, Status::kError);
  EXPECT_EQ(spans[1].name, "outer");
  EXPECT_EQ(spans[1].span_id, outer_id);
  EXPECT_EQ(spans[1].parent_span_id, trace.root().span_id);
  EXPECT_EQ(spans[2].kind, Kind::kServer);
  for (const auto& s : spans) {
    EXPECT_EQ(s.trace_id, trace.trace_id());
    EXPECT_LE(s.start_ns, s.end_ns);
  }
}

TEST(TraceSpans, without_an_exporter_keep_the_ids_and_record_no_span) {
  const auto incoming = parse_traceparent(kSpecExample);
  RequestTrace trace(incoming, 1.0, /*recording=*/false);
  {
    const Activate active(trace);
    ScopedSpan span("checks");
    span.fail("PROOF_INVALID");
    // What a webhook row stores: this trace, parented by the server span.
    const auto stored = parse_traceparent(current_traceparent());
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->trace_id, trace.trace_id());
    EXPECT_EQ(stored->span_id, trace.root().span_id);
  }
  const auto spans = trace.finish();
  ASSERT_EQ(spans.size(), 1u);  // the server span only
  EXPECT_EQ(spans[0].kind, Kind::kServer);
}

TEST(TraceSpans, record_their_threads_cpu_time_no_more_than_their_wall_time) {
  RequestTrace trace(std::nullopt, 1.0);
  std::uint64_t burnt = 0;
  {
    const Activate active(trace);
    ScopedSpan span("checks");
    // Work until this thread has used 2 ms of CPU.
    const std::uint64_t from = thread_cpu_ns();
    volatile std::uint64_t sink = 0;
    while ((burnt = thread_cpu_ns() - from) < 2'000'000) sink = sink + 1;
  }
  const auto spans = trace.finish();
  ASSERT_EQ(spans.size(), 2u);
  const auto& attrs = spans[0].attributes;
  const auto cpu = std::find_if(attrs.begin(), attrs.end(),
                                [](const auto& a) { return a.first == "proofgate.thread_cpu_ns"; });
  ASSERT_NE(cpu, attrs.end());
  const auto ns = static_cast<std::uint64_t>(std::get<std::int64_t>(cpu->second));
  EXPECT_GE(ns, burnt);
  // A thread cannot use more CPU than the wall time it ran (a clock tick of slack).
  EXPECT_LE(ns, spans[0].end_ns - spans[0].start_ns + 1'000'000);
  // The server span (opened on another path, in the server) carries no such attribute.
  for (const auto& a : spans[1].attributes) EXPECT_NE(a.first, "proofgate.thread_cpu_ns");
}

TEST(OtlpJson, encodes_the_export_trace_service_request_field_names) {
  SpanData s;
  s.trace_id = parse_traceparent(kSpecExample)->trace_id;
  s.span_id = new_span_id();
  s.parent_span_id = parse_traceparent(kSpecExample)->span_id;
  s.name = "POST /api/v1/verify";
  s.kind = Kind::kServer;
  s.start_ns = 1700000000123456789ull;
  s.end_ns = 1700000000223456789ull;
  s.set("http.route", std::string("/api/v1/verify"));
  s.set("http.response.status_code", std::int64_t{200});
  s.set("ratio", 0.5);
  s.set("flag", true);
  s.status = Status::kError;
  SpanData root;
  root.trace_id = s.trace_id;
  root.span_id = new_span_id();
  const auto v = json::parse(encode_otlp_json({s, root}, "proofgate", "0.1.0"));
  const auto& rs = v.at("resourceSpans").as_array().at(0);
  EXPECT_EQ(rs.at("resource").at("attributes").at(0).at("key"), "service.name");
  EXPECT_EQ(rs.at("resource").at("attributes").at(0).at("value").at("stringValue"), "proofgate");
  const auto& ss = rs.at("scopeSpans").as_array().at(0);
  EXPECT_EQ(ss.at("scope").at("name"), "proofgate");
  const auto& span = ss.at("spans").as_array().at(0).as_object();
  EXPECT_EQ(span.at("traceId"), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(span.at("spanId").as_string(), to_hex(s.span_id));
  EXPECT_EQ(span.at("parentSpanId"), "00f067aa0ba902b7");
  EXPECT_EQ(span.at("name"), "POST /api/v1/verify");
  EXPECT_EQ(span.at("kind"), 2);                                   // SPAN_KIND_SERVER
  EXPECT_EQ(span.at("startTimeUnixNano"), "1700000000123456789");  // decimal strings
  EXPECT_EQ(span.at("endTimeUnixNano"), "1700000000223456789");
  const auto& attrs = span.at("attributes").as_array();
  ASSERT_EQ(attrs.size(), 4u);
  EXPECT_EQ(attrs[0].at("value").at("stringValue"), "/api/v1/verify");
  EXPECT_EQ(attrs[1].at("value").at("intValue"), "200");  // int64 as a string
  EXPECT_EQ(attrs[2].at("value").at("doubleValue"), 0.5);
  EXPECT_EQ(attrs[3].at("value").at("boolValue"), true);
  EXPECT_EQ(span.at("status").at("code"), 2);  // STATUS_CODE_ERROR
  // A root span has no parentSpanId member at all.
  EXPECT_FALSE(ss.at("spans").as_array().at(1).as_object().contains("parentSpanId"));
}

/// A sink that blocks until released, counting the spans it was given.
struct SlowSink {
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  int calls = 0;
  std::size_t spans = 0;
  bool operator()(const std::string& body) {
    std::unique_lock lock(mu);
    ++calls;
    spans += json::parse(body)
                 .at("resourceSpans")
                 .at(0)
                 .at("scopeSpans")
                 .at(0)
                 .at("spans")
                 .as_array()
                 .size();
    cv.notify_all();
    cv.wait(lock, [&] { return released; });
    return true;
  }
};

std::vector<SpanData> spans_of(std::size_t n) {
  std::vector<SpanData> v(n);
  for (auto& s : v) {
    s.trace_id = new_trace_id();
    s.span_id = new_span_id();
    s.name = "x";
  }
  return v;
}

TEST(TraceBatchProcessor, drops_and_counts_when_the_queue_is_full_behind_a_slow_sink) {
  SlowSink sink;
  ExportCounters counters;
  ProcessorSettings ps;
  ps.queue_limit = 10;
  ps.batch_size = 4;
  ps.interval = std::chrono::milliseconds(50);
  {
    BatchProcessor p(
        ps, [&](const std::string& b) { return sink(b); }, counters);
    p.submit(spans_of(4));  // a full batch: the thread takes it and blocks in the sink
    {
      std::unique_lock lock(sink.mu);
      sink.cv.wait(lock, [&] { return sink.calls == 1; });
    }
    const auto before = std::chrono::steady_clock::now();
    p.submit(spans_of(25));  // 10 fit, 15 are dropped; the call does not wait for the sink
    EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(500));
    EXPECT_EQ(counters.dropped_queue_full.load(), 15u);
    EXPECT_EQ(p.queued(), 10u);
    {
      std::lock_guard lock(sink.mu);
      sink.released = true;
    }
    sink.cv.notify_all();
  }  // the destructor sends what is queued
  EXPECT_EQ(sink.spans, 14u);
  EXPECT_EQ(counters.exported.load(), 14u);
  EXPECT_EQ(counters.dropped_export_failed.load(), 0u);
}

TEST(TraceBatchProcessor, counts_a_failed_export_as_dropped) {
  ExportCounters counters;
  ProcessorSettings ps;
  ps.interval = std::chrono::milliseconds(10);
  {
    BatchProcessor p(
        ps, [](const std::string&) { return false; }, counters);
    p.submit(spans_of(3));
  }
  EXPECT_EQ(counters.dropped_export_failed.load(), 3u);
  EXPECT_EQ(counters.exported.load(), 0u);
}

TEST(OtlpHttpSink, refuses_unusable_endpoints_and_posts_json_to_the_given_port) {
  using namespace std::chrono_literals;
  EXPECT_TRUE(std::holds_alternative<std::string>(otlp_http_sink("ftp://x/v1/traces", 1s)));
  EXPECT_TRUE(std::holds_alternative<std::string>(otlp_http_sink("http://:4318/v1", 1s)));
  EXPECT_TRUE(std::holds_alternative<std::string>(otlp_http_sink("http://h:99999/v1", 1s)));
  EXPECT_TRUE(std::holds_alternative<Sink>(otlp_http_sink("http://127.0.0.1:4318/v1/traces", 1s)));
  // A collector that answers: the batch arrives where the URL says, as JSON.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  std::string received;
  std::thread collector([&] {
    boost::asio::ip::tcp::socket socket(io);
    acceptor.accept(socket);
    boost::asio::streambuf buf;
    boost::system::error_code ec;
    boost::asio::read_until(socket, buf, "\r\n\r\n", ec);
    received.assign(boost::asio::buffers_begin(buf.data()), boost::asio::buffers_end(buf.data()));
    const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    boost::asio::write(socket, boost::asio::buffer(answer), ec);
  });
  auto to_collector =
      std::get<Sink>(otlp_http_sink("http://127.0.0.1:" + std::to_string(port) + "/v1/traces", 5s));
  EXPECT_TRUE(to_collector("{}"));
  collector.join();
  EXPECT_TRUE(received.starts_with("POST /v1/traces HTTP/1.1\r\n")) << received;
  EXPECT_NE(received.find("Content-Type: application/json"), std::string::npos) << received;
  // A closed port: the sink says false within its timeout, it does not throw.
  auto sink = std::get<Sink>(otlp_http_sink("http://127.0.0.1:1/v1/traces", 500ms));
  EXPECT_FALSE(sink("{}"));
}

}  // namespace
}  // namespace pg::trace
