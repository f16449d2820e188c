// One HTTP request as the handlers see it, and the answer they give: no sockets, no Beast types,
// so handlers are tested and benchmarked as plain functions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pg::http {

struct HttpRequest {
  std::string_view method;
  std::string_view target;
  std::string_view authorization;
  std::string_view content_type;
  std::optional<std::string_view> idempotency_key;
  std::string_view if_none_match;
  std::string_view accept;
  std::string_view body;
  std::string_view peer_address;  // the client's IP address, for per-address limits
  std::string_view cookie;        // the Cookie header (admin sessions)
  std::string_view csrf_token;    // X-CSRF-Token (admin sessions' state changes)
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::shared_ptr<const std::string> shared_body;  // large immutable bodies (artifacts, assets)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string error_code;  // for the log line
  std::string partner_id;  // for the log line
  std::string mode;        // for the log line: the partner client's mode, "live" | "test"
  std::string route = "unmatched";
};

}  // namespace pg::http
