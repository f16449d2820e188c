// Beast sessions (one per connection, as in Beast's advanced server example): read one request
// with limits and a timer, answer it (inline or on the worker pool), write, repeat or close.
#include "http/server.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <set>

#include "core/secrets.hpp"
#include "core/service.hpp"
#include "http/presenter.hpp"
#include "log/log.hpp"
#include "trace/span.hpp"

namespace pg::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string throttle_key_of(const asio::ip::address& a) {
  if (a.is_v6()) {
    const auto v6 = a.to_v6();
    if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return asio::ip::address_v6(bytes).to_string() + "/64";
  }
  return a.to_string();
}

/// `body` (a problem+json object) with "trace_id" as its first member.
void add_trace_id(std::string& body, std::string_view trace_id) {
  if (body.empty() || body.front() != '{' || trace_id.empty()) return;
  std::string member = "\"trace_id\":\"" + std::string(trace_id) + "\"";
  if (body.size() > 1 && body[1] != '}') member.push_back(',');
  body.insert(1, member);
}

bool is_problem(const HttpReply& reply) {
  return reply.content_type == "application/problem+json";
}

bool is_request_id(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

class Server;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server& server);
  ~Session();
  void start() { read(); }
  /// Closes the connection now when it waits for a request; otherwise after the answer.
  void stop_when_idle();

 private:
  void read();
  void read_body();
  void read_header();
  /// After the header: the body limit (`limit`), 100-continue, then the body.
  void after_header(std::uint64_t limit);
  /// POST /api/admin/circuits with a credential: the handler admits the header on the pool.
  void admit_upload();
  /// An answer the handler made before the body was read; the connection closes after it.
  void refuse_before_body(HttpReply reply);
  void release_upload_slot();
  void on_read(beast::error_code ec);
  /// An answer made on the I/O thread without calling the handler (throttled, shed).
  void refuse(core::ErrorCode code, std::string detail, unsigned retry_after, std::string route,
              std::string request_id, std::string method,
              std::chrono::steady_clock::time_point start, bool keep_alive);
  void answer(HttpReply reply, std::string request_id, std::string method,
              std::chrono::steady_clock::time_point start, bool keep_alive);
  void fail_request(int status, std::string_view code, std::string_view detail);

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Server& server_;
  std::string peer_;  // the throttle's key for the peer's address
  bool idle_ = false;
  bool first_ = true;
  bool upload_slot_ = false;  // counts in Server::uploads() until the answer
  std::shared_ptr<bhttp::response<bhttp::string_body>> response_;
  // The request being answered (one at a time per connection): its spans until answer().
  std::shared_ptr<trace::RequestTrace> trace_;
};

class Server {
 public:
  Server(const ServerSettings& s, const Handler& handler, Metrics& metrics,
         std::atomic<bool>& stopping)
      : settings_(s),
        handler_(handler),
        metrics_(metrics),
        stopping_(stopping),
        throttle_(s.auth_failures_per_minute),
        pool_(s.workers ? s.workers : std::max(1u, std::thread::hardware_concurrency())),
        acceptor_(ioc_),
        signals_(ioc_, SIGINT, SIGTERM),
        drain_timer_(ioc_),
        accept_timer_(ioc_) {}

