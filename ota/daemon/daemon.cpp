#include "rsp/otad/daemon.hpp"

#include "rsp/log.hpp"

namespace rsp::otad {

Daemon::Daemon(Config config) : config_(std::move(config)) {
  db_ = std::make_unique<store::Db>(config_.db_path);
  cards_ = std::make_unique<ota::CardStore>(*db_, config_.storage_key);
  jobs_ = std::make_unique<CampaignStore>(*db_, config_.storage_key);
  scp81_keys_ = std::make_shared<Scp81Keys>(*db_, config_.storage_key);
  metrics_ = std::make_unique<OtadMetrics>();
  OtadMetrics* m = metrics_.get();
  metrics_->registry.on_scrape([this] { metrics_->collect_from(*db_); });
  store_ready_ = std::make_unique<StoreReadiness>(*db_, config_.db_path, "otad_jobs");
  ota::SmsSenderConfig sc;
  sc.originator = config_.originator;
  sc.por_timeout = std::chrono::milliseconds(config_.por_timeout_ms);
  sc.on_por = [m](std::uint8_t status) { m->por(status); };
  sender_ = std::make_unique<ota::SmsCommandSender>(*cards_, config_.smpp, sc);
  runner_ = std::make_unique<CampaignRunner>(*jobs_, *cards_, *sender_, config_.campaigns, sc.por_timeout,
                                             config_.campaigns.commands_per_second);
  runner_->on_sent([m](Transport t, int attempt, std::size_t sms) { m->command_sent(t == Transport::Scp81, attempt, sms); });
  if (config_.scp81.enabled) {
    scp81_sessions_ = std::make_unique<Scp81Sessions>(config_.scp81, *scp81_keys_);
    runner_->set_scp81(scp81_sessions_.get(), std::chrono::milliseconds(config_.scp81.session_timeout_ms));
    ota::scp81::AdminServerConfig ac;
    ac.bind_address = config_.scp81.listen;
    ac.port = config_.scp81.port;
    ac.admin_path = config_.scp81.admin_path;
    ac.session_timeout = std::chrono::milliseconds(config_.scp81.session_timeout_ms);
    ac.threads = config_.threads;
    ac.handshake_timeout = std::chrono::seconds(config_.limits.handshake_timeout_seconds);
    ac.header_timeout = std::chrono::seconds(config_.limits.header_timeout_seconds);
    ac.log = [](std::string_view line) { log::info("otad", "scp81: " + std::string(line)); };
    Scp81Sessions* sessions = scp81_sessions_.get();
    admin_ = std::make_unique<ota::scp81::AdminServer>(
        ac, scp81_keys_, [sessions](const ota::scp81::SessionView& v) { return sessions->next_script(v); },
        [sessions, m](const ota::scp81::SessionReport& r) {
          m->scp81_session(ota::scp81::outcome_name(r.outcome));
          sessions->on_report(r);
        });
  }
  api_ = std::make_unique<Api>(*cards_, *jobs_, *runner_, config_.limits, config_.campaigns.commands_per_second,
                               *scp81_keys_, config_.scp81.enabled);

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
  hc.on_tls_handshake = metrics_->handshake_counter("api");
  http_ = std::make_unique<http::Server>(hc, [this, m](const http::Request& r) {
    auto t0 = std::chrono::steady_clock::now();
    http::Response res = api_->handle(r);
    m->api_request(r.method, r.path(), res.status, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return res;
  });
  if (config_.admin.enabled)
    admin_http_ = std::make_unique<http::Server>(admin_server_config(config_.admin), [this](const http::Request& r) {
      return handle_admin(r, metrics_->registry, [this] { return readiness(); });
    });
}

std::string Daemon::readiness() {
  if (std::string why = store_ready_->check(); !why.empty()) return why;
  try {
    if (std::string why = cards_->check_storage_key(); !why.empty()) return "storage key: " + why;
  } catch (const std::exception& e) {
    return std::string("store: ") + e.what();
  }
  // Every command goes out by SMS (an SCP81 job's push SMS too): without
  // the SMPP bind nothing reaches a card. The ESME rebinds by itself.
  if (!sender_->esme().bound())
    return "smpp: not bound to the SMSC at " + config_.smpp.host + ":" + std::to_string(config_.smpp.port);
  return "";
}

Daemon::~Daemon() { stop(); }

void Daemon::start() {
  resumed_ = runner_->resume();  // before the ESME binds: the SMSC's stored PoRs must find their commands
  if (resumed_) log::info("otad", "resumed " + std::to_string(resumed_) + " commands out at the last stop");
  if (admin_) {
    admin_->start();  // before the runner: the triggers advertise its port
    scp81_sessions_->set_listening_port(admin_->port());
    log::info("otad", "SCP81 admin server on " + config_.scp81.listen + ":" + std::to_string(admin_->port()));
  }
  sender_->start();
  runner_->start();
  http_->start();
  if (admin_http_) admin_http_->start();
  started_ = true;
}

void Daemon::stop() {
  if (!started_) return;
  started_ = false;
  if (admin_http_) admin_http_->stop();
  http_->stop();
  runner_->stop();
  if (admin_) admin_->stop();
  sender_->stop();
}

std::uint16_t Daemon::port() const { return http_->port(); }
std::uint16_t Daemon::scp81_port() const { return admin_ ? admin_->port() : 0; }
std::uint16_t Daemon::admin_port() const { return admin_http_ ? admin_http_->port() : 0; }

}  // namespace rsp::otad
