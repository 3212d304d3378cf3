// The card side's transport for SCP81: one TLS 1.2 connection with a
// pre-shared key (RFC 4279; the PSK suites GlobalPlatform Amendment B
// requires), over mbedTLS as a card's TLS stack would be, and HTTP/1.1 on
// it: POSTs with a chunked body (Amendment B 3.4: the admin agent sends its
// requests with chunked transfer encoding), answers read with Content-Length
// or chunked bodies. Blocking, with a deadline per read; loopback or a BIP
// channel's TCP socket in the simulators.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "rsp/bytes.hpp"

namespace rsp::admin_agent {

// Connection, handshake or HTTP framing failures; `mbedtls_code` is the
// mbedTLS error (0 when not from mbedTLS).
struct AgentError : std::runtime_error {
  int mbedtls_code = 0;
  AgentError(const std::string& m, int code = 0) : std::runtime_error(m), mbedtls_code(code) {}
};

// mbedTLS suite ids (MBEDTLS_TLS_PSK_WITH_*) a card offers by default: the
// suites of Amendment B for TLS 1.2, strongest first.
std::vector<int> default_psk_suites();

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpReply {
  int status = 0;
  std::vector<HttpHeader> headers;
  Bytes body;
  // First value of a header, case-insensitive name; "" when absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

struct PskTlsOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string host_header;  // the Host header; empty = host
  std::string psk_identity;
  SecretBytes psk;
  std::vector<int> suites;  // empty = default_psk_suites()
  std::chrono::milliseconds timeout{10'000};  // per read, and the connect
  std::size_t max_body_bytes = 64 * 1024;
};

class PskTlsConnection {
 public:
  // Connects and completes the handshake; throws AgentError.
  explicit PskTlsConnection(const PskTlsOptions& options);
  ~PskTlsConnection();  // close_notify, then closes
  PskTlsConnection(const PskTlsConnection&) = delete;
  PskTlsConnection& operator=(const PskTlsConnection&) = delete;

  // IANA-style name mbedTLS gives the negotiated suite ("TLS-PSK-WITH-AES-128-GCM-SHA256").
  std::string suite() const;

  // One request and its answer on the kept-alive connection. `body` goes
  // chunked when `chunked` (an empty body then is just the last chunk).
  HttpReply post(const std::string& target, const std::vector<HttpHeader>& headers, ByteView body,
                 bool chunked = true);

  // Sends close_notify and closes the socket (the destructor does it too).
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rsp::admin_agent
