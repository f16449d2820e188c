// OAuth2 client credentials over HTTP (RFC 6749 §4.4): POST /oauth/token, GET
// /.well-known/jwks.json and the admin route that rotates a partner's client secret. Decodes the
// form and the client authentication, calls core::OAuthService, answers RFC 6749 §5.1/§5.2 JSON.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/oauth.hpp"
#include "http/message.hpp"
#include "http/routes.hpp"

namespace pg::http {

class AdminApi;

/// An application/x-www-form-urlencoded body's parameters in order (WHATWG URL §5.1: '+' is a
/// space, %XX a byte); nullopt for a malformed percent escape.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view body);

/// The credentials of an `Authorization: Basic` value (RFC 6749 §2.3.1: base64 of
/// form-urlencoded id ":" form-urlencoded secret); nullopt when it is not Basic or malformed.
std::optional<std::pair<std::string, std::string>> basic_credentials(
    std::string_view authorization);

class OAuthApi {
 public:
  /// `admin` (may be null: the rotation route answers NOT_FOUND) admits the rotation's caller.
  OAuthApi(core::OAuthService& oauth, core::OAuthStore& store, AdminApi* admin,
           const core::Clock& clock)
      : oauth_(oauth), store_(store), admin_(admin), clock_(clock) {}

  HttpReply handle(RouteId route, const HttpRequest& request,
                   const std::vector<std::string_view>& params);

 private:
  HttpReply token(const HttpRequest& request);

  core::OAuthService& oauth_;
  core::OAuthStore& store_;
  AdminApi* admin_;
  const core::Clock& clock_;
};

}  // namespace pg::http