  void run(const std::function<void(const std::string&)>& on_listening) {
    const tcp::endpoint ep(asio::ip::make_address(settings_.host), settings_.port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    const auto bound = acceptor_.local_endpoint();
    on_listening(bound.address().to_string() + ":" + std::to_string(bound.port()));
    signals_.async_wait([this](beast::error_code ec, int) {
      if (!ec) shutdown();
    });
    accept();
    ioc_.run();
    pool_.join();
  }

  const ServerSettings& settings() const { return settings_; }
  const Handler& handler() const { return handler_; }
  Metrics& metrics() { return metrics_; }
  AuthThrottle& throttle() { return throttle_; }
  asio::thread_pool& pool() { return pool_; }
  unsigned& uploads() { return uploads_; }  // admitted uploads in flight (I/O thread only)
  bool stopping() const { return stopping_.load(); }
  std::set<Session*>& sessions() { return sessions_; }
  std::atomic<int>& in_flight() { return in_flight_; }
  void maybe_finish() {
    if (stopping_ && in_flight_ == 0 && sessions_.empty()) {
      drain_timer_.cancel();
      ioc_.stop();
    }
  }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(ioc_),
                           [this](beast::error_code ec, tcp::socket socket) {
                             if (!acceptor_.is_open()) return;
                             if (ec) return accept_later(ec);
                             accept_backoff_ = std::chrono::milliseconds(0);
                             if (sessions_.size() >= settings_.max_connections) {
                               // Accepted and closed at once: the client learns now instead of
                               // waiting in the backlog.
                               metrics_.connections_refused_limit++;
                               beast::error_code ignored;
                               socket.close(ignored);
                             } else {
                               std::make_shared<Session>(std::move(socket), *this)->start();
                             }
                             accept();
                           });
  }

  /// accept() failed. Out of descriptors (EMFILE, ENFILE) the pending connection stays in the
  /// backlog and the acceptor stays readable, so retrying at once spins a core; wait instead,
  /// 10 ms doubling up to 1 s, until an accept succeeds.
  void accept_later(beast::error_code ec) {
    if (ec == asio::error::no_descriptors ||
        ec == beast::error_code(ENFILE, beast::system_category())) {
      metrics_.connections_refused_fd++;
    }
    accept_backoff_ = std::clamp(accept_backoff_ * 2, std::chrono::milliseconds(10),
                                 std::chrono::milliseconds(1000));
    log::warn("accept failed; retrying later",
              {{"error", ec.message()}, {"retry_ms", std::int64_t{accept_backoff_.count()}}});
    accept_timer_.expires_after(accept_backoff_);
    accept_timer_.async_wait([this](beast::error_code wec) {
      if (!wec && acceptor_.is_open()) accept();
    });
  }

  void shutdown() {
    if (stopping_.exchange(true)) return;
    log::info("shutting down: no new connections, finishing requests in flight");
    if (settings_.on_shutdown) settings_.on_shutdown();
    beast::error_code ignored;
    acceptor_.close(ignored);
    accept_timer_.cancel();
    const std::set<Session*> copy = sessions_;
    for (Session* s : copy) s->stop_when_idle();
    drain_timer_.expires_after(settings_.drain_timeout);
    drain_timer_.async_wait([this](beast::error_code ec) {
      if (!ec) ioc_.stop();
    });
    maybe_finish();
  }

  ServerSettings settings_;
  Handler handler_;
  Metrics& metrics_;
  std::atomic<bool>& stopping_;
  AuthThrottle throttle_;  // touched on the I/O thread only
  std::atomic<int> in_flight_{0};
  asio::io_context ioc_{1};
  asio::thread_pool pool_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer drain_timer_;
  asio::steady_timer accept_timer_;
  std::chrono::milliseconds accept_backoff_{0};
  std::set<Session*> sessions_;  // touched on the I/O thread only
  unsigned uploads_ = 0;         // touched on the I/O thread only
};

Session::Session(tcp::socket socket, Server& server) : stream_(std::move(socket)), server_(server) {
  beast::error_code ec;
  const auto peer = stream_.socket().remote_endpoint(ec);
  peer_ = ec ? std::string("unknown") : throttle_key_of(peer.address());
  server_.sessions().insert(this);
  server_.metrics().connections_open++;
}

Session::~Session() {
  release_upload_slot();
  server_.metrics().connections_open--;
  server_.sessions().erase(this);
  server_.maybe_finish();
}

void Session::stop_when_idle() {
  // A connection whose next request has begun to arrive is read and answered; an empty one closes.
  beast::error_code ec;
  const bool pending = buffer_.size() > 0 || stream_.socket().available(ec) > 0;
  if (idle_ && !pending) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }
}

