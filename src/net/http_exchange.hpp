// One outbound HTTP/1.1 exchange under one deadline, plain or TLS: the transport that the webhook
// client, the issuer node's authority adapter and the verifier's feed followers share. What each
// of them adds (the SSRF guard, mutual TLS with retries and a breaker, long polls) stays with it;
// connecting, the TLS handshake with the peer's name checked, writing, reading with limits, and
// saying what went wrong are here, once.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace pg::net {

/// Where an exchange got to.
enum class Stage { kResolve, kConnect, kHandshake, kWrite, kRead };

/// "resolving the host", "connecting", "in the TLS handshake", "sending the request",
/// "waiting for the answer".
std::string_view stage_words(Stage stage) noexcept;

/// The peer. With `endpoints` given (already vetted, as the webhook guard does), they are used
/// as they are; else host:port is resolved with the system resolver inside the deadline.
struct Peer {
  std::string host;  // a DNS name or an IP literal, without brackets
  std::uint16_t port = 0;
  bool host_is_ip = false;
  std::string host_header;  // the Host header's value
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;
};

struct Request {
  std::string method = "GET";  // GET or POST
  std::string target = "/";
  /// Sent in this order after Host; Content-Length and Connection: close are the exchange's own.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent with a Content-Length when the method is POST
};

struct Limits {
  std::chrono::milliseconds timeout{5000};  // resolve + connect + TLS + write + read, all together
  std::uint32_t max_header = 16 * 1024;     // status line and header section
  std::size_t max_body = 64 * 1024;
  /// true: the body is kept, and a longer one is an error ("body limit exceeded", stage kRead).
  /// false: up to max_body of it is read and discarded, and the status stands whatever follows.
  bool keep_body = true;
  /// When it becomes true the exchange is abandoned (Answer::stopped), checked every 100 ms.
  const std::atomic<bool>* stop = nullptr;
};

struct Answer {
  bool answered = false;  // an HTTP answer came (whatever its status)
  int status = 0;
  std::string body;                        // with Limits::keep_body
  std::optional<std::string> retry_after;  // the raw Retry-After value, when present
  // When no answer came: where it stopped and why.
  Stage stage = Stage::kResolve;
  boost::system::error_code ec;
  bool timed_out = false;
  bool stopped = false;
  std::string verify_error;  // OpenSSL's reason when the peer's certificate did not verify
  std::string setup_error;   // a TLS setup step that failed before any I/O
};

/// Runs one exchange on its own io_context (safe from many threads). `tls` null: plain TCP; else
/// the handshake uses it with SNI for a name (never for an IP literal, RFC 6066 §3) and OpenSSL's
/// host or IP check against the certificate. Interim 1xx answers are skipped (at most 8).
/// Redirects are not followed. Never throws: internal failures come back as `ec`.
[[nodiscard]] Answer exchange(const Peer& peer, const Request& request,
                              boost::asio::ssl::context* tls, const Limits& limits) noexcept;

/// The sentence for an exchange without an answer: "timeout after N ms (connecting)",
/// "connection refused", "connection closed by the peer (in the TLS handshake)", "TLS handshake
/// failed: certificate verification: …", "invalid HTTP answer: …", "cannot resolve …", "stopped".
[[nodiscard]] std::string describe(const Answer& answer, const Peer& peer,
                                   std::chrono::milliseconds timeout);

/// Whether `ec` means the peer closed the connection (EOF, reset, truncated TLS, a cut answer).
[[nodiscard]] bool closed_by_peer(const boost::system::error_code& ec) noexcept;

/// A TLS client context: TLS 1.2 or later and peer verification; `ca_file` empty: the system's
/// default CA paths. The error names the step that failed.
[[nodiscard]] std::variant<std::unique_ptr<boost::asio::ssl::context>, std::string>
client_tls_context(const std::string& ca_file = "");

}  // namespace pg::net
