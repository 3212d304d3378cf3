// TLS 1.2 over mbedTLS for Boost.Asio/Beast.
//
// Beast's ssl_stream is OpenSSL-only, so this is the mbedTLS equivalent:
//   * tls::ServerContext - an mbedtls_ssl_config built once from
//     http::ServerTlsConfig (certificates, key, suites, curves, client auth,
//     PSK), shared by every connection;
//   * tls::Engine        - one mbedtls_ssl_context per connection, whose bio
//     callbacks read and write two in-memory ciphertext buffers (no I/O);
//   * tls::Stream<Next>  - an AsyncReadStream/AsyncWriteStream that moves the
//     engine's ciphertext over the next layer (tcp::socket or
//     beast::tcp_stream, whose timeouts then apply). Beast's http::async_read
//     and http::async_write work over it.
// A Stream supports one outstanding read and one outstanding write that are
// not concurrent with each other (what Beast's HTTP server loop does).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include "rsp/bytes.hpp"
#include "rsp/http_server.hpp"

namespace rsp::tls {

// Error category of mbedTLS return codes (negative ints); message() is
// mbedtls_strerror's text.
const boost::system::error_category& mbedtls_category();
inline boost::system::error_code make_error(int mbedtls_ret) {
  return {mbedtls_ret < 0 ? -mbedtls_ret : mbedtls_ret, mbedtls_category()};
}

// Parses a certificate chain (PEM blocks or concatenated DER) with
// mbedtls_x509_crt_parse_der_with_ext_cb and the SGP.22 extension callback
// (accepts critical certificatePolicies 2.5.29.32, nameConstraints 2.5.29.30
// and other non-critical extensions mbedTLS does not know). Returns the DER
// of each certificate; throws http::TlsConfigError.
std::vector<Bytes> parse_certificate_chain(ByteView pem_or_der);

// The shared, immutable server-side configuration.
class ServerContext {
 public:
  explicit ServerContext(const http::ServerTlsConfig& cfg);  // throws http::TlsConfigError
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  const void* native_config() const;  // const mbedtls_ssl_config*
  // IANA names of the enabled suites, in preference order.
  std::vector<std::string> cipher_suites() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Per-connection TLS state machine over memory buffers.
class Engine {
 public:
  enum class Want { Nothing, Input };  // done (see ec) / feed more ciphertext

  explicit Engine(std::shared_ptr<const ServerContext> ctx);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Each call advances the state machine. When it returns Want::Input, send
  // pending output, read more ciphertext (input_space/commit_input) and call
  // again with the same arguments. With Want::Nothing the operation is done:
  // either ec is set, or `n` holds the plaintext bytes read/written.
  Want handshake(boost::system::error_code& ec);
  Want read(void* data, std::size_t size, std::size_t& n, boost::system::error_code& ec);
  Want write(const void* data, std::size_t size, std::size_t& n, boost::system::error_code& ec);
  Want shutdown(boost::system::error_code& ec);  // queues close_notify

  // Ciphertext to send to the peer.
  bool has_output() const;
  boost::asio::const_buffer output() const;
  void consume_output(std::size_t n);
  // Room to receive ciphertext into, then how much arrived.
  boost::asio::mutable_buffer input_space();
  void commit_input(std::size_t n);

  bool handshake_done() const;
  // Verified client certificate (DER), PSK identity, negotiated suite.
  std::optional<Bytes> peer_certificate() const;
  std::optional<std::string> psk_identity() const;
  std::string cipher_suite() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

namespace detail {

// Drives one Engine operation: run it, flush its output, read input, repeat.
template <class Stream, class Action, bool WithSize>
struct IoOp {
  Stream& stream;
  Action action;
  enum class State { Start, Writing, Reading, Posting } state = State::Start;
  Engine::Want want = Engine::Want::Nothing;
  boost::system::error_code result_ec{};
  std::size_t result_n = 0;
  bool did_io = false;

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t n = 0) {
    switch (state) {
      case State::Start:
        break;
      case State::Writing:
        if (ec) return finish(self, ec, 0);
        stream.engine().consume_output(n);
        return after_output(self);
      case State::Reading:
        if (ec) return finish(self, ec, 0);
        stream.engine().commit_input(n);
        break;
      case State::Posting:
        return finish(self, result_ec, result_n);
    }
    result_ec = {};
    result_n = 0;
    want = action(stream.engine(), result_ec, result_n);
    if (stream.engine().has_output()) {
      state = State::Writing;
      did_io = true;
      boost::asio::async_write(stream.next_layer(), stream.engine().output(), std::move(self));
      return;
    }
    after_output(self);
  }

