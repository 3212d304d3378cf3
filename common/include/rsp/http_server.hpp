// HTTP/1.1 server (plain or TLS 1.2 over OpenSSL 3) on Boost.Asio + Beast.
//
// This header is deliberately light (no Boost, no OpenSSL): the Asio/Beast
// and TLS machinery lives in http_server.cpp and rsp/tls.hpp. See docs/http.md.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rsp/bytes.hpp"

namespace rsp::crypto {
class Signer;  // rsp/signer.hpp
}  // namespace rsp::crypto

namespace rsp::http {

// Ordered header list with case-insensitive names (RFC 9110 field names).
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  // First value for `name`, or nullopt.
  std::optional<std::string> get(std::string_view name) const;
  std::string get_or(std::string_view name, std::string_view fallback) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  // Replaces every field called `name` by one field.
  void set(std::string_view name, std::string_view value);
  // Appends (keeps existing fields of that name).
  void add(std::string_view name, std::string_view value);
  void remove(std::string_view name);

  const std::vector<Field>& fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }
  std::size_t size() const { return fields_.size(); }

 private:
  std::vector<Field> fields_;
};

bool iequals(std::string_view a, std::string_view b);

// Bad TLS material or settings (certificate, key, suite or curve names).
struct TlsConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Request {
  std::string method;  // "POST", "GET", ...
  std::string target;  // request target as sent: "/gsma/rsp2/es9plus/initiateAuthentication?x=y"
  Headers headers;
  std::string body;
  unsigned version = 11;  // 10 or 11
  // DER of the client certificate, set only when the client presented one and
  // it verified against ServerTlsConfig::client_ca_chain (mutual TLS).
  std::optional<Bytes> peer_certificate;
  // PSK identity the client used (PSK TLS mode only).
  std::optional<std::string> psk_identity;
  std::string remote_address;  // "127.0.0.1:54321" / "[::1]:54321"
  bool tls = false;

  // The target without "?query".
  std::string_view path() const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  static Response json(std::string body, int status = 200);
  static Response text(int status, std::string body);
  static Response empty(int status = 204);
};

using Handler = std::function<Response(const Request&)>;
using LogSink = std::function<void(std::string_view)>;

// The default log sink: one line per call to stderr.
void log_to_stderr(std::string_view line);

// Which client certificate policy the server applies (mutual TLS).
enum class ClientAuth { None, Optional, Required };

// TLS settings of the server. TLS 1.2 only (min = max = 1.2, SGP.22 2.6.6),
// sessions resumable (tickets and a server-side cache).
struct ServerTlsConfig {
  // Server certificate chain, leaf first: PEM (one or more CERTIFICATE blocks)
  // or DER (one or more concatenated certificates). OpenSSL accepts SGP.22's
  // critical certificatePolicies and nameConstraints.
  Bytes certificate_chain;
  // Private key matching the leaf: PEM (SEC1 or PKCS#8) or DER.
  SecretBytes private_key;
  // Or, instead of private_key, a signer for a key that stays where it is
  // (a PKCS#11 token): the handshake's ECDSA signatures are its
  // sign_digest(). Checked against the leaf at start like a key.
  std::shared_ptr<const crypto::Signer> key_signer;

  // IANA suite names ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256") in order of
  // preference. Empty = defaults: the SGP.22 2.6.6 suites when a certificate is
  // configured, followed by the PSK suites when psk_lookup is set.
  std::vector<std::string> cipher_suites;
  // Named groups accepted for ECDHE, by their TLS registry (RFC 8422,
  // RFC 7027) names, which are OpenSSL's: "secp256r1" (or "P-256"),
  // "brainpoolP256r1", "secp384r1".
  std::vector<std::string> curves = {"secp256r1", "brainpoolP256r1", "secp384r1"};

  // Mutual TLS. With Required, handshakes without a verifiable client
  // certificate fail. With Optional, the handshake succeeds either way and
  // Request::peer_certificate is set only when the certificate verified.
  // Every certificate in client_ca_chain is a trust anchor; client
  // certificates and their CAs may carry critical certificatePolicies and
  // nameConstraints (RFC 5280 4.2.1.4, 4.2.1.10; OpenSSL enforces the
  // latter).
  ClientAuth client_auth = ClientAuth::None;
  Bytes client_ca_chain;  // PEM or DER, like certificate_chain

  // PSK TLS (GlobalPlatform SCP81 style). Called during the handshake with the
  // client's identity; return the key, or nullopt to reject the identity.
  // Setting it enables the PSK suites; certificate_chain may then be empty.
  std::function<std::optional<SecretBytes>(std::string_view identity)> psk_lookup;
};

struct ServerConfig {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = ephemeral; see Server::port()
  std::optional<ServerTlsConfig> tls;  // nullopt = plain HTTP
  std::size_t threads = 2;             // worker threads on one io_context
  std::size_t max_body_bytes = 4 * 1024 * 1024;  // larger bodies get 413
  std::size_t max_header_bytes = 16 * 1024;      // larger headers get 431
  // Per-path body limit (called with Request::path() once the headers are
  // in; the result is capped by max_body_bytes). Empty = max_body_bytes for
  // every path. A Content-Length over the limit gets 413 before any of the
  // body is read.
  std::function<std::size_t(std::string_view path)> body_limit;
  // Open connections (TLS handshakes included). At the cap the server stops
  // accepting (clients wait in the kernel's backlog) until one closes.
  std::size_t max_connections = 1024;
  // Deadline for the TLS handshake.
  std::chrono::milliseconds handshake_timeout{10'000};
  // Deadline for the request line and headers, counted from when the server
  // starts waiting for them (so also the keep-alive idle timeout).
  std::chrono::milliseconds header_timeout{10'000};
  // Deadline for reading one whole request (headers and body), counted from
  // the same moment: a client that trickles its body is cut off here.
  std::chrono::milliseconds read_timeout{30'000};
  // Deadline for writing one response.
  std::chrono::milliseconds write_timeout{30'000};
  std::string server_header = "rsp";  // value of the Server header ("" = none)
  LogSink log;          // empty = log_to_stderr; bodies are never logged
  bool log_requests = false;  // one line per request: method, path, status
  // Called once per TLS handshake with its outcome (metrics: handshakes by
  // listener and result). Runs on a worker thread; keep it cheap.
  std::function<void(bool ok)> on_tls_handshake;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bound, closed), for
// servers whose port must be known before they start (configurations that
// carry their own address). Drawn below the kernel's ephemeral port range, so
// that no outgoing connection takes it in between (falls back to a port the
// kernel picks if none there binds).
std::uint16_t free_loopback_port();

class Server {
 public:
  Server(ServerConfig config, Handler handler);
  ~Server();  // stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the TLS material, binds, listens and starts the worker threads.
  // Throws std::runtime_error (rsp::http::TlsConfigError for bad TLS
  // material) on failure. A server starts once.
  void start();
  // Stops accepting, abandons open connections and joins the workers.
  // Handlers running at that moment finish first. Idempotent.
  void stop();

  std::uint16_t port() const;  // bound port (valid after start())
  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rsp::http
