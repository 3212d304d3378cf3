// PSK-TLS 1.2 client and HTTP/1.1 framing for the card's admin agent over
// mbedTLS 2.28 (Debian 12); see psk_tls_connection.hpp.
#include "rsp/admin_agent/psk_tls_connection.hpp"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace rsp::admin_agent {

namespace {

std::string mbedtls_text(int code) {
  char buf[160];
  mbedtls_strerror(code, buf, sizeof buf);
  return buf;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;

}  // namespace

std::vector<int> default_psk_suites() {
  // GlobalPlatform Amendment B (TLS 1.2): TLS_PSK_WITH_AES_128_GCM_SHA256 and
  // TLS_PSK_WITH_AES_128_CBC_SHA256 (RFC 5487); AES-128-CCM (RFC 6655) as
  // the server also offers it. TLS_PSK_WITH_NULL_SHA256 is not compiled into
  // Debian's mbedTLS (FIELD-NOTES).
  return {MBEDTLS_TLS_PSK_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_PSK_WITH_AES_128_CBC_SHA256,
          MBEDTLS_TLS_PSK_WITH_AES_128_CCM};
}

std::string HttpReply::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequal(h.name, name)) return h.value;
  return "";
}

bool HttpReply::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(), [&](const HttpHeader& h) { return iequal(h.name, name); });
}

struct PskTlsConnection::Impl {
  mbedtls_net_context net;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_ssl_config conf;
  mbedtls_ssl_context ssl;
  std::vector<int> suites;  // zero-terminated, alive as long as conf
  SecretBytes psk;
  std::string host;
  std::size_t max_body = 0;
  std::string inbuf;  // bytes read past the last answer
  bool open = false;

  Impl() {
    mbedtls_net_init(&net);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
  }
  ~Impl() {
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    mbedtls_net_free(&net);
  }

  void write_all(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      int n = mbedtls_ssl_write(&ssl, reinterpret_cast<const unsigned char*>(data.data()) + sent, data.size() - sent);
      if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
      if (n <= 0) throw AgentError("TLS write: " + mbedtls_text(n), n);
      sent += static_cast<std::size_t>(n);
    }
  }

  // More bytes into inbuf; throws at EOF, timeout or error.
  void fill() {
    unsigned char buf[4096];
    for (;;) {
      int n = mbedtls_ssl_read(&ssl, buf, sizeof buf);
      if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
      if (n == 0 || n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) throw AgentError("server closed the connection");
      if (n < 0) throw AgentError("TLS read: " + mbedtls_text(n), n);
      inbuf.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
      return;
    }
  }

  std::string read_line() {
    for (;;) {
      auto eol = inbuf.find("\r\n");
      if (eol != std::string::npos) {
        std::string line = inbuf.substr(0, eol);
        inbuf.erase(0, eol + 2);
        return line;
      }
      if (inbuf.size() > kMaxHeaderBytes) throw AgentError("HTTP line too long");
      fill();
    }
  }

  Bytes read_exact(std::size_t n) {
    while (inbuf.size() < n) fill();
    Bytes out(inbuf.begin(), inbuf.begin() + static_cast<std::ptrdiff_t>(n));
    inbuf.erase(0, n);
    return out;
  }

  HttpReply read_reply() {
    HttpReply r;
    std::string status = read_line();
    // "HTTP/1.1 200 OK"
    if (status.rfind("HTTP/1.", 0) != 0 || status.size() < 12) throw AgentError("not an HTTP status line");
    r.status = std::atoi(status.substr(9, 3).c_str());
    std::size_t header_bytes = 0;
    for (;;) {
      std::string line = read_line();
      if (line.empty()) break;
      header_bytes += line.size();
      if (header_bytes > kMaxHeaderBytes) throw AgentError("HTTP headers too long");
      auto colon = line.find(':');
      if (colon == std::string::npos) throw AgentError("malformed HTTP header");
      r.headers.push_back({trim(std::string_view(line).substr(0, colon)), trim(std::string_view(line).substr(colon + 1))});
    }
    if (r.status == 204 || r.status == 304 || r.status / 100 == 1) return r;
    if (iequal(r.header("Transfer-Encoding"), "chunked")) {
      for (;;) {
        std::string size_line = read_line();
        std::size_t n = std::stoul(size_line.substr(0, size_line.find(';')), nullptr, 16);
        if (r.body.size() + n > max_body) throw AgentError("HTTP body too large");
        if (n == 0) {
          while (!read_line().empty()) {
          }  // trailers
          break;
        }
        append(r.body, read_exact(n));
        if (!read_line().empty()) throw AgentError("malformed chunk");
      }
    } else if (r.has_header("Content-Length")) {
      std::size_t n = std::stoul(r.header("Content-Length"));
      if (n > max_body) throw AgentError("HTTP body too large");
      r.body = read_exact(n);
    } else {
      throw AgentError("HTTP answer without a length");  // keep-alive needs one
    }
    return r;
  }
};