void Session::read() {
  if (server_.stopping()) return;  // the session ends; the destructor closes the socket
  parser_.emplace();
  // The largest body any route takes; read_header narrows it once the route is known (Beast
  // refuses a Content-Length above the limit while it reads the header).
  parser_->body_limit(
      std::max(server_.settings().body_limit, server_.settings().upload_body_limit));
  parser_->header_limit(static_cast<std::uint32_t>(server_.settings().header_limit));
  idle_ = true;
  if (first_ || buffer_.size() > 0) {
    // A new connection, or a pipelined request already (partly) read: its read deadline runs.
    stream_.expires_after(server_.settings().read_timeout);
    return read_header();
  }
  // Keep-alive: the idle timeout covers only the wait for the next request's first byte; from
  // that byte on, the request has read_timeout to arrive whole (header and body).
  stream_.expires_after(server_.settings().idle_timeout);
  stream_.async_read_some(buffer_.prepare(4096),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            if (ec) return self->on_read(ec);
                            self->buffer_.commit(n);
                            self->stream_.expires_after(self->server_.settings().read_timeout);
                            self->read_header();
                          });
}

void Session::read_header() {
  // Header first: a client that sent "Expect: 100-continue" (curl does for bodies over 1 KiB)
  // waits for an interim answer before it sends the body.
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (ec) return self->on_read(ec);
                             self->idle_ = false;
                             const auto& header = self->parser_->get();
                             // RFC 9112 §6.3: a request whose last transfer coding is not chunked
                             // has no knowable length; reading on would take its body for the next
                             // request.
                             if (header.find(bhttp::field::transfer_encoding) != header.end() &&
                                 !self->parser_->chunked()) {
                               return self->fail_request(400, "INVALID_REQUEST",
                                                         "Transfer-Encoding must end with chunked");
                             }
                             // A circuit upload may be larger than body_limit, but only once
                             // its credential is admitted: nothing of such a body is read (nor
                             // 100-continue sent) before that. One within body_limit goes the
                             // usual way (read, then the handler checks the credential), so a
                             // client refused for its credential gets the answer after its body.
                             const std::string_view target = header.target();
                             const auto length = self->parser_->content_length();
                             if (header.method() == bhttp::verb::post &&
                                 target.substr(0, target.find('?')) == "/api/admin/circuits" &&
                                 self->server_.handler().admit_upload &&
                                 (!length || *length > self->server_.settings().body_limit) &&
                                 (header.find(bhttp::field::authorization) != header.end() ||
                                  header.find(bhttp::field::cookie) != header.end())) {
                               return self->admit_upload();
                             }
                             self->after_header(self->server_.settings().body_limit);
                           });
}

void Session::after_header(std::uint64_t limit) {
  if (const auto length = parser_->content_length(); length && *length > limit)
    return on_read(bhttp::error::body_limit);
  parser_->body_limit(limit);
  // Header first: a client that sent "Expect: 100-continue" (curl does for bodies over 1 KiB)
  // waits for an interim answer before it sends the body.
  const auto& header = parser_->get();
  const auto expect = header.find(bhttp::field::expect);
  if (expect != header.end() && beast::iequals(expect->value(), "100-continue") &&
      !parser_->is_done()) {
    auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
    bhttp::async_write(stream_, *cont,
                       [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
                         if (wec) return self->on_read(wec);
                         self->read_body();
                       });
    return;
  }
  read_body();
}

void Session::admit_upload() {
  const auto now = std::chrono::steady_clock::now();
  if (server_.throttle().retry_after(peer_, now) != 0) {
    // Throttled: the body stays small; the handler's answer says 429 as for any route.
    return after_header(server_.settings().body_limit);
  }
  if (server_.uploads() >= server_.settings().max_uploads) {
    HttpReply busy = problem({core::ErrorCode::kNotReady, "",
                              "other circuit uploads are being received; retry shortly"});
    busy.headers.emplace_back("Retry-After", "5");
    return refuse_before_body(std::move(busy));
  }
  upload_slot_ = true;
  server_.uploads()++;
  const auto& header = parser_->get();
  auto fields = std::make_shared<std::array<std::string, 5>>(std::array<std::string, 5>{
      std::string(header.method_string()), std::string(header.target()),
      std::string(header[bhttp::field::authorization]), std::string(header[bhttp::field::cookie]),
      std::string(header["X-CSRF-Token"])});
  asio::post(server_.pool(), [self = shared_from_this(), fields] {
    HttpRequest r;
    r.peer_address = self->peer_;
    r.method = (*fields)[0];
    r.target = (*fields)[1];
    r.authorization = (*fields)[2];
    r.cookie = (*fields)[3];
    r.csrf_token = (*fields)[4];
    std::optional<HttpReply> refused;
    try {
      refused = self->server_.handler().admit_upload(r);
    } catch (const std::exception& e) {
      log::error("upload admission failed", {{"error", e.what()}});
      refused = problem({core::ErrorCode::kInternal, "", "internal error"});
    }
    asio::post(self->stream_.get_executor(), [self, refused = std::move(refused)]() mutable {
      if (refused) return self->refuse_before_body(std::move(*refused));
      self->stream_.expires_after(self->server_.settings().upload_read_timeout);
      self->after_header(self->server_.settings().upload_body_limit);
    });
  });
}

