// rsp::http::Server: Beast HTTP/1.1 over beast::tcp_stream, optionally wrapped
// in Beast's ssl_stream (Boost.Asio's OpenSSL stream) with the SSL_CTX of
// rsp::tls::ServerContext. See rsp/http_server.hpp and docs/http.md.
#include "rsp/http_server.hpp"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <algorithm>
#include <cctype>
#include <fstream>
#include <random>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "rsp/log.hpp"
#include "rsp/tls.hpp"

namespace rsp::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

// Drawn below the kernel's ephemeral range (net.ipv4.ip_local_port_range,
// 32768-60999 by default): a port that bind(0) picked there is closed again
// before the server binds it, and meanwhile any outgoing connect() may take
// it. Below the range only an explicit bind uses a port.
std::uint16_t free_loopback_port() {
  unsigned low = 32768;
  if (std::ifstream f("/proc/sys/net/ipv4/ip_local_port_range"); f) f >> low;
  const unsigned hi = std::min(32000u, low > 10001 ? low - 1 : 32000u);
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<unsigned> pick(10000, hi);
  asio::io_context io;
  for (int i = 0; i < 200; ++i) {
    auto port = static_cast<std::uint16_t>(pick(rng));
    asio::ip::tcp::acceptor a(io);
    boost::system::error_code ec;
    a.open(asio::ip::tcp::v4(), ec);
    if (!ec) a.bind(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port), ec);
    if (!ec) return port;
  }
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  return a.local_endpoint().port();
}
using tcp = asio::ip::tcp;
using boost::system::error_code;

// ---------------------------------------------------------------------------
// small types

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::optional<std::string> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : fields_)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

std::string Headers::get_or(std::string_view name, std::string_view fallback) const {
  auto v = get(name);
  return v ? *v : std::string(fallback);
}

void Headers::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

void Headers::add(std::string_view name, std::string_view value) { fields_.emplace_back(name, value); }

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [&](const Field& f) { return iequals(f.first, name); });
}

std::string_view Request::path() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

Response Response::json(std::string body, int status) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

Response Response::empty(int status) {
  Response r;
  r.status = status;
  return r;
}

void log_to_stderr(std::string_view line) {
  // With JSON logs (RSP_LOG_FORMAT=json) every line on stderr is one object.
  if (log::format() == log::Format::Json) return log::write(log::Level::Warn, "http", line);
  static std::mutex m;
  std::lock_guard lock(m);
  std::cerr << "[http] " << line << '\n';
}

// ---------------------------------------------------------------------------
// sessions

namespace {

std::string endpoint_string(const tcp::endpoint& ep) {
  std::ostringstream s;
  if (ep.address().is_v6())
    s << '[' << ep.address().to_string() << "]:" << ep.port();
  else
    s << ep.address().to_string() << ':' << ep.port();
  return s.str();
}

// Lines about single connections (failed handshakes, refused accepts) come
// in bursts under attack: at most kBurst of them per second reach the sink,
// then one line says how many were left out.
class ThrottledLog {
 public:
  static constexpr int kBurst = 20;
  void operator()(const LogSink& sink, const std::string& line) {
    auto now = std::chrono::steady_clock::now();
    std::size_t dropped = 0;
    {
      std::lock_guard lock(mu_);
      if (now - window_ >= std::chrono::seconds(1)) {
        dropped = dropped_;
        dropped_ = 0;
        sent_ = 0;
        window_ = now;
      }
      if (sent_ >= kBurst) {
        ++dropped_;
        return;
      }
      ++sent_;
    }
    if (dropped) sink(std::to_string(dropped) + " similar lines left out");
    sink(line);
  }

 private:
  std::mutex mu_;
  std::chrono::steady_clock::time_point window_{};
  int sent_ = 0;
  std::size_t dropped_ = 0;
};

struct Shared {
  ServerConfig config;
  Handler handler;
  LogSink log;
  mutable ThrottledLog throttle;
  std::shared_ptr<const tls::ServerContext> tls;
  // Asio's handle on tls's SSL_CTX (a second reference to it).
  std::unique_ptr<asio::ssl::context> ssl_context;
  // Open connections; each Session holds one slot for its lifetime.
  mutable std::atomic<std::size_t> connections{0};
  std::atomic<bool> stopping{false};
  std::function<void()> on_slot_freed;  // set by Server::Impl

  void connection_log(const std::string& line) const { throttle(log, line); }
};

// One of ServerConfig::max_connections, taken at accept and given back when
// the connection's last handler is gone.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::shared_ptr<const Shared> shared) : shared_(std::move(shared)) {}
  ~ConnectionSlot() {
    shared_->connections.fetch_sub(1);
    if (!shared_->stopping && shared_->on_slot_freed) shared_->on_slot_freed();
  }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  std::shared_ptr<const Shared> shared_;
};

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

