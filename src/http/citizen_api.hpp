// Citizens' accounts over HTTP (/api/v1/account, docs/citizens.md): decodes nothing itself (the
// bodies go to core::CitizenService), checks the content type and the bearer token, presents.
#pragma once

#include <string_view>
#include <vector>

#include "core/citizens.hpp"
#include "http/message.hpp"
#include "http/routes.hpp"

namespace pg::http {

class CitizenApi {
 public:
  explicit CitizenApi(core::CitizenService& citizens) : citizens_(citizens) {}
  /// The answer for one of the account routes.
  HttpReply handle(RouteId route, const HttpRequest& request);

 private:
  core::CitizenService& citizens_;
};

}  // namespace pg::http