void Session::refuse_before_body(HttpReply reply) {
  release_upload_slot();
  if (reply.error_code == core::error_name(core::ErrorCode::kUnauthorized))
    server_.throttle().record_failure(peer_, std::chrono::steady_clock::now());
  const std::string request_id = core::uuid_v4();
  const std::string trace_id = trace::to_hex(trace::new_trace_id());
  if (is_problem(reply)) add_trace_id(reply.body, trace_id);
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
      static_cast<bhttp::status>(reply.status), 11);
  res->set(bhttp::field::content_type, reply.content_type);
  res->set(bhttp::field::connection, "close");
  res->set(bhttp::field::cache_control, "no-store");
  res->set("X-Request-Id", request_id);
  res->set("X-Content-Type-Options", "nosniff");
  for (const auto& [k, v] : reply.headers) res->set(k, v);
  res->body() = std::move(reply.body);
  res->prepare_payload();
  server_.metrics().observe_request("/api/admin/circuits", "POST", reply.status, 0);
  {
    const log::RequestScope scope(request_id, trace_id);
    log::request({{"method", "POST"},
                  {"route", "/api/admin/circuits"},
                  {"status", reply.status},
                  {"latency_ms", 0.0},
                  {"error_code", reply.error_code}});
  }
  response_ = res;
  bhttp::async_write(stream_, *response_,
                     [self = shared_from_this()](beast::error_code, std::size_t) {
                       beast::error_code ignored;
                       self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                     });
}

void Session::release_upload_slot() {
  if (!upload_slot_) return;
  upload_slot_ = false;
  server_.uploads()--;
}

void Session::read_body() {
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
}

void Session::fail_request(int status, std::string_view code, std::string_view detail) {
  // `status` may differ from the code's usual one: 431 for an over-long header section.
  // An answer for a request that could not be read; the connection closes after it.
  auto res =
      std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(status), 11);
  res->set(bhttp::field::content_type, "application/problem+json");
  res->set(bhttp::field::connection, "close");
  auto body = boost::json::parse(
      problem({status == 413 ? core::ErrorCode::kPayloadTooLarge : core::ErrorCode::kInvalidRequest,
               "", std::string(detail)})
          .body);
  body.as_object()["status"] = status;
  // An unreadable request carries no usable traceparent: a new trace, named in body and log.
  const std::string trace_id = trace::to_hex(trace::new_trace_id());
  body.as_object()["trace_id"] = trace_id;
  res->body() = boost::json::serialize(body);
  res->prepare_payload();
  const std::string request_id = core::uuid_v4();
  res->set("X-Request-Id", request_id);
  res->set("X-Content-Type-Options", "nosniff");
  server_.metrics().observe_request("unmatched", "-", status, 0);
  {
    const log::RequestScope scope(request_id, trace_id);
    log::request({{"method", "-"},
                  {"route", "unmatched"},
                  {"status", status},
                  {"latency_ms", 0.0},
                  {"error_code", code}});
  }
  response_ = res;
  bhttp::async_write(stream_, *response_,
                     [self = shared_from_this()](beast::error_code, std::size_t) {
                       beast::error_code ignored;
                       self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                     });
}

