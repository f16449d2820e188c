// Citizens' accounts over HTTP (see citizen_api.hpp).
#include "http/citizen_api.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <optional>
#include <string>

#include "core/service.hpp"
#include "http/presenter.hpp"

namespace pg::http {

namespace json = boost::json;

namespace {

bool is_json(std::string_view ct) {
  std::string base(ct.substr(0, ct.find(';')));
  while (!base.empty() && base.back() == ' ') base.pop_back();
  for (char& c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return base == "application/json";
}

/// Account answers are personal: never cached, and (when they hold text for the citizen) in the
/// language they are written in.
HttpReply personal(HttpReply r, std::optional<core::Language> language) {
  r.headers.emplace_back("Cache-Control", "no-store");
  if (language)
    r.headers.emplace_back("Content-Language", std::string(core::language_name(*language)));
  return r;
}

HttpReply ok(const json::object& body, std::optional<core::Language> language, int status = 200) {
  HttpReply r;
  r.status = status;
  r.body = json::serialize(body);
  return personal(std::move(r), language);
}

/// The language a refusal's detail is in: every Nepali text of the table has Devanagari.
core::Language language_of(const core::ApiError& e) {
  for (const char c : e.detail) {
    if (static_cast<unsigned char>(c) >= 0x80) return core::Language::kNe;
  }
  return core::Language::kEn;
}

HttpReply refused(const core::ApiError& e) {
  return personal(problem(e), language_of(e));
}

json::object tokens_json(const core::CitizenTokens& t) {
  return {{"access_token", t.access_token},
          {"token_type", "Bearer"},
          {"expires_in", t.expires_in},
          {"refresh_token", t.refresh_token}};
}

json::object account_json(const core::Citizen& c) {
  return {{"id", c.id}, {"language", c.language}, {"created_at", core::rfc3339(c.created_at)}};
}

}  // namespace

HttpReply CitizenApi::handle(RouteId route, const HttpRequest& request) {
  const bool has_body = request.method == "POST" || request.method == "PATCH";
  if (has_body && !is_json(request.content_type)) {
    return refused(
        {core::ErrorCode::kUnsupportedMediaType, "Content-Type", "must be application/json"});
  }
  switch (route) {
    case RouteId::kAccountSignIn: {
      const auto sent = citizens_.start_sign_in(request.body, request.peer_address);
      if (!sent) return refused(sent.error());
      // The same answer whether or not the number has an account.
      return ok({{"status", "code_sent"}, {"expires_in", *sent}}, std::nullopt, 202);
    }
    case RouteId::kAccountSignInVerify:
    case RouteId::kAccountToken: {
      const auto tokens = route == RouteId::kAccountToken ? citizens_.refresh(request.body)
                                                          : citizens_.finish_sign_in(request.body);
      if (!tokens) return refused(tokens.error());
      return ok(tokens_json(*tokens), std::nullopt);
    }
    default:
      break;
  }
  const auto session = citizens_.authenticate(request.authorization);
  if (!session) return refused(session.error());
  switch (route) {
    case RouteId::kAccount:
      return ok(account_json(session->citizen), session->language);
    case RouteId::kAccountUpdate: {
      const auto updated = citizens_.update(*session, request.body);
      if (!updated) return refused(updated.error());
      return ok(account_json(*updated),
                core::language_from_name(updated->language).value_or(core::Language::kNe));
    }
    case RouteId::kAccountProofs: {
      json::array proofs;
      for (const auto& p : citizens_.proofs(*session)) {
        proofs.push_back(json::object{{"proof_id", p.proof_id},
                                      {"partner", p.partner},
                                      {"claim_type", p.claim_type},
                                      {"verdict", p.status},
                                      {"verified_at", core::rfc3339(p.verified_at)}});
      }
      return ok({{"proofs", proofs}}, session->language);
    }
    case RouteId::kAccountLinkToken: {
      const auto link = citizens_.link_token(*session, request.body);
      if (!link) return refused(link.error());
      return ok({{"link_token", link->token}, {"expires_in", link->expires_in}}, session->language);
    }
    case RouteId::kAccountDelete: {
      const auto removed = citizens_.remove(*session);
      if (!removed) return refused(removed.error());
      HttpReply r;
      r.status = 204;
      r.content_type.clear();
      return personal(std::move(r), session->language);
    }
    default:
      return problem({core::ErrorCode::kNotFound, "", "no such route"});
  }
}

}  // namespace pg::http
