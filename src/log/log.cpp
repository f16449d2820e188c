// The JSON-lines logger (see log.hpp): spdlog loggers whose one formatter builds each line.
#include "log/log.hpp"

#include <spdlog/formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>
#include <ctime>
#include <iostream>
#include <memory>

namespace pg::log {

namespace {

// The line being logged on this thread: spdlog's synchronous loggers format in the caller's
// thread, so the formatter reads the fields and the request id from here.
thread_local std::span<const Field> tl_fields;
thread_local std::string_view tl_request_id;
thread_local std::string_view tl_trace_id;

constexpr char kHex[] = "0123456789abcdef";

/// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629 §4), 0 when ill-formed.
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k) { return i + k < s.size() && (at(k) & 0xC0) == 0x80; };
  const unsigned char c = at(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && at(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && at(1) > 0x9F) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && at(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && at(1) > 0x8F) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

void append_value(std::string& out, const Value& v) {
  if (const auto* s = std::get_if<std::string_view>(&v)) {
    append_json_string(out, *s);
    return;
  }
  if (const auto* b = std::get_if<bool>(&v)) {
    out += *b ? "true" : "false";
    return;
  }
  char buf[64];
  std::to_chars_result r{};
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    r = std::to_chars(buf, buf + sizeof buf, *i);
  } else if (const auto* u = std::get_if<std::uint64_t>(&v)) {
    r = std::to_chars(buf, buf + sizeof buf, *u);
  } else {
    const double d = std::get<double>(v);
    if (!std::isfinite(d)) {
      out += "null";  // JSON has no NaN or infinity
      return;
    }
    r = std::to_chars(buf, buf + sizeof buf, d);
  }
  out.append(buf, r.ptr);
}

void append_time(std::string& out, std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  out.append(buf, n);
  const auto frac = static_cast<int>(ms.count() % 1000);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + frac / 100));
  out.push_back(static_cast<char>('0' + frac / 10 % 10));
  out.push_back(static_cast<char>('0' + frac % 10));
  out.push_back('Z');
}

spdlog::level::level_enum to_spdlog(Level l) noexcept {
  switch (l) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      break;
  }
  return spdlog::level::err;
}

Level from_spdlog(spdlog::level::level_enum l) noexcept {
  if (l <= spdlog::level::debug) return Level::kDebug;
  if (l == spdlog::level::info) return Level::kInfo;
  if (l == spdlog::level::warn) return Level::kWarn;
  return Level::kError;
}

/// The one formatter of every sink: the whole line from the message and this thread's fields.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& m, spdlog::memory_buf_t& dest) override {
    std::string line;
    format_line(line, m.time, from_spdlog(m.level),
                std::string_view(m.payload.data(), m.payload.size()), tl_request_id, tl_trace_id,
                tl_fields);
    line.push_back('\n');
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

std::shared_ptr<spdlog::logger> make_logger(const char* name, std::ostream& out, Level min) {
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out, /*force_flush=*/true);
  sink->set_formatter(std::make_unique<JsonFormatter>());
  auto logger = std::make_shared<spdlog::logger>(name, std::move(sink));
  logger->set_level(to_spdlog(min));
  logger->flush_on(spdlog::level::trace);
  return logger;
}

struct Loggers {
  std::shared_ptr<spdlog::logger> events = make_logger("events", std::cerr, Level::kInfo);
  std::shared_ptr<spdlog::logger> requests = make_logger("requests", std::cout, Level::kInfo);
};

Loggers& loggers() {
  static Loggers l;
  return l;
}

void write_to(spdlog::logger& logger, Level level, std::string_view msg,
              std::span<const Field> fields) {
  if (!logger.should_log(to_spdlog(level))) return;
  tl_fields = fields;
  logger.log(to_spdlog(level), spdlog::string_view_t(msg.data(), msg.size()));
  tl_fields = {};
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) noexcept {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn") return Level::kWarn;
  if (name == "error") return Level::kError;
  return std::nullopt;
}

std::string_view level_name(Level level) noexcept {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      break;
  }
  return "error";
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const std::size_t n = utf8_length(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
    } else if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 3;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  out.push_back('"');
}

void format_line(std::string& out, std::chrono::system_clock::time_point time, Level level,
                 std::string_view msg, std::string_view request_id, std::string_view trace_id,
                 std::span<const Field> fields) {
  out += "{\"time\":\"";
  append_time(out, time);
  out += "\",\"level\":\"";
  out += level_name(level);
  out += "\",\"msg\":";
  append_json_string(out, msg);
  if (!request_id.empty()) {
    out += ",\"request_id\":";
    append_json_string(out, request_id);
  }
  if (!trace_id.empty()) {
    out += ",\"trace_id\":";
    append_json_string(out, trace_id);
  }
  for (const Field& f : fields) {
    out.push_back(',');
    append_json_string(out, f.key);
    out.push_back(':');
    append_value(out, f.value);
  }
  out.push_back('}');
}

void init(Level min_level, std::ostream& events, std::ostream& requests) {
  Loggers& l = loggers();
  l.events = make_logger("events", events, min_level);
  l.requests = make_logger("requests", requests, min_level);
}

void init(Level min_level) {
  init(min_level, std::cerr, std::cout);
}

void write(Level level, std::string_view msg, std::span<const Field> fields) {
  write_to(*loggers().events, level, msg, fields);
}
void write_request(std::span<const Field> fields) {
  write_to(*loggers().requests, Level::kInfo, "request", fields);
}
void debug(std::string_view msg, Fields fields) {
  write(Level::kDebug, msg, {fields.begin(), fields.size()});
}
void info(std::string_view msg, Fields fields) {
  write(Level::kInfo, msg, {fields.begin(), fields.size()});
}
void warn(std::string_view msg, Fields fields) {
  write(Level::kWarn, msg, {fields.begin(), fields.size()});
}
void error(std::string_view msg, Fields fields) {
  write(Level::kError, msg, {fields.begin(), fields.size()});
}
void request(Fields fields) {
  write_request({fields.begin(), fields.size()});
}

RequestScope::RequestScope(std::string_view id, std::string_view trace_id) noexcept
    : previous_(tl_request_id), previous_trace_(tl_trace_id) {
  tl_request_id = id;
  tl_trace_id = trace_id;
}
RequestScope::~RequestScope() {
  tl_request_id = previous_;
  tl_trace_id = previous_trace_;
}

}  // namespace pg::log