void Session::on_read(beast::error_code ec) {
  idle_ = false;
  if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
      ec == beast::error::timeout || ec == asio::error::connection_reset ||
      ec == asio::error::eof || ec == asio::error::bad_descriptor) {
    return;  // peer closed, idle or too slow: drop the connection
  }
  if (ec == bhttp::error::body_limit)
    return fail_request(413, "PAYLOAD_TOO_LARGE", "the body is larger than the limit");
  if (ec == bhttp::error::header_limit)
    return fail_request(431, "INVALID_REQUEST", "the header is larger than the limit");
  if (ec) return fail_request(400, "INVALID_REQUEST", "malformed HTTP request");
  first_ = false;
  auto req = std::make_shared<bhttp::request<bhttp::string_body>>(parser_->release());
  const auto start = std::chrono::steady_clock::now();
  const auto rid = req->find("X-Request-Id");
  std::string request_id = rid != req->end() && is_request_id(rid->value())
                               ? std::string(rid->value())
                               : core::uuid_v4();
  {
    // W3C Trace Context: a malformed traceparent starts a new trace (§3.2.2); a tracestate is
    // kept only beside a valid traceparent and only when well formed.
    std::optional<trace::Context> incoming;
    if (const auto tp = req->find("traceparent"); tp != req->end())
      incoming = trace::parse_traceparent(tp->value());
    if (incoming) {
      if (const auto ts = req->find("tracestate");
          ts != req->end() && trace::valid_tracestate(ts->value()))
        incoming->tracestate = std::string(ts->value());
    }
    const trace::Tracer* tracer = server_.settings().tracer;
    const double ratio = tracer ? tracer->sample_ratio : 1.0;
    // Without an exporter only the ids are kept (headers, problem bodies, logs, webhooks).
    trace_ = std::make_shared<trace::RequestTrace>(incoming, ratio,
                                                   tracer && tracer->processor != nullptr);
  }
  const bool keep_alive = req->keep_alive();
  std::string method(req->method_string());
  const std::string_view target = req->target();
  const RouteMatch match = match_route(method, target.substr(0, target.find('?')));
  std::string route = match.route ? std::string(match.route->path) : "unmatched";
  const bool on_pool = server_.handler().on_pool(req->method_string(), req->target());
  server_.in_flight()++;
  if (match.route && throttled_route(match.route->id)) {
    if (const unsigned wait = server_.throttle().retry_after(peer_, start)) {
      server_.metrics().auth_throttled++;
      return refuse(core::ErrorCode::kRateLimited,
                    "too many failed authentications from this address; retry later", wait,
                    std::move(route), std::move(request_id), std::move(method), start, keep_alive);
    }
  }
  if (on_pool && server_.metrics().pool_queue_depth.load() >=
                     static_cast<std::int64_t>(server_.settings().pool_queue_limit)) {
    server_.metrics().requests_shed++;
    return refuse(core::ErrorCode::kNotReady, "the server is busy; retry shortly", 1,
                  std::move(route), std::move(request_id), std::move(method), start, keep_alive);
  }
  // peer_ lives in the session, which the pool's task keeps alive (self) while it handles.
  auto handle = [req, peer = std::string_view(peer_)]() -> HttpRequest {
    HttpRequest r;
    r.peer_address = peer;
    r.method = req->method_string();
    r.target = req->target();
    r.authorization = (*req)[bhttp::field::authorization];
    r.content_type = (*req)[bhttp::field::content_type];
    if (const auto it = req->find("Idempotency-Key"); it != req->end())
      r.idempotency_key = it->value();
    r.if_none_match = (*req)[bhttp::field::if_none_match];
    r.cookie = (*req)[bhttp::field::cookie];
    r.csrf_token = (*req)["X-CSRF-Token"];
    r.accept = (*req)[bhttp::field::accept];
    r.body = req->body();
    return r;
  };
  if (!on_pool) {
    HttpReply reply;
    {
      // Lines logged while handling carry its ids; spans opened while handling are its own.
      const log::RequestScope scope(request_id, trace_->trace_id_hex());
      const trace::Activate active(*trace_);
      reply = server_.handler().handle(handle());
    }
    answer(std::move(reply), std::move(request_id), std::move(method), start, keep_alive);
    return;
  }
  server_.metrics().pool_queue_depth++;
  asio::post(server_.pool(),
             [self = shared_from_this(), req, handle, request_id = std::move(request_id),
              method = std::move(method), start, keep_alive]() mutable {
               self->server_.metrics().pool_queue_depth--;
               self->server_.metrics().pool_busy++;
               HttpReply reply;
               {
                 const log::RequestScope scope(request_id, self->trace_->trace_id_hex());
                 const trace::Activate active(*self->trace_);
                 reply = self->server_.handler().handle(handle());
               }
               self->server_.metrics().pool_busy--;
               asio::post(self->stream_.get_executor(),
                          [self, reply = std::move(reply), request_id = std::move(request_id),
                           method = std::move(method), start, keep_alive]() mutable {
                            self->answer(std::move(reply), std::move(request_id), std::move(method),
                                         start, keep_alive);
                          });
             });
}

