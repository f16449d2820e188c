// multipart/form-data bodies (RFC 7578 on RFC 2046 §5.1), as `curl -F name=@file` sends them:
// the circuit upload (POST /api/admin/circuits) carries one part per file. Strict: the boundary
// from the Content-Type, every part with `Content-Disposition: form-data; name="..."`, CRLF line
// ends, the closing delimiter present, no duplicate names, at most `max_parts` parts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pg::http {

struct FormPart {
  std::string name;
  std::string filename;      // empty when the part has none
  std::string content_type;  // empty when the part has none
  std::string_view body;     // into the request body
};

/// The boundary parameter of a multipart/form-data Content-Type, or why there is none.
std::variant<std::string, std::string> multipart_boundary(std::string_view content_type);

/// The parts of `body`, or why it is not a well-formed multipart/form-data body.
std::variant<std::vector<FormPart>, std::string> parse_multipart(std::string_view content_type,
                                                                 std::string_view body,
                                                                 std::size_t max_parts = 16);

}  // namespace pg::http
