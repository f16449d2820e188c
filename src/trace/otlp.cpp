// OTLP/HTTP JSON export (see otlp.hpp).
#include "trace/otlp.hpp"

#include <pthread.h>

#include <boost/json.hpp>
#include <charconv>

#include "net/http_exchange.hpp"

namespace pg::trace {

namespace json = boost::json;

namespace {

json::object attribute_value(const AttributeValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return {{"stringValue", *s}};
  if (const auto* i = std::get_if<std::int64_t>(&v)) return {{"intValue", std::to_string(*i)}};
  if (const auto* d = std::get_if<double>(&v)) return {{"doubleValue", *d}};
  return {{"boolValue", std::get<bool>(v)}};
}

json::array attributes(const std::vector<std::pair<std::string, AttributeValue>>& attrs) {
  json::array out;
  for (const auto& [k, v] : attrs)
    out.push_back(json::object{{"key", k}, {"value", attribute_value(v)}});
  return out;
}

}  // namespace

std::string encode_otlp_json(const std::vector<SpanData>& spans, std::string_view service,
                             std::string_view version) {
  json::array out;
  for (const SpanData& s : spans) {
    json::object o{{"traceId", to_hex(s.trace_id)},
                   {"spanId", to_hex(s.span_id)},
                   {"name", s.name},
                   {"kind", static_cast<int>(s.kind)},
                   {"startTimeUnixNano", std::to_string(s.start_ns)},
                   {"endTimeUnixNano", std::to_string(s.end_ns)},
                   {"attributes", attributes(s.attributes)}};
    if (!is_zero(s.parent_span_id)) o["parentSpanId"] = to_hex(s.parent_span_id);
    json::object status{{"code", static_cast<int>(s.status)}};
    if (!s.status_message.empty()) status["message"] = s.status_message;
    o["status"] = std::move(status);
    out.push_back(std::move(o));
  }
  json::object scope{{"name", "proofgate"}};
  if (!version.empty()) scope["version"] = version;
  json::object resource{
      {"attributes",
       json::array{json::object{{"key", "service.name"}, {"value", {{"stringValue", service}}}}}}};
  json::object request{
      {"resourceSpans",
       json::array{json::object{
           {"resource", std::move(resource)},
           {"scopeSpans",
            json::array{json::object{{"scope", std::move(scope)}, {"spans", std::move(out)}}}}}}}};
  return json::serialize(request);
}

BatchProcessor::BatchProcessor(ProcessorSettings settings, Sink sink, ExportCounters& counters)
    : s_(std::move(settings)), sink_(std::move(sink)), counters_(counters) {
  thread_ = std::thread([this] { run(); });
}

BatchProcessor::~BatchProcessor() {
  {
    const std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void BatchProcessor::submit(std::vector<SpanData> spans) noexcept {
  std::size_t dropped = 0;
  bool full_batch = false;
  {
    const std::lock_guard lock(mu_);
    for (auto& s : spans) {
      if (queue_.size() >= s_.queue_limit) {
        ++dropped;
        continue;
      }
      try {
        queue_.push_back(std::move(s));
      } catch (...) {
        ++dropped;
      }
    }
    full_batch = queue_.size() >= s_.batch_size;
  }
  if (dropped) counters_.dropped_queue_full += dropped;
  if (full_batch) cv_.notify_one();
}

std::size_t BatchProcessor::queued() const {
  const std::lock_guard lock(mu_);
  return queue_.size();
}

void BatchProcessor::run() {
  // Named so that its CPU can be told from the request threads' (/proc/<pid>/task/*/comm;
  // scripts/bench-cpu.mjs reads it).
  pthread_setname_np(pthread_self(), "pg-otlp-export");
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait_for(lock, s_.interval, [&] { return stop_ || queue_.size() >= s_.batch_size; });
    while (!queue_.empty()) {
      const std::size_t n = std::min(queue_.size(), s_.batch_size);
      std::vector<SpanData> batch(std::make_move_iterator(queue_.begin()),
                                  std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
      lock.unlock();
      bool ok = false;
      try {
        ok = sink_(encode_otlp_json(batch, s_.service, s_.version));
      } catch (...) {
        ok = false;
      }
      (ok ? counters_.exported : counters_.dropped_export_failed) += n;
      lock.lock();
      if (!stop_ && queue_.size() < s_.batch_size) break;  // wait for the next interval
    }
    if (stop_) return;
  }
}

std::variant<Sink, std::string> otlp_http_sink(const std::string& endpoint,
                                               std::chrono::milliseconds timeout) {
  std::string_view rest = endpoint;
  bool tls = false;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    tls = true;
  } else {
    return std::string("otlp_traces_endpoint must start with http:// or https://");
  }
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string target =
      slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  net::Peer peer;
  peer.host_header = std::string(authority);
  std::string_view host = authority;
  std::uint16_t port = tls ? 443 : 80;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return std::string("otlp_traces_endpoint: unclosed [");
    std::string_view after = host.substr(close + 1);
    host = host.substr(1, close - 1);
    peer.host_is_ip = true;
    if (!after.empty()) {
      if (after[0] != ':') return std::string("otlp_traces_endpoint: bad port");
      after.remove_prefix(1);
      if (std::from_chars(after.data(), after.data() + after.size(), port).ec != std::errc{})
        return std::string("otlp_traces_endpoint: bad port");
    }
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    const std::string_view p = host.substr(colon + 1);
    const auto r = std::from_chars(p.data(), p.data() + p.size(), port);
    if (r.ec != std::errc{} || r.ptr != p.data() + p.size() || port == 0)
      return std::string("otlp_traces_endpoint: bad port");
    host = host.substr(0, colon);
  }
  if (host.empty()) return std::string("otlp_traces_endpoint: no host");
  peer.host = std::string(host);
  peer.port = port;
  if (!peer.host_is_ip) {
    peer.host_is_ip = std::all_of(host.begin(), host.end(),
                                  [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  }
  std::shared_ptr<boost::asio::ssl::context> context;
  if (tls) {
    auto made = net::client_tls_context();
    if (auto* e = std::get_if<std::string>(&made)) return "otlp_traces_endpoint: " + *e;
    context = std::move(std::get<std::unique_ptr<boost::asio::ssl::context>>(made));
  }
  return Sink([peer, target, context, timeout](const std::string& body) {
    net::Request r;
    r.method = "POST";
    r.target = target;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = body;
    net::Limits limits;
    limits.timeout = timeout;
    limits.keep_body = false;
    const net::Answer a = net::exchange(peer, r, context.get(), limits);
    return a.answered && a.status >= 200 && a.status < 300;
  });
}

}  // namespace pg::trace
