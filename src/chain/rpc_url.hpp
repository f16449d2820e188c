// Which node URLs the chain commands and the server's chain_rpc_url accept: https:// to any host,
// plain http:// only to this machine's loopback. Over plain http anyone on the path reads and
// answers the node's calls — the nonces, fee suggestions and receipts a signing run trusts, and
// the verifier's verdicts chain_check trusts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pg::chain {

/// True for "localhost" and an IP literal in 127.0.0.0/8 or ::1 (as webhooks::parse_webhook_url
/// gives a host: lowercase, IPv6 without brackets). Any other name is not, even one that resolves
/// to a loopback address: what it resolves to is up to the resolver.
bool is_loopback_host(std::string_view host);

/// nullopt when `url` may name a JSON-RPC node: a URL parse_webhook_url accepts (http or https, no
/// userinfo, no fragment, ...), and http:// only with a loopback host. Otherwise the sentence
/// saying why not, which never repeats the URL (a provider's URL may hold its access key).
std::optional<std::string> rpc_url_problem(std::string_view url);

}  // namespace pg::chain
