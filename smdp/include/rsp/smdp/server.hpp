// The SM-DP+ HTTPS front: ES9+ routes over rsp::http::Server (TLS 1.2 with
// CERT.DP.TLS and the SGP.22 2.6.6 suites).
#pragma once
#include <memory>
#include <string>

#include "rsp/http_server.hpp"
#include "rsp/smdp/es9plus.hpp"

namespace rsp::smdp {

// Maps one HTTP request to an ES9+ function (SGP.22 6.5: POST
// /gsma/rsp2/es9plus/<function>, JSON, X-Admin-Protocol gsma/rsp/v2.x).
http::Response handle_es9plus(Es9Plus& es9, const http::Request& req);

class Server {
 public:
  explicit Server(const Config& config);
  ~Server();
  void start();
  void stop();
  std::uint16_t port() const;
  Es9Plus& es9plus() { return *es9_; }
  ProfileStore& profiles() { return *profiles_; }

 private:
  std::unique_ptr<store::Db> db_;
  std::unique_ptr<ProfileStore> profiles_;
  std::unique_ptr<Es9Plus> es9_;
  std::unique_ptr<http::Server> http_;
};

}  // namespace rsp::smdp
