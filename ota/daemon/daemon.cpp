#include "rsp/otad/daemon.hpp"

#include "rsp/log.hpp"

namespace rsp::otad {

Daemon::Daemon(Config config) : config_(std::move(config)) {
  db_ = std::make_unique<store::Db>(config_.db_path);
  cards_ = std::make_unique<ota::CardStore>(*db_, config_.storage_key);
  jobs_ = std::make_unique<CampaignStore>(*db_, config_.storage_key);
  ota::SmsSenderConfig sc;
  sc.originator = config_.originator;
  sc.por_timeout = std::chrono::milliseconds(config_.por_timeout_ms);
  sender_ = std::make_unique<ota::SmsCommandSender>(*cards_, config_.smpp, sc);
  runner_ = std::make_unique<CampaignRunner>(*jobs_, *cards_, *sender_, config_.campaigns, sc.por_timeout,
                                             config_.campaigns.commands_per_second);
  api_ = std::make_unique<Api>(*cards_, *jobs_, *runner_, config_.limits, config_.campaigns.commands_per_second);

  const Limits& lim = config_.limits;
  http::ServerConfig hc;
  hc.bind_address = config_.listen;
  hc.port = config_.port;
  hc.threads = config_.threads;
  hc.max_body_bytes = std::max({lim.campaign_body_bytes, lim.command_body_bytes, lim.small_body_bytes});
  hc.body_limit = [lim](std::string_view path) { return api_body_limit(lim, path); };
  hc.max_connections = lim.max_connections;
  hc.handshake_timeout = std::chrono::seconds(lim.handshake_timeout_seconds);
  hc.header_timeout = std::chrono::seconds(lim.header_timeout_seconds);
  hc.read_timeout = std::chrono::seconds(lim.read_timeout_seconds);
  http::ServerTlsConfig t;
  t.certificate_chain = config_.tls_certificate;
  t.private_key = config_.tls_key;
  // The home operator only: a client certificate under the configured CA
  // (like ES2+, SGP.22 2.6.6 / 5.3).
  t.client_auth = http::ClientAuth::Required;
  t.client_ca_chain = config_.client_ca;
  hc.tls = t;
  http_ = std::make_unique<http::Server>(hc, [this](const http::Request& r) { return api_->handle(r); });
}

Daemon::~Daemon() { stop(); }

void Daemon::start() {
  resumed_ = runner_->resume();  // before the ESME binds: the SMSC's stored PoRs must find their commands
  if (resumed_) log::info("otad", "resumed " + std::to_string(resumed_) + " commands out at the last stop");
  sender_->start();
  runner_->start();
  http_->start();
  started_ = true;
}

void Daemon::stop() {
  if (!started_) return;
  started_ = false;
  http_->stop();
  runner_->stop();
  sender_->stop();
}

std::uint16_t Daemon::port() const { return http_->port(); }

}  // namespace rsp::otad
