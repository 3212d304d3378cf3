// The server side of TLS 1.2 on OpenSSL 3, for Boost.Asio's own
// boost::asio::ssl::stream (Beast's ssl_stream): rsp::http::Server wraps each
// connection in one. What is ours is the SSL_CTX built from
// http::ServerTlsConfig (SGP.22 2.6.6 suites and curves, client
// authentication, PSK, session resumption, a key that stays in a token) and
// the per-connection results the handlers see. See docs/http.md.
//
// mbedTLS is the card side's library (simulators/); the server side used a
// hand-written mbedTLS stream adapter until the move to OpenSSL (issue 12):
// `git show 1ea30c0:common/src/tls.cpp` has it.
//
// This header names no OpenSSL type beyond the two forward declarations
// below, so code that includes it (tests that also use mbedTLS) does not get
// OpenSSL's headers.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/http_server.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX
struct ssl_st;      // OpenSSL's SSL

namespace rsp::tls {

// Splits a certificate chain (PEM CERTIFICATE blocks or concatenated DER)
// and parses each certificate with OpenSSL, which accepts SGP.22's critical
// certificatePolicies and nameConstraints (extensions it implements).
// Returns the DER of each; throws http::TlsConfigError.
std::vector<Bytes> parse_certificate_chain(ByteView pem_or_der);

// OpenSSL's name of an IANA cipher suite name
// ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" -> "ECDHE-ECDSA-AES128-GCM-SHA256");
// throws http::TlsConfigError when OpenSSL does not know it.
std::string openssl_suite_name(const std::string& iana);

// The shared, immutable server-side configuration: one SSL_CTX, TLS 1.2
// only, built once from http::ServerTlsConfig and shared by every connection.
class ServerContext {
 public:
  explicit ServerContext(const http::ServerTlsConfig& cfg);  // throws http::TlsConfigError
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // The SSL_CTX (owned here; SSL_CTX_up_ref it to share ownership).
  ssl_ctx_st* native_handle() const;
  // IANA names of the enabled suites, in preference order.
  std::vector<std::string> cipher_suites() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// After the handshake of `ssl` (made from a ServerContext): the client's
// certificate (DER) when it presented one and it verified against
// ServerTlsConfig::client_ca_chain, and the PSK identity it used.
std::optional<Bytes> verified_peer_certificate(ssl_st* ssl);
std::optional<std::string> psk_identity(ssl_st* ssl);

}  // namespace rsp::tls
