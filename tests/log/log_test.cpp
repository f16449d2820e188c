// The JSON-lines logger: every key and value escaped (quotes, backslashes, control characters,
// invalid UTF-8), one object per line even from many threads, levels, and the request id.
#include "log/log.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <limits>
#include <sstream>
#include <thread>
#include <vector>

namespace pg::log {
namespace {

namespace json = boost::json;

std::string escaped(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::vector<json::object> lines_of(const std::string& text) {
  std::vector<json::object> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line).as_object());  // throws if not
  return out;
}

TEST(JsonString, escapes_quotes_backslashes_and_control_characters) {
  EXPECT_EQ(escaped(R"(a"b\c)"), R"("a\"b\\c")");
  EXPECT_EQ(escaped("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(escaped(std::string("\x00\x01\x1f\x7f", 4)), R"("\u0000\u0001\u001f\u007f")");
  EXPECT_EQ(escaped("/ <script>"), R"("/ <script>")");
  // Line and paragraph separators end a line in JavaScript: escaped too.
  EXPECT_EQ(escaped("a\u2028b\u2029"), R"("a\u2028b\u2029")");
}

TEST(JsonString, keeps_well_formed_utf8) {
  for (const std::string s : {"é", "€", "😀", "\xF4\x8F\xBF\xBF", "\xEF\xBF\xBD", "日本"}) {
    EXPECT_EQ(escaped(s), "\"" + s + "\"");
    EXPECT_EQ(json::parse(escaped(s)).as_string(), s);
  }
}

TEST(JsonString, replaces_each_ill_formed_utf8_byte) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"\x80", R"("\ufffd")"},                                // lone continuation byte
      {"\xFF", R"("\ufffd")"},                                // never in UTF-8
      {"\xC0\xAF", R"("\ufffd\ufffd")"},                      // overlong '/'
      {"\xE0\x80\xAF", R"("\ufffd\ufffd\ufffd")"},            // overlong, 3 bytes
      {"\xED\xA0\x80", R"("\ufffd\ufffd\ufffd")"},            // UTF-16 surrogate
      {"\xF4\x90\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")"},  // past U+10FFFF
      {"a\xE2\x82", R"("a\ufffd\ufffd")"},                    // cut short at the end
      {"\xE2\x82z", R"("\ufffd\ufffdz")"},                    // cut short before ASCII
      {"\xC3\"", R"("\ufffd\"")"},                            // a quote never hides in a sequence
  };
  for (const auto& [in, want] : cases) {
    SCOPED_TRACE(want);
    EXPECT_EQ(escaped(in), want);
    EXPECT_NO_THROW(json::parse(escaped(in)));
  }
}

TEST(JsonString, every_byte_string_of_length_two_gives_valid_json) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const std::string s{static_cast<char>(a), static_cast<char>(b)};
      const std::string e = escaped(s);
      json::error_code ec;
      (void)json::parse(e, ec);
      ASSERT_FALSE(ec) << a << " " << b << " " << e;
      ASSERT_EQ(e.find('\n'), std::string::npos);
    }
  }
}

TEST(FormatLine, writes_keys_in_order_and_every_value_kind) {
  std::string out;
  const std::vector<Field> fields{{"s", "x\"y"},
                                  {"i", -3},
                                  {"u", std::uint64_t{18446744073709551615u}},
                                  {"d", 0.25},
                                  {"nan", std::numeric_limits<double>::quiet_NaN()},
                                  {"inf", std::numeric_limits<double>::infinity()},
                                  {"b", true},
                                  {"k\"ey\n", "v"}};
  format_line(out, std::chrono::system_clock::time_point(std::chrono::milliseconds(1764929044123)),
              Level::kWarn, "hello\nworld", "req-1", fields);
  EXPECT_EQ(out, R"({"time":"2025-12-05T10:04:04.123Z","level":"warn","msg":"hello\nworld",)"
                 R"("request_id":"req-1","s":"x\"y","i":-3,"u":18446744073709551615,"d":0.25,)"
                 R"("nan":null,"inf":null,"b":true,"k\"ey\n":"v"})");
  EXPECT_NO_THROW(json::parse(out));
}

TEST(FormatLine, leaves_out_an_empty_request_id) {
  std::string out;
  format_line(out, {}, Level::kInfo, "listening", "", std::vector<Field>{{"address", "a:1"}});
  EXPECT_NE(out.find(R"("msg":"listening","address":"a:1")"), std::string::npos) << out;
}

class LoggerTest : public ::testing::Test {
 protected:
  ~LoggerTest() override { init(Level::kInfo); }  // back to stderr/stdout for other tests
  std::ostringstream events_, requests_;
};