beast::tcp_stream& lowest(beast::tcp_stream& s) { return s; }
beast::tcp_stream& lowest(TlsStream& s) { return s.next_layer(); }

template <class S>
class Session : public std::enable_shared_from_this<Session<S>> {
 public:
  static constexpr bool kTls = !std::is_same_v<S, beast::tcp_stream>;

  template <class... Args>
  Session(std::shared_ptr<const Shared> shared, std::string remote, Args&&... args)
      : slot_(shared),
        shared_(std::move(shared)),
        remote_(std::move(remote)),
        stream_(std::forward<Args>(args)...),
        // Bytes buffered per connection: the headers and one read's worth
        // (Beast reads at most 64 KiB at a time and moves body bytes out).
        buffer_(shared_->config.max_header_bytes + 64 * 1024) {}

  void run() {
    // Start on the connection's strand.
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->begin(); });
  }

 private:
  void begin() {
    if constexpr (kTls) {
      lowest(stream_).expires_after(shared_->config.handshake_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) { self->on_handshake(ec); });
    } else {
      do_read();
    }
  }

  void on_handshake(error_code ec) {
    if (shared_->config.on_tls_handshake) shared_->config.on_tls_handshake(!ec);
    if (ec) {
      const char* what = ec == beast::error::timeout ? "timed out" : nullptr;
      shared_->connection_log("TLS handshake with " + remote_ + " failed: " + (what ? std::string(what) : ec.message()));
      lowest(stream_).close();
      return;
    }
    if constexpr (kTls) {
      peer_cert_ = tls::verified_peer_certificate(stream_.native_handle());
      psk_identity_ = tls::psk_identity(stream_.native_handle());
    }
    do_read();
  }

  void do_read() {
    const auto& cfg = shared_->config;
    parser_.emplace();
    parser_->body_limit(cfg.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(cfg.max_header_bytes));
    read_deadline_ = std::chrono::steady_clock::now() + cfg.read_timeout;
    lowest(stream_).expires_after(std::min(cfg.header_timeout, cfg.read_timeout));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
  }

  // Headers in: apply the path's body limit, then read the body by the
  // whole-request deadline.
  void on_header(error_code ec) {
    if (ec) return on_read(ec);
    const auto& cfg = shared_->config;
    if (cfg.body_limit) {
      std::string_view target(parser_->get().target().data(), parser_->get().target().size());
      std::size_t limit = std::min(cfg.body_limit(target.substr(0, target.find('?'))), cfg.max_body_bytes);
      if (auto n = parser_->content_length(); n && *n > limit) return on_read(bhttp::error::body_limit);
      parser_->body_limit(limit);  // chunked bodies: checked as they arrive
    }
    lowest(stream_).expires_at(read_deadline_);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](error_code ec2, std::size_t) { self->on_read(ec2); });
  }

  void on_read(error_code ec) {
    if (ec == bhttp::error::body_limit) return send_error(413, "Payload Too Large");
    if (ec == bhttp::error::buffer_overflow) return send_error(431, "Request Header Fields Too Large");
    if (ec == bhttp::error::header_limit) return send_error(431, "Request Header Fields Too Large");
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      return close_now();
    }
    if (ec) {
      if (ec.category() == error_code(bhttp::error::bad_method).category() && ec != bhttp::error::partial_message)
        return send_error(400, "Bad Request");
      return close_now();
    }
    handle(parser_->release());
  }

  void handle(bhttp::request<bhttp::string_body> breq) {
    Request req;
    req.method = std::string(breq.method_string().data(), breq.method_string().size());
    req.target = std::string(breq.target().data(), breq.target().size());
    req.version = breq.version();
    for (const auto& f : breq)
      req.headers.add(std::string_view(f.name_string().data(), f.name_string().size()),
                      std::string_view(f.value().data(), f.value().size()));
    req.body = std::move(breq.body());
    req.peer_certificate = peer_cert_;
    req.psk_identity = psk_identity_;
    req.remote_address = remote_;
    req.tls = kTls;

    Response res;
    try {
      res = shared_->handler(req);
    } catch (const std::exception& e) {
      log("handler threw for " + req.method + " " + std::string(req.path()) + ": " + e.what());
      res = Response::text(500, "Internal Server Error");
    } catch (...) {
      log("handler threw for " + req.method + " " + std::string(req.path()) + ": unknown exception");
      res = Response::text(500, "Internal Server Error");
    }
    if (shared_->config.log_requests)
      log(req.method + " " + std::string(req.path()) + " from " + remote_ + " -> " + std::to_string(res.status));
    send(std::move(res), breq.version(), breq.keep_alive());
  }

  void send_error(int status, std::string text) {
    send(Response::text(status, std::move(text) + "\n"), 11, false);
  }

  void send(Response res, unsigned version, bool keep_alive) {
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>();
    out->version(version);
    out->result(static_cast<unsigned>(res.status));
    for (const auto& [k, v] : res.headers.fields()) out->insert(k, v);
    if (!shared_->config.server_header.empty() && !res.headers.contains("Server"))
      out->set(bhttp::field::server, shared_->config.server_header);
    out->body() = std::move(res.body);
    out->keep_alive(keep_alive);
    out->prepare_payload();
    bool close = !keep_alive;
    lowest(stream_).expires_after(shared_->config.write_timeout);
    bhttp::async_write(stream_, *out, [self = this->shared_from_this(), out, close](error_code ec, std::size_t) {
      self->on_write(ec, close);
    });
  }

  void on_write(error_code ec, bool close) {
    if (ec) return close_now();
    if (close) return close_gracefully();
    do_read();
  }

  // Sends close_notify (TLS; Asio's shutdown then waits for the client's,
  // or its EOF, within the 2 s deadline), half-closes, then discards what
  // the client is still sending for a short while, so that the close does
  // not turn into a RST that destroys the response we just sent (e.g. after
  // 413).
  void close_gracefully() {
    lowest(stream_).expires_after(std::chrono::seconds(2));
    if constexpr (kTls) {
      stream_.async_shutdown([self = this->shared_from_this()](error_code) { self->half_close_and_drain(); });
    } else {
      half_close_and_drain();
    }
  }

  void half_close_and_drain() {
    error_code ignored;
    lowest(stream_).socket().shutdown(tcp::socket::shutdown_send, ignored);
    drain_buf_.resize(16 * 1024);
    drain();
  }

  void drain() {
    lowest(stream_).async_read_some(asio::buffer(drain_buf_),
                                    [self = this->shared_from_this()](error_code ec, std::size_t n) {
                                      self->drained_ += n;
                                      if (ec || self->drained_ > kMaxDrain) return self->close_now();
                                      self->drain();
                                    });
  }

  void close_now() {
    error_code ignored;
    if constexpr (kTls) {
      // Keep the TLS session resumable when the connection ends without our
      // close_notify (the client closed first, or went away): RFC 5246 7.2.1
      // no longer ties resumption to a proper close, and OpenSSL would
      // otherwise drop the session from the server's cache when the SSL is
      // freed (ssl_clear_bad_session), so a client resuming by session ID
      // (libcurl disables tickets) would pay a full handshake on every new
      // connection. A fatal alert has removed the session already.
      SSL* ssl = stream_.native_handle();
      if (SSL_is_init_finished(ssl) == 1) SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_SENT_SHUTDOWN);
    }
    lowest(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest(stream_).close();
  }

  void log(const std::string& line) { shared_->log(line); }

  static constexpr std::size_t kMaxDrain = 16 * 1024 * 1024;

  ConnectionSlot slot_;
  std::shared_ptr<const Shared> shared_;
  std::string remote_;
  S stream_;
  beast::flat_buffer buffer_;
  std::chrono::steady_clock::time_point read_deadline_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<Bytes> peer_cert_;
  std::optional<std::string> psk_identity_;
  std::vector<char> drain_buf_;
  std::size_t drained_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------