  template <class Self>
  void after_output(Self& self) {
    if (!result_ec && want == Engine::Want::Input) {
      state = State::Reading;
      did_io = true;
      stream.next_layer().async_read_some(stream.engine().input_space(), std::move(self));
      return;
    }
    if (!did_io) {  // never complete inside the initiating function
      state = State::Posting;
      boost::asio::post(stream.get_executor(), std::move(self));
      return;
    }
    finish(self, result_ec, result_n);
  }

  template <class Self>
  static void finish(Self& self, boost::system::error_code ec, std::size_t n) {
    if constexpr (WithSize) {
      self.complete(ec, n);
    } else {
      (void)n;
      self.complete(ec);
    }
  }
};

}  // namespace detail

template <class NextLayer>
class Stream {
 public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;

  template <class... Args>
  explicit Stream(std::shared_ptr<const ServerContext> ctx, Args&&... args)
      : next_(std::forward<Args>(args)...), engine_(std::move(ctx)) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  NextLayer& next_layer() noexcept { return next_; }
  const NextLayer& next_layer() const noexcept { return next_; }
  Engine& engine() noexcept { return engine_; }
  const Engine& engine() const noexcept { return engine_; }

  // Server-side handshake. Signature void(error_code).
  template <class Token>
  auto async_handshake(Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code)>(
        detail::IoOp<Stream, HandshakeAction, false>{*this, {}}, token, next_);
  }

  // Sends close_notify. Signature void(error_code).
  template <class Token>
  auto async_shutdown(Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code)>(
        detail::IoOp<Stream, ShutdownAction, false>{*this, {}}, token, next_);
  }

  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    boost::asio::mutable_buffer first;
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::mutable_buffer b(*it);
      if (b.size() > 0) {
        first = b;
        break;
      }
    }
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        detail::IoOp<Stream, ReadAction, true>{*this, ReadAction{first}}, token, next_);
  }

  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    // Gather up to one TLS record of plaintext so that Beast's header and
    // body buffers go out as one record rather than several small ones.
    std::size_t total = boost::asio::buffer_size(buffers);
    if (total > kMaxRecord) total = kMaxRecord;
    write_scratch_.resize(total);
    boost::asio::buffer_copy(boost::asio::buffer(write_scratch_), buffers, total);
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        detail::IoOp<Stream, WriteAction, true>{*this, WriteAction{&write_scratch_}}, token, next_);
  }

 private:
  static constexpr std::size_t kMaxRecord = 16384;

  struct HandshakeAction {
    Engine::Want operator()(Engine& e, boost::system::error_code& ec, std::size_t&) const { return e.handshake(ec); }
  };
  struct ShutdownAction {
    Engine::Want operator()(Engine& e, boost::system::error_code& ec, std::size_t&) const { return e.shutdown(ec); }
  };
  struct ReadAction {
    boost::asio::mutable_buffer buf;
    Engine::Want operator()(Engine& e, boost::system::error_code& ec, std::size_t& n) const {
      return e.read(buf.data(), buf.size(), n, ec);
    }
  };
  struct WriteAction {
    const std::vector<std::uint8_t>* data;
    Engine::Want operator()(Engine& e, boost::system::error_code& ec, std::size_t& n) const {
      return e.write(data->data(), data->size(), n, ec);
    }
  };
  NextLayer next_;
  Engine engine_;
  std::vector<std::uint8_t> write_scratch_;
};

}  // namespace rsp::tls
