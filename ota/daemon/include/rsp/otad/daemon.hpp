// otad: the OTA server as one object: the card store and the campaign store
// in one SQLite file, the SMS sender with its SMPP ESME to the SMSC, the
// campaign runner, the operator API over HTTPS with mutual TLS, and (when
// configured) the SCP81 admin server the cards' agents connect to.
#pragma once
#include <cstdint>
#include <memory>

#include "rsp/admin_listener.hpp"
#include "rsp/http_server.hpp"
#include "rsp/ota/scp81_admin_server.hpp"
#include "rsp/ota/card_store.hpp"
#include "rsp/ota/sms_sender.hpp"
#include "rsp/otad/api.hpp"
#include "rsp/otad/campaign_runner.hpp"
#include "rsp/otad/campaign_store.hpp"
#include "rsp/otad/config.hpp"
#include "rsp/otad/metrics.hpp"
#include "rsp/otad/scp81_keys.hpp"
#include "rsp/otad/scp81_sessions.hpp"
#include "rsp/store.hpp"

namespace rsp::otad {

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();  // stop()s
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Resumes the commands that were out at the last stop or crash, binds to
  // the SMSC, starts the runner and the API. Throws on bad TLS material or
  // a port in use.
  void start();
  // API first (no new work), then the runner, then the SMPP link. Nothing
  // durable is lost at any point: a kill -9 does no worse than this.
  void stop();
  std::uint16_t port() const;
  std::uint16_t scp81_port() const;  // 0 when SCP81 is off
  std::uint16_t admin_port() const;  // 0 when the admin listener is off
  const std::string& admin_listen() const { return config_.admin.listen; }
  OtadMetrics& metrics() { return *metrics_; }
  // "" when otad can take and carry commands, else why not (GET
  // /health/ready; docs/ota.md): the store answers and takes its write lock,
  // the storage key opens the store's keys, the ESME is bound to the SMSC.
  std::string readiness();
  std::size_t resumed() const { return resumed_; }

 private:
  Config config_;
  std::unique_ptr<store::Db> db_;
  std::unique_ptr<ota::CardStore> cards_;
  std::unique_ptr<CampaignStore> jobs_;
  std::shared_ptr<Scp81Keys> scp81_keys_;
  std::unique_ptr<Scp81Sessions> scp81_sessions_;
  std::unique_ptr<ota::scp81::AdminServer> admin_;
  std::unique_ptr<ota::SmsCommandSender> sender_;
  std::unique_ptr<CampaignRunner> runner_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<http::Server> http_;
  std::unique_ptr<OtadMetrics> metrics_;
  std::unique_ptr<StoreReadiness> store_ready_;
  std::unique_ptr<http::Server> admin_http_;
  std::size_t resumed_ = 0;
  bool started_ = false;
};

}  // namespace rsp::otad