// Server

struct Server::Impl {
  std::shared_ptr<Shared> shared;
  std::unique_ptr<asio::io_context> ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> backoff_timer;
  std::vector<std::thread> threads;
  std::atomic<bool> running{false};
  bool started = false;
  std::uint16_t port = 0;
  std::mutex stop_mutex;

  // Accepting stops at max_connections; whoever frees the slot that brings
  // the count under the cap (exchange on `paused`) starts it again.
  std::atomic<bool> paused{false};
  // Out of file descriptors (or kernel memory), accept() fails at once for
  // as long as the condition lasts: wait, doubling up to 1 s, instead of
  // spinning, and log the episode once when it starts and once when it ends.
  std::chrono::milliseconds backoff{0};
  std::size_t failed_accepts = 0;

  static constexpr std::chrono::milliseconds kFirstBackoff{50}, kMaxBackoff{1000};

  static bool out_of_resources(const error_code& ec) {
    return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
           ec == error_code(ENFILE, boost::system::system_category());
  }

  void slot_freed() {
    if (shared->connections.load() < shared->config.max_connections && paused.exchange(false))
      asio::post(acceptor->get_executor(), [this] { accept(); });
  }

  void accept() {
    if (!acceptor || !acceptor->is_open()) return;
    if (shared->connections.load() >= shared->config.max_connections) {
      paused = true;
      // A connection may have closed between the check and the flag.
      if (shared->connections.load() >= shared->config.max_connections || !paused.exchange(false)) return;
    }
    acceptor->async_accept(asio::make_strand(*ioc), [this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (ec) return accept_failed(ec);
      if (failed_accepts) {
        shared->log("accepting again after " + std::to_string(failed_accepts) + " failed accepts");
        failed_accepts = 0;
      }
      backoff = std::chrono::milliseconds(0);
      error_code epec;
      auto ep = socket.remote_endpoint(epec);
      std::string remote = epec ? std::string("?") : endpoint_string(ep);
      socket.set_option(tcp::no_delay(true), epec);
      shared->connections.fetch_add(1);
      try {
        if (shared->tls) {
          std::make_shared<Session<TlsStream>>(shared, std::move(remote), std::move(socket), *shared->ssl_context)
              ->run();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(shared, std::move(remote), std::move(socket))->run();
        }
      } catch (const std::exception& e) {
        shared->connection_log(std::string("connection setup failed: ") + e.what());
      }
      accept();
    });
  }

