// Structured logging: one JSON object per line, every key and string value escaped, with a level
// and, while a request is handled, its request id. Events go to stderr, request lines to stdout.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace pg::log {

enum class Level { kDebug, kInfo, kWarn, kError };

/// "debug" | "info" | "warn" | "error" → the level; nullopt for anything else.
std::optional<Level> parse_level(std::string_view name) noexcept;
/// The level's name as written in the "level" field.
std::string_view level_name(Level level) noexcept;

/// A field's value: text is escaped; integers, finite numbers and booleans are JSON literals
/// (a NaN or infinite number is written null).
using Value = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;

/// One key/value of a line. Holds views: valid for the call it is passed to, as a braced list
/// `{{"key", value}, ...}`, which is how every caller uses it.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>) Field(std::string_view k, T v)
      : key(k) {
    if constexpr (std::is_signed_v<T>)
      value = static_cast<std::int64_t>(v);
    else
      value = static_cast<std::uint64_t>(v);
  }

  std::string_view key;
  Value value;
};
using Fields = std::initializer_list<Field>;

/// Appends `s` as a JSON string (RFC 8259 §7): quotes and backslashes escaped, control characters
/// and DEL as \b \f \n \r \t or \u00XX, U+2028/U+2029 as \u2028/\u2029 (JavaScript line ends),
/// and each byte that is not part of well-formed UTF-8 (RFC 3629 §4: no overlongs, surrogates or
/// code points past U+10FFFF) as \ufffd. The output is always valid JSON and valid UTF-8.
void append_json_string(std::string& out, std::string_view s);

/// Appends one log object without a newline, keys in this order: time (RFC 3339, UTC,
/// milliseconds), level, msg, request_id (when not empty), trace_id (when not empty), then
/// `fields` in their order.
void format_line(std::string& out, std::chrono::system_clock::time_point time, Level level,
                 std::string_view msg, std::string_view request_id, std::string_view trace_id,
                 std::span<const Field> fields);
inline void format_line(std::string& out, std::chrono::system_clock::time_point time, Level level,
                        std::string_view msg, std::string_view request_id,
                        std::span<const Field> fields) {
  format_line(out, time, level, msg, request_id, {}, fields);
}

/// Sets the lowest level written and where lines go (events: every line but requests; requests:
/// the lines of `request`). Call once at start, before other threads log; until then lines at
/// info and above go to std::cerr and std::cout. Each line is flushed as it is written.
void init(Level min_level, std::ostream& events, std::ostream& requests);
void init(Level min_level);

void debug(std::string_view msg, Fields fields = {});
void info(std::string_view msg, Fields fields = {});
void warn(std::string_view msg, Fields fields = {});
void error(std::string_view msg, Fields fields = {});
/// The one line (at info, "msg":"request") written for each answered HTTP request.
void request(Fields fields);

/// The same with fields built at run time (e.g. some present only when set).
void write(Level level, std::string_view msg, std::span<const Field> fields);
void write_request(std::span<const Field> fields);

/// While alive, every line this thread logs carries "request_id": `id`, and "trace_id":
/// `trace_id` when not empty (the previous ones, if any, come back when it ends). Both must
/// outlive the scope.
class RequestScope {
 public:
  explicit RequestScope(std::string_view id, std::string_view trace_id = {}) noexcept;
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string_view previous_;
  std::string_view previous_trace_;
};

}  // namespace pg::log