PskTlsConnection::PskTlsConnection(const PskTlsOptions& o) : impl_(std::make_unique<Impl>()) {
  Impl& I = *impl_;
  I.host = o.host_header.empty() ? o.host : o.host_header;
  I.max_body = o.max_body_bytes;
  I.psk = o.psk;
  I.suites = o.suites.empty() ? default_psk_suites() : o.suites;
  I.suites.push_back(0);
  const char* pers = "rsp-admin-agent";
  int rc = mbedtls_ctr_drbg_seed(&I.drbg, mbedtls_entropy_func, &I.entropy,
                                 reinterpret_cast<const unsigned char*>(pers), std::strlen(pers));
  if (rc != 0) throw AgentError("DRBG seed: " + mbedtls_text(rc), rc);
  const std::string port = std::to_string(o.port);
  rc = mbedtls_net_connect(&I.net, o.host.c_str(), port.c_str(), MBEDTLS_NET_PROTO_TCP);
  if (rc != 0) throw AgentError("connect " + o.host + ":" + port + ": " + mbedtls_text(rc), rc);
  // The handshake's flights go out as several small writes: without
  // TCP_NODELAY, Nagle holds each behind the peer's delayed ACK (~40 ms a
  // round on Linux), which made a loopback handshake take ~45 ms.
  const int one = 1;
  ::setsockopt(I.net.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  rc = mbedtls_ssl_config_defaults(&I.conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                   MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) throw AgentError("TLS config: " + mbedtls_text(rc), rc);
  mbedtls_ssl_conf_rng(&I.conf, mbedtls_ctr_drbg_random, &I.drbg);
  // TLS 1.2 only (Amendment B's PSK suites are TLS 1.2 suites).
  mbedtls_ssl_conf_min_version(&I.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_max_version(&I.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_ciphersuites(&I.conf, I.suites.data());
  mbedtls_ssl_conf_read_timeout(&I.conf, static_cast<std::uint32_t>(o.timeout.count()));
  rc = mbedtls_ssl_conf_psk(&I.conf, I.psk.data(), I.psk.size(),
                            reinterpret_cast<const unsigned char*>(o.psk_identity.data()), o.psk_identity.size());
  if (rc != 0) throw AgentError("TLS PSK: " + mbedtls_text(rc), rc);
  rc = mbedtls_ssl_setup(&I.ssl, &I.conf);
  if (rc != 0) throw AgentError("TLS setup: " + mbedtls_text(rc), rc);
  mbedtls_ssl_set_bio(&I.ssl, &I.net, mbedtls_net_send, nullptr, mbedtls_net_recv_timeout);
  do {
    rc = mbedtls_ssl_handshake(&I.ssl);
  } while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
  if (rc != 0) throw AgentError("PSK-TLS handshake: " + mbedtls_text(rc), rc);
  I.open = true;
}

PskTlsConnection::~PskTlsConnection() { close(); }

void PskTlsConnection::close() {
  if (!impl_->open) return;
  impl_->open = false;
  mbedtls_ssl_close_notify(&impl_->ssl);
  mbedtls_net_free(&impl_->net);
}

std::string PskTlsConnection::suite() const { return mbedtls_ssl_get_ciphersuite(&impl_->ssl); }

HttpReply PskTlsConnection::post(const std::string& target, const std::vector<HttpHeader>& headers, ByteView body,
                                 bool chunked) {
  if (!impl_->open) throw AgentError("connection closed");
  std::string req = "POST " + target + " HTTP/1.1\r\nHost: " + impl_->host + "\r\n";
  for (const auto& h : headers) req += h.name + ": " + h.value + "\r\n";
  if (chunked) {
    req += "Transfer-Encoding: chunked\r\n\r\n";
    if (!body.empty()) {
      char size[20];
      std::snprintf(size, sizeof size, "%zX\r\n", body.size());
      req += size;
      req.append(body.begin(), body.end());
      req += "\r\n";
    }
    req += "0\r\n\r\n";
  } else {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    req.append(body.begin(), body.end());
  }
  impl_->write_all(req);
  return impl_->read_reply();
}

}  // namespace rsp::admin_agent