  void accept_failed(const error_code& ec) {
    if (!out_of_resources(ec)) {  // e.g. the client reset before we accepted: next
      shared->connection_log("accept failed: " + ec.message());
      return accept();
    }
    if (failed_accepts++ == 0)
      shared->log("accept failed: " + ec.message() + "; retrying with back-off until it succeeds");
    backoff = backoff.count() == 0 ? kFirstBackoff : std::min(backoff * 2, kMaxBackoff);
    backoff_timer->expires_after(backoff);
    backoff_timer->async_wait([this](error_code tec) {
      if (!tec) accept();
    });
  }
};

Server::Server(ServerConfig config, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->shared = std::make_shared<Shared>();
  impl_->shared->config = std::move(config);
  impl_->shared->handler = std::move(handler);
  impl_->shared->log = impl_->shared->config.log ? impl_->shared->config.log : LogSink(&log_to_stderr);
  if (!impl_->shared->handler) throw std::invalid_argument("http::Server needs a handler");
}

Server::~Server() { stop(); }

void Server::start() {
  auto& I = *impl_;
  if (I.started) throw std::logic_error("http::Server already started");
  I.started = true;
  auto& cfg = I.shared->config;
  if (cfg.tls) {
    I.shared->tls = std::make_shared<tls::ServerContext>(*cfg.tls);
    SSL_CTX_up_ref(I.shared->tls->native_handle());
    I.shared->ssl_context = std::make_unique<asio::ssl::context>(I.shared->tls->native_handle());
  }

  std::size_t n = cfg.threads == 0 ? 1 : cfg.threads;
  I.ioc = std::make_unique<asio::io_context>(static_cast<int>(n));
  auto strand = asio::make_strand(*I.ioc);
  I.acceptor = std::make_unique<tcp::acceptor>(strand);
  I.backoff_timer = std::make_unique<asio::steady_timer>(strand);
  I.shared->on_slot_freed = [&I] { I.slot_freed(); };
  tcp::endpoint ep(asio::ip::make_address(cfg.bind_address), cfg.port);
  I.acceptor->open(ep.protocol());
  I.acceptor->set_option(asio::socket_base::reuse_address(true));
  I.acceptor->bind(ep);
  I.acceptor->listen(asio::socket_base::max_listen_connections);
  I.port = I.acceptor->local_endpoint().port();
  I.work.emplace(I.ioc->get_executor());
  I.accept();
  I.running = true;
  for (std::size_t i = 0; i < n; ++i) {
    I.threads.emplace_back([&I] {
      for (;;) {
        try {
          I.ioc->run();
          return;
        } catch (const std::exception& e) {  // a bug somewhere: log, keep serving
          I.shared->log(std::string("worker caught: ") + e.what());
        }
      }
    });
  }
}

void Server::stop() {
  auto& I = *impl_;
  std::lock_guard lock(I.stop_mutex);
  if (!I.running.exchange(false)) return;
  I.shared->stopping = true;
  I.work.reset();
  I.ioc->stop();
  for (auto& t : I.threads)
    if (t.joinable()) t.join();
  I.threads.clear();
  error_code ignored;
  I.acceptor->close(ignored);
  I.backoff_timer.reset();
  I.acceptor.reset();
  I.ioc.reset();  // destroys pending handlers, and with them open connections
}

std::uint16_t Server::port() const { return impl_->port; }

bool Server::running() const { return impl_->running; }

}  // namespace rsp::http
