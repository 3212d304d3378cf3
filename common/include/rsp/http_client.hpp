// HTTP(S) client on libcurl (OpenSSL flavour): one easy handle per Client,
// reused across requests so connections (and TLS sessions) are kept alive.
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "rsp/bytes.hpp"
#include "rsp/http_server.hpp"  // Headers, Response

namespace rsp::http {

// A transfer failed (connect, TLS, timeout...): what() is curl's message.
// HTTP error statuses are not exceptions: they come back in Response::status.
struct HttpError : std::runtime_error {
  HttpError(const std::string& message, int code) : std::runtime_error(message), curl_code(code) {}
  int curl_code;  // CURLcode
};

struct ClientConfig {
  // Trust anchors for the server certificate: a PEM file, or PEM bytes
  // (CURLOPT_CAINFO_BLOB). Neither = the system store.
  std::optional<std::string> ca_file;
  std::optional<Bytes> ca_pem;
  bool verify_peer = true;  // CURLOPT_SSL_VERIFYPEER
  bool verify_host = true;  // CURLOPT_SSL_VERIFYHOST (name in URL vs certificate)

  // Client certificate for mutual TLS: PEM files or PEM bytes.
  std::optional<std::string> client_cert_file;
  std::optional<std::string> client_key_file;
  std::optional<Bytes> client_cert_pem;
  std::optional<SecretBytes> client_key_pem;

  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{30'000};  // whole transfer
  bool tls12_only = false;  // pin TLS 1.2 (min = max = 1.2)
  // OpenSSL cipher list (TLS 1.2) and groups, e.g.
  // "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256" and
  // "prime256v1:brainpoolP256r1". Empty = curl's defaults.
  std::string cipher_list;
  std::string curves;
  std::string user_agent = "rsp";
  // Source address to connect from (CURLOPT_INTERFACE "host!<address>"),
  // e.g. "127.0.0.2" to be another client on loopback. Empty = any.
  std::string local_address;
};

class Client {
 public:
  explicit Client(ClientConfig config = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Any method; `body` is sent when non-empty or when the method is POST/PUT.
  // Throws HttpError when no HTTP response was received. Calls on one Client
  // are serialised (internal mutex); use one Client per thread for parallelism.
  Response request(std::string_view method, const std::string& url, const Headers& headers = {},
                   std::string_view body = {});
  Response post(const std::string& url, std::string_view body, const Headers& headers = {}) {
    return request("POST", url, headers, body);
  }
  Response get(const std::string& url, const Headers& headers = {}) { return request("GET", url, headers); }

  const ClientConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rsp::http
