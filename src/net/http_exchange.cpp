// net::exchange: a Beast coroutine per exchange on its own io_context; the caller's thread runs
// it in slices of at most 100 ms so that a stop flag and the overall deadline (resolution
// included) are seen, then cancels whatever is pending and lets the coroutine finish.
#include "net/http_exchange.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <exception>
#include <type_traits>

namespace pg::net {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr int kMaxInterimAnswers = 8;
constexpr auto kSlice = std::chrono::milliseconds(100);

template <class Stream>
asio::awaitable<void> run(Stream& stream, tcp::resolver& resolver, const Peer& peer,
                          bhttp::request<bhttp::string_body>& request, const Limits& limits,
                          std::chrono::milliseconds budget, Answer& out) {
  auto& socket = beast::get_lowest_layer(stream);
  auto token = asio::redirect_error(asio::use_awaitable, out.ec);
  // One deadline for everything below: tcp_stream's timer is not reset between operations.
  socket.expires_after(budget);

  std::vector<tcp::endpoint> endpoints = peer.endpoints;
  if (endpoints.empty()) {
    out.stage = Stage::kResolve;
    const auto found = co_await resolver.async_resolve(peer.host, std::to_string(peer.port), token);
    if (out.ec) co_return;
    for (const auto& entry : found) endpoints.push_back(entry.endpoint());
  }

  out.stage = Stage::kConnect;
  co_await socket.async_connect(endpoints, token);
  if (out.ec) co_return;

  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    out.stage = Stage::kHandshake;
    co_await stream.async_handshake(ssl::stream_base::client, token);
    if (out.ec) co_return;
  }

  out.stage = Stage::kWrite;
  co_await bhttp::async_write(stream, request, token);
  if (out.ec) co_return;

  out.stage = Stage::kRead;
  beast::flat_buffer buffer;
  // buffer_body: the body passes through a small chunk and is counted (and kept or not); beast's
  // own body_limit would refuse a large Content-Length before the status could be seen.
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
  for (int interim = 0;; ++interim) {
    parser.emplace();
    parser->header_limit(limits.max_header);
    parser->body_limit(boost::none);
    co_await bhttp::async_read_header(stream, buffer, *parser, token);
    if (out.ec) co_return;
    const unsigned status = parser->get().result_int();
    if (status >= 200 || status == 101 || interim == kMaxInterimAnswers) break;
  }
  const int status = static_cast<int>(parser->get().result_int());
  if (const auto it = parser->get().find(bhttp::field::retry_after); it != parser->get().end()) {
    out.retry_after = std::string(it->value());
  }
  std::array<char, 8192> chunk;
  std::size_t read = 0;
  beast::error_code body_ec;
  while (!parser->is_done() && read <= limits.max_body) {
    parser->get().body().data = chunk.data();
    parser->get().body().size = chunk.size();
    co_await bhttp::async_read(stream, buffer, *parser,
                               asio::redirect_error(asio::use_awaitable, body_ec));
    if (body_ec == bhttp::error::need_buffer) body_ec = {};
    const std::size_t got = chunk.size() - parser->get().body().size;
    read += got;
    if (limits.keep_body) {
      if (read > limits.max_body) {
        out.ec = bhttp::error::body_limit;
        co_return;
      }
      out.body.append(chunk.data(), got);
    }
    if (body_ec) break;
  }
  if (limits.keep_body && (body_ec || !parser->is_done())) {
    // A kept body must be whole: a cut answer is no answer.
    out.ec = body_ec ? body_ec : bhttp::error::body_limit;
    out.body.clear();
    co_return;
  }
  out.answered = true;
  out.status = status;
}

/// Names the expected peer: SNI for a host name, OpenSSL's own host or IP check, so a mismatch
/// is reported as such in the verify result. Empty on success.
std::string name_the_peer(ssl::stream<beast::tcp_stream>& stream, const Peer& peer) {
  SSL* handle = stream.native_handle();
  if (peer.host_is_ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), peer.host.c_str()) != 1) {
      return "TLS setup failed: cannot set the expected IP address";
    }
  } else {
    if (SSL_set_tlsext_host_name(handle, peer.host.c_str()) != 1) {
      return "TLS setup failed: cannot set SNI";
    }
    if (SSL_set1_host(handle, peer.host.c_str()) != 1) {
      return "TLS setup failed: cannot set the expected host";
    }
  }
  beast::error_code ec;
  stream.set_verify_mode(ssl::verify_peer, ec);
  if (ec) return "TLS setup failed: " + ec.message();
  return "";
}