void Session::refuse(core::ErrorCode code, std::string detail, unsigned retry_after,
                     std::string route, std::string request_id, std::string method,
                     std::chrono::steady_clock::time_point start, bool keep_alive) {
  core::ApiError error{code, "", std::move(detail)};
  error.retry_after_s = retry_after;
  HttpReply r = problem(error);
  r.route = std::move(route);
  answer(std::move(r), std::move(request_id), std::move(method), start, keep_alive);
}

void Session::answer(HttpReply reply, std::string request_id, std::string method,
                     std::chrono::steady_clock::time_point start, bool keep_alive) {
  release_upload_slot();
  // A wrong credential, and a wrong citizen's sign-in code (guessing codes across numbers).
  if (reply.error_code == core::error_name(core::ErrorCode::kUnauthorized) ||
      reply.error_code == core::error_name(core::ErrorCode::kWrongCode))
    server_.throttle().record_failure(peer_, std::chrono::steady_clock::now());
  // The server span ends here; errors (5xx, any problem answer) are exported whatever the
  // sampler said, so their spans were kept in memory until now.
  const std::shared_ptr<trace::RequestTrace> trace = std::move(trace_);
  const bool problem_answer = is_problem(reply);
  const bool kept = trace && (trace->sampled() || reply.status >= 500 || problem_answer);
  if (trace && problem_answer) add_trace_id(reply.body, trace->trace_id_hex());
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
      static_cast<bhttp::status>(reply.status), 11);
  res->set(bhttp::field::server, "proofgate");
  if (trace) {
    res->set("traceparent", trace::format_traceparent(trace->trace_id(), trace->root().span_id,
                                                      kept ? trace::kSampled : 0));
    if (!trace->tracestate().empty()) res->set("tracestate", trace->tracestate());
  }
  if (!reply.content_type.empty()) res->set(bhttp::field::content_type, reply.content_type);
  res->set("X-Request-Id", request_id);
  res->set("X-Content-Type-Options", "nosniff");
  bool cache_set = false;
  for (const auto& [k, v] : reply.headers) {
    res->set(k, v);
    cache_set = cache_set || beast::iequals(k, "Cache-Control");
  }
  if (!cache_set) res->set(bhttp::field::cache_control, "no-store");
  // The browser-facing headers on every answer (the blueprint's helmet set): no framing, no
  // referrer, HTTPS only once a browser has seen it over TLS. Pages get their own CSP.
  res->set("X-Frame-Options", "DENY");
  res->set("Referrer-Policy", "no-referrer");
  res->set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  if (reply.route == "/docs") {
    res->set("Content-Security-Policy",
             "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
             "frame-ancestors 'none'");
  } else if (reply.route == "/console") {
    // No inline script or style at all; the API is the only place the console talks to.
    res->set("Content-Security-Policy",
             "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
             "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
             "frame-ancestors 'none'");
    res->set("Cross-Origin-Opener-Policy", "same-origin");
  }
  const bool head = method == "HEAD";
  if (reply.shared_body) {
    res->body() = *reply.shared_body;
  } else {
    res->body() = std::move(reply.body);
  }
  const bool closing = !keep_alive || server_.stopping();
  res->keep_alive(!closing);
  res->prepare_payload();
  if (head) res->body().clear();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  server_.metrics().observe_request(reply.route, method, reply.status, seconds);
  if (trace) {
    trace::SpanData& root = trace->root();
    root.name = method + " " + reply.route;
    root.set("http.request.method", method);
    root.set("http.route", reply.route);
    root.set("http.response.status_code", std::int64_t{reply.status});
    if (!reply.error_code.empty()) root.set("error.code", reply.error_code);
    if (!reply.mode.empty()) root.set("proofgate.partner.mode", reply.mode);
    if (reply.status >= 500) root.status = trace::Status::kError;
    auto spans = trace->finish();
    if (kept && server_.settings().tracer)
      server_.settings().tracer->export_spans(std::move(spans));
  }
  // One JSON line per request; never a key, token, proof or private value.
  {
    const log::RequestScope scope(request_id, trace ? trace->trace_id_hex() : std::string_view{});
    std::vector<log::Field> fields{{"method", method},
                                   {"route", reply.route},
                                   {"status", reply.status},
                                   {"latency_ms", seconds * 1000.0}};
    if (!reply.partner_id.empty()) fields.emplace_back("partner_id", reply.partner_id);
    if (!reply.mode.empty()) fields.emplace_back("mode", reply.mode);
    if (!reply.error_code.empty()) fields.emplace_back("error_code", reply.error_code);
    log::write_request(fields);
  }
  response_ = res;
  bhttp::async_write(stream_, *response_,
                     [self = shared_from_this(), closing](beast::error_code ec, std::size_t) {
                       self->server_.in_flight()--;
                       if (ec || closing) {
                         beast::error_code ignored;
                         self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                         self->server_.maybe_finish();
                         return;
                       }
                       self->read();
                     });
}

}  // namespace

