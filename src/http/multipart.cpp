// multipart/form-data parsing (see multipart.hpp).
#include "http/multipart.hpp"

#include <algorithm>
#include <cctype>

namespace pg::http {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// RFC 2046 §5.1.1 bchars: digits, letters and '()+_,-./:=? and space (not last), 1..70 of them.
bool is_boundary(std::string_view b) {
  if (b.empty() || b.size() > 70 || b.back() == ' ') return false;
  return std::all_of(b.begin(), b.end(), [](unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("'()+_,-./:=? ").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

/// Parameters of a header value after its first ';': name -> value (quoted strings without
/// escapes, or tokens). False when malformed.
bool parameters(std::string_view rest, std::vector<std::pair<std::string, std::string>>& out) {
  while (true) {
    rest = trim(rest);
    if (rest.empty()) return true;
    if (rest.front() != ';') return false;
    rest = trim(rest.substr(1));
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    const std::string name = lower(trim(rest.substr(0, eq)));
    rest = trim(rest.substr(eq + 1));
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      const auto close = rest.find('"', 1);
      if (close == std::string_view::npos) return false;
      value = std::string(rest.substr(1, close - 1));
      if (value.find('\\') != std::string::npos) return false;  // no escapes: names are plain
      rest = rest.substr(close + 1);
    } else {
      const auto end = rest.find(';');
      value = std::string(trim(rest.substr(0, end)));
      if (value.empty()) return false;
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    }
    out.emplace_back(name, std::move(value));
  }
}

}  // namespace

std::variant<std::string, std::string> multipart_boundary(std::string_view content_type) {
  const auto semi = content_type.find(';');
  if (lower(trim(content_type.substr(0, semi))) != "multipart/form-data")
    return std::variant<std::string, std::string>(
        std::in_place_index<1>, "Content-Type must be multipart/form-data with a boundary");
  std::vector<std::pair<std::string, std::string>> params;
  if (semi == std::string_view::npos)
    return std::variant<std::string, std::string>(std::in_place_index<1>,
                                                  "the Content-Type has no boundary parameter");
  if (!parameters(content_type.substr(semi), params))
    return std::variant<std::string, std::string>(std::in_place_index<1>,
                                                  "the Content-Type's parameters are malformed");
  for (const auto& [k, v] : params) {
    if (k != "boundary") continue;
    if (!is_boundary(v))
      return std::variant<std::string, std::string>(
          std::in_place_index<1>, "the boundary must be 1 to 70 characters of RFC 2046 bchars");
    return std::variant<std::string, std::string>(std::in_place_index<0>, v);
  }
  return std::variant<std::string, std::string>(std::in_place_index<1>,
                                                "the Content-Type has no boundary parameter");
}

std::variant<std::vector<FormPart>, std::string> parse_multipart(std::string_view content_type,
                                                                 std::string_view body,
                                                                 std::size_t max_parts) {
  using R = std::variant<std::vector<FormPart>, std::string>;
  const auto fail = [](std::string why) { return R(std::in_place_index<1>, std::move(why)); };
  auto b = multipart_boundary(content_type);
  if (b.index() == 1) return fail(std::get<1>(b));
  const std::string dash = "--" + std::get<0>(b);
  const std::string delimiter = "\r\n" + dash;
  // The first delimiter: at the start, or after a preamble ending in CRLF.
  std::size_t pos;
  if (body.substr(0, dash.size()) == dash) {
    pos = dash.size();
  } else {
    const auto at = body.find(delimiter);
    if (at == std::string_view::npos) return fail("no part: the boundary does not occur");
    pos = at + delimiter.size();
  }
  std::vector<FormPart> parts;
  while (true) {
    // After a delimiter: "--" ends the body, else optional transport padding and CRLF.
    if (body.substr(pos, 2) == "--") {
      if (parts.empty()) return fail("no part before the closing delimiter");
      return R(std::in_place_index<0>, std::move(parts));
    }
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") return fail("a delimiter line does not end with CRLF");
    pos += 2;
    if (parts.size() == max_parts) return fail("more than " + std::to_string(max_parts) + " parts");
    FormPart part;
    bool disposition = false;
    // Header lines until an empty one.
    while (true) {
      const auto eol = body.find("\r\n", pos);
      if (eol == std::string_view::npos) return fail("a part's header does not end");
      const std::string_view line = body.substr(pos, eol - pos);
      pos = eol + 2;
      if (line.empty()) break;
      if (line.size() > 1024) return fail("a part's header line is longer than 1024 bytes");
      const auto colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0)
        return fail("a part's header line has no name");
      const std::string name = lower(line.substr(0, colon));
      const std::string_view value = trim(line.substr(colon + 1));
      if (name == "content-disposition") {
        if (disposition) return fail("a part has two Content-Disposition headers");
        disposition = true;
        const auto semi = value.find(';');
        if (lower(trim(value.substr(0, semi))) != "form-data")
          return fail("a part's Content-Disposition is not form-data");
        std::vector<std::pair<std::string, std::string>> params;
        if (semi == std::string_view::npos || !parameters(value.substr(semi), params))
          return fail("a part's Content-Disposition parameters are malformed");
        bool named = false;
        for (auto& [k, v] : params) {
          if (k == "name") {
            part.name = std::move(v);
            named = true;
          } else if (k == "filename") {
            part.filename = std::move(v);
          }
        }
        if (!named || part.name.empty()) return fail("a part's Content-Disposition has no name");
      } else if (name == "content-type") {
        part.content_type = std::string(value);
      }
      // Other part headers (Content-Transfer-Encoding is deprecated by RFC 7578 §4.7) are
      // ignored: the content is taken as the bytes it is.
    }
    if (!disposition) return fail("a part has no Content-Disposition");
    const auto end = body.find(delimiter, pos);
    if (end == std::string_view::npos) return fail("the body ends without the closing delimiter");
    part.body = body.substr(pos, end - pos);
    for (const FormPart& p : parts) {
      if (p.name == part.name) return fail("two parts are named '" + part.name + "'");
    }
    parts.push_back(std::move(part));
    pos = end + delimiter.size();
  }
}

}  // namespace pg::http
