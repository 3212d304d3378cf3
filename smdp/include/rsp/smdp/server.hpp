// The SM-DP+ HTTPS front: ES9+ routes over rsp::http::Server (TLS 1.2 with
// CERT.DP.TLS and the SGP.22 2.6.6 suites).
#pragma once
#include <memory>
#include <string>

#include "rsp/http_server.hpp"
#include "rsp/smdp/es2plus.hpp"
#include "rsp/smdp/es9plus.hpp"
#include "rsp/smdp/progress_notifier.hpp"

namespace rsp::smdp {

// Maps one HTTP request to an ES9+ function (SGP.22 6.5: POST
// /gsma/rsp2/es9plus/<function>, JSON, X-Admin-Protocol gsma/rsp/v2.x).
http::Response handle_es9plus(Es9Plus& es9, const http::Request& req);
// ES2+ (SGP.22 6.5.2): POST /gsma/rsp2/es2plus/<function>; the operator is
// the one whose pinned certificate the client presented.
http::Response handle_es2plus(Es2Plus& es2, const std::vector<OperatorConfig>& operators, const http::Request& req);

class Server {
 public:
  explicit Server(const Config& config);
  ~Server();
  void start();
  void stop();
  std::uint16_t port() const;
  std::uint16_t es2plus_port() const;
  Es9Plus& es9plus() { return *es9_; }
  Es2Plus& es2plus() { return *es2_; }
  ProgressNotifier& notifier() { return *notifier_; }
  ProfileStore& profiles() { return *profiles_; }

 private:
  std::unique_ptr<store::Db> db_;
  std::unique_ptr<ProfileStore> profiles_;
  std::unique_ptr<Es9Plus> es9_;
  std::unique_ptr<Es2Plus> es2_;
  std::unique_ptr<ProgressNotifier> notifier_;
  std::unique_ptr<http::Server> http_, es2_http_;
  std::vector<OperatorConfig> operators_;
};

}  // namespace rsp::smdp