double AuthThrottle::tokens_at(const Bucket& b, Clock::time_point now) const {
  const double refill = std::chrono::duration<double>(now - b.updated).count() * per_minute_ / 60.0;
  return std::min<double>(per_minute_, b.tokens + refill);
}

unsigned AuthThrottle::retry_after(const std::string& address, Clock::time_point now) const {
  if (per_minute_ == 0) return 0;
  const auto it = buckets_.find(address);
  if (it == buckets_.end()) return 0;
  const double tokens = tokens_at(it->second, now);
  if (tokens >= 1) return 0;
  return std::max(1u, static_cast<unsigned>(std::ceil((1 - tokens) * 60.0 / per_minute_)));
}

void AuthThrottle::record_failure(const std::string& address, Clock::time_point now) {
  if (per_minute_ == 0) return;
  auto it = buckets_.find(address);
  if (it == buckets_.end()) {
    make_room(now);
    it = buckets_.emplace(address, Bucket{static_cast<double>(per_minute_), now}).first;
  }
  it->second.tokens = std::max(0.0, tokens_at(it->second, now) - 1);
  it->second.updated = now;
}

void AuthThrottle::make_room(Clock::time_point now) {
  if (buckets_.size() < max_addresses_) return;
  // A full bucket remembers nothing: dropping it changes no answer.
  std::erase_if(buckets_, [&](const auto& e) { return tokens_at(e.second, now) >= per_minute_; });
  if (buckets_.size() < max_addresses_ || buckets_.empty()) return;
  const auto oldest = std::min_element(
      buckets_.begin(), buckets_.end(),
      [](const auto& a, const auto& b) { return a.second.updated < b.second.updated; });
  buckets_.erase(oldest);
}

std::string throttle_key(std::string_view address) {
  beast::error_code ec;
  const auto a = asio::ip::make_address(std::string(address), ec);
  return ec ? std::string(address) : throttle_key_of(a);
}

void run_server(const ServerSettings& settings, const Handler& handler, Metrics& metrics,
                std::atomic<bool>& stopping,
                const std::function<void(const std::string&)>& on_listening) {
  Server server(settings, handler, metrics, stopping);
  server.run(on_listening);
}

void run_server(const ServerSettings& settings, Api& api, Metrics& metrics,
                std::atomic<bool>& stopping,
                const std::function<void(const std::string&)>& on_listening) {
  run_server(settings,
             Handler{[&api](const HttpRequest& r) { return api.handle(r); }, &Api::needs_pool,
                     [&api](const HttpRequest& r) { return api.admit_upload(r); }},
             metrics, stopping, on_listening);
}

}  // namespace pg::http