template <class Stream>
void drive(asio::io_context& io, Stream& stream, tcp::resolver& resolver, const Peer& peer,
           bhttp::request<bhttp::string_body>& request, const Limits& limits,
           Clock::time_point deadline, Answer& out) {
  std::exception_ptr failure;
  bool done = false;
  // Rounded up: the stream's timer never fires before the deadline.
  const auto budget =
      std::max(std::chrono::milliseconds(1),
               std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()));
  asio::co_spawn(io, run(stream, resolver, peer, request, limits, budget, out),
                 [&](std::exception_ptr e) {
                   failure = e;
                   done = true;
                 });
  bool cancelled = false;
  while (!done) {
    io.run_for(kSlice);
    if (done || cancelled) continue;
    const bool stop = limits.stop != nullptr && limits.stop->load();
    if (stop || Clock::now() >= deadline) {
      (stop ? out.stopped : out.timed_out) = true;
      cancelled = true;
      resolver.cancel();
      beast::get_lowest_layer(stream).cancel();
    }
  }
  if (failure && !out.ec) out.ec = asio::error::fault;
}

}  // namespace

std::string_view stage_words(Stage stage) noexcept {
  switch (stage) {
    case Stage::kResolve:
      return "resolving the host";
    case Stage::kConnect:
      return "connecting";
    case Stage::kHandshake:
      return "in the TLS handshake";
    case Stage::kWrite:
      return "sending the request";
    case Stage::kRead:
      return "waiting for the answer";
  }
  return "";
}

bool closed_by_peer(const boost::system::error_code& ec) noexcept {
  return ec == asio::error::eof || ec == bhttp::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == ssl::error::stream_truncated || ec == bhttp::error::partial_message;
}

Answer exchange(const Peer& peer, const Request& request, ssl::context* tls,
                const Limits& limits) noexcept {
  Answer out;
  const auto deadline = Clock::now() + limits.timeout;
  try {
    const bhttp::verb verb = request.method == "POST" ? bhttp::verb::post : bhttp::verb::get;
    bhttp::request<bhttp::string_body> req{verb, request.target, 11};
    req.set(bhttp::field::host, peer.host_header);
    for (const auto& [name, value] : request.headers) req.set(name, value);
    req.set(bhttp::field::connection, "close");
    if (verb == bhttp::verb::post) {
      req.body() = request.body;
      req.prepare_payload();
    }
    asio::io_context io;
    tcp::resolver resolver(io);
    if (tls != nullptr) {
      ssl::stream<beast::tcp_stream> stream(io, *tls);
      if (std::string problem = name_the_peer(stream, peer); !problem.empty()) {
        out.stage = Stage::kHandshake;
        out.setup_error = std::move(problem);
        return out;
      }
      drive(io, stream, resolver, peer, req, limits, deadline, out);
      if (out.stage == Stage::kHandshake && out.ec) {
        const long verify = SSL_get_verify_result(stream.native_handle());
        if (verify != X509_V_OK) out.verify_error = X509_verify_cert_error_string(verify);
      }
    } else {
      beast::tcp_stream stream(io);
      drive(io, stream, resolver, peer, req, limits, deadline, out);
    }
    if (!out.answered && !out.stopped &&
        (out.ec == beast::error::timeout || Clock::now() >= deadline)) {
      out.timed_out = true;
    }
  } catch (const std::exception&) {
    out = Answer{};
    out.ec = asio::error::fault;
  }
  return out;
}

std::string describe(const Answer& a, const Peer& peer, std::chrono::milliseconds timeout) {
  if (!a.setup_error.empty()) return a.setup_error;
  if (a.stopped) return "stopped";
  const std::string during(stage_words(a.stage));
  if (a.timed_out)
    return "timeout after " + std::to_string(timeout.count()) + " ms (" + during + ")";
  switch (a.stage) {
    case Stage::kResolve:
      return "cannot resolve " + peer.host + ": " + a.ec.message();
    case Stage::kConnect:
      if (a.ec == asio::error::connection_refused) return "connection refused";
      return "connect failed: " + a.ec.message();
    case Stage::kHandshake:
      if (!a.verify_error.empty()) {
        return "TLS handshake failed: certificate verification: " + a.verify_error;
      }
      if (closed_by_peer(a.ec)) return "connection closed by the peer (in the TLS handshake)";
      return "TLS handshake failed: " + a.ec.message();
    case Stage::kWrite:
      if (closed_by_peer(a.ec)) return "connection closed by the peer (while sending the request)";
      return "sending the request failed: " + a.ec.message();
    case Stage::kRead:
      if (closed_by_peer(a.ec)) return "connection closed by the peer before an answer";
      return "invalid HTTP answer: " + a.ec.message();
  }
  return a.ec.message();
}

std::variant<std::unique_ptr<ssl::context>, std::string> client_tls_context(
    const std::string& ca_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  beast::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  if (ec || SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
    return std::string("TLS setup failed: cannot require TLS 1.2 or later");
  }
  if (ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) return "TLS setup failed: cannot load the default CA certificates: " + ec.message();
  } else {
    ctx->load_verify_file(ca_file, ec);
    if (ec) return "TLS setup failed: cannot load the CA " + ca_file;
  }
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (ec) return "TLS setup failed: " + ec.message();
  return ctx;
}

}  // namespace pg::net