TEST_F(LoggerTest, events_and_requests_go_to_their_streams_one_object_per_line) {
  init(Level::kInfo, events_, requests_);
  info("listening", {{"address", "127.0.0.1:1"}});
  request({{"method", "GET"}, {"status", 200}});
  error("bad\r\nline\x01", {{"error", "\xFF"}});
  const auto events = lines_of(events_.str());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("msg"), "listening");
  EXPECT_EQ(events[0].at("level"), "info");
  EXPECT_EQ(events[0].at("address"), "127.0.0.1:1");
  EXPECT_EQ(events[1].at("level"), "error");
  EXPECT_EQ(events[1].at("msg"), "bad\r\nline\x01");
  EXPECT_EQ(events[1].at("error"), "\xEF\xBF\xBD");
  const auto requests = lines_of(requests_.str());
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].at("msg"), "request");
  EXPECT_EQ(requests[0].at("status"), 200);
}

TEST_F(LoggerTest, fields_built_at_run_time_are_written_like_listed_ones) {
  init(Level::kInfo, events_, requests_);
  std::vector<Field> fields{{"method", "GET"}, {"status", 404}};
  const std::string code = "NOT_FOUND";
  fields.emplace_back("error_code", code);
  write_request(fields);
  write(Level::kWarn, "w", fields);
  const auto r = lines_of(requests_.str()).at(0);
  EXPECT_EQ(r.at("msg"), "request");
  EXPECT_EQ(r.at("error_code"), "NOT_FOUND");
  EXPECT_EQ(lines_of(events_.str()).at(0).at("level"), "warn");
}

TEST_F(LoggerTest, lines_below_the_level_are_dropped) {
  init(Level::kWarn, events_, requests_);
  debug("d");
  info("i");
  request({{"status", 200}});
  warn("w");
  error("e");
  const auto events = lines_of(events_.str());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("msg"), "w");
  EXPECT_EQ(events[1].at("msg"), "e");
  EXPECT_EQ(requests_.str(), "");
  init(Level::kDebug, events_, requests_);
  debug("d2");
  EXPECT_EQ(lines_of(events_.str()).back().at("level"), "debug");
  EXPECT_EQ(parse_level("warn"), Level::kWarn);
  EXPECT_EQ(parse_level("WARN"), std::nullopt);
}

TEST_F(LoggerTest, lines_logged_in_a_request_scope_carry_its_id) {
  init(Level::kInfo, events_, requests_);
  info("before");
  {
    const std::string id = "r-\"1\"";
    RequestScope scope(id);
    info("inside");
    {
      RequestScope inner("r-2");
      info("nested");
    }
    request({{"status", 200}});
    info("inside again");
  }
  info("after");
  const auto events = lines_of(events_.str());
  ASSERT_EQ(events.size(), 5u);
  EXPECT_FALSE(events[0].contains("request_id"));
  EXPECT_EQ(events[1].at("request_id"), "r-\"1\"");
  EXPECT_EQ(events[2].at("request_id"), "r-2");
  EXPECT_EQ(events[3].at("request_id"), "r-\"1\"");
  EXPECT_FALSE(events[4].contains("request_id"));
  EXPECT_EQ(lines_of(requests_.str()).at(0).at("request_id"), "r-\"1\"");
}

TEST_F(LoggerTest, lines_logged_in_a_traced_request_carry_its_trace_id) {
  init(Level::kInfo, events_, requests_);
  {
    RequestScope scope("r-1", "4bf92f3577b34da6a3ce929d0e0e4736");
    info("inside");
    request({{"status", 500}});
    {
      RequestScope untraced("r-2");
      info("nested without a trace");
    }
    info("inside again");
  }
  info("after");
  const auto events = lines_of(events_.str());
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].at("trace_id"), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_FALSE(events[1].contains("trace_id"));
  EXPECT_EQ(events[2].at("trace_id"), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_FALSE(events[3].contains("trace_id"));
  EXPECT_EQ(lines_of(requests_.str()).at(0).at("trace_id"), "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(FormatLine, puts_the_trace_id_after_the_request_id) {
  std::string out;
  format_line(out, {}, Level::kInfo, "m", "r", "abc", std::vector<Field>{{"k", "v"}});
  EXPECT_NE(out.find(R"("request_id":"r","trace_id":"abc","k":"v")"), std::string::npos) << out;
}

TEST_F(LoggerTest, concurrent_lines_never_interleave) {
  init(Level::kInfo, events_, requests_);
  constexpr int kThreads = 4, kLines = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      const std::string id = "thread-" + std::to_string(t);
      RequestScope scope(id);
      for (int i = 0; i < kLines; ++i)
        info("line", {{"t", t}, {"i", i}, {"pad", std::string(200, 'x')}});
    });
  }
  for (auto& th : threads) th.join();
  const auto events = lines_of(events_.str());
  ASSERT_EQ(events.size(), static_cast<std::size_t>(kThreads * kLines));
  for (const auto& e : events)
    EXPECT_EQ(e.at("request_id").as_string(), "thread-" + std::to_string(e.at("t").as_int64()));
}

}  // namespace
}  // namespace pg::log
