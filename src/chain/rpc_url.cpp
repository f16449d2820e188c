// The node URL rule: https anywhere, http to loopback only.
#include "chain/rpc_url.hpp"

#include <boost/asio/ip/address.hpp>
#include <variant>

#include "webhooks/url.hpp"

namespace pg::chain {

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(host), ec);
  // address_v4::is_loopback is 127.0.0.0/8; address_v6::is_loopback is ::1 only.
  return !ec && address.is_loopback();
}

std::optional<std::string> rpc_url_problem(std::string_view url) {
  auto parsed = webhooks::parse_webhook_url(url);
  if (auto* problem = std::get_if<std::string>(&parsed)) return std::move(*problem);
  const auto& u = std::get<webhooks::WebhookUrl>(parsed);
  if (u.scheme == "http" && !is_loopback_host(u.host)) {
    return "http:// is accepted only for a loopback host (127.0.0.0/8, ::1, localhost); use "
           "https:// for any other node";
  }
  return std::nullopt;
}

}  // namespace pg::chain
