#include "rsp/agents/ota_stack.hpp"

#include <fstream>
#include <thread>
#include <nlohmann/json.hpp>

#include "rsp/crypto.hpp"
#include "rsp/json.hpp"
#include "rsp/lpa/pcsc.hpp"
#include "rsp/pki.hpp"

namespace rsp::agents {

namespace fs = std::filesystem;
using json = nlohmann::json;

class OtaStack::LockedCard : public apdu::Transport {
 public:
  explicit LockedCard(apdu::Transport& card) : card_(card) {}
  Bytes transmit(ByteView c) override {
    std::lock_guard l(mu_);
    return card_.transmit(c);
  }
  Bytes reset() override {
    std::lock_guard l(mu_);
    return card_.reset();
  }

 private:
  apdu::Transport& card_;
  std::mutex mu_;
};

void load_masim_keys(const fs::path& path, OtaStackOptions& o) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read " + path.string());
  std::string text((std::istreambuf_iterator<char>(f)), {});
  json j = parse_json(text, JsonLimits{64 * 1024, 6, 1000, 4096});
  if (!j.is_object() || !j.contains("key_sets") || !j["key_sets"].is_array())
    throw std::runtime_error(path.string() + ": no key_sets");
  for (const auto& k : j["key_sets"]) {
    if (!k.is_object() || k.value("algorithm", "") != "aes") continue;
    o.key_version = static_cast<std::uint8_t>(k.value("version", 1));
    o.kic = from_hex(k.at("kic").get<std::string>());
    o.kid = from_hex(k.at("kid").get<std::string>());
    if (j.contains("scp81") && j["scp81"].is_object()) {
      const auto& s = j["scp81"];
      o.scp81_psk_identity = s.at("psk_identity").get<std::string>();
      o.scp81_psk = from_hex(s.at("psk").get<std::string>());
      o.scp81_key_version = s.value("key_version", o.scp81_key_version);
      o.scp81_key_id = s.value("key_id", o.scp81_key_id);
    }
    return;
  }
  throw std::runtime_error(path.string() + ": no AES key set");
}

OtaStack::OtaStack(OtaStackOptions o) : o_(std::move(o)) {
  fs::create_directories(o_.dir);
  if (o_.kic.empty()) o_.kic = crypto::random_bytes(16);
  if (o_.kid.empty()) o_.kid = crypto::random_bytes(16);
  if (o_.transport != "sms" && o_.transport != "scp81") throw std::invalid_argument("OTA transport must be sms or scp81");
  const bool scp81 = o_.transport == "scp81";
  if (scp81 && o_.scp81_psk.empty()) {
    if (!o_.pcsc_reader.empty()) throw std::invalid_argument("SCP81 through PC/SC: the card's PSK is needed");
    o_.scp81_psk = crypto::random_bytes(16);
  }

  // otad's TLS: a server certificate for "localhost" under a fresh test CA,
  // and the home operator's client certificate under its own CA.
  certs::PkiOptions po;
  po.dp_host = "localhost";
  certs::Pki pki = certs::generate_pki(po);
  auto opca = certs::issue_operator_ca("Home operator OTA clients CA");
  auto op = certs::issue_operator_certificate(opca, "home-operator-agent");
  client_tls_.ca_pem = to_bytes(certs::to_pem(pki.ci.der));
  client_tls_.client_cert_pem = to_bytes(certs::to_pem(op.der));
  client_tls_.client_key_pem = SecretBytes(to_bytes(op.key.private_pem()));

  // The card.
  if (o_.pcsc_reader.empty()) {
    masim::MasimConfig mc;
    mc.iccid = o_.iccid;
    ota::KeySet k;
    k.version = o_.key_version;
    k.cipher = k.checksum = ota::Algorithm::Aes;
    k.kic = SecretBytes(o_.kic);
    k.kid = SecretBytes(o_.kid);
    mc.key_sets = {k};
    mc.applet_msl = o_.applet_msl;
    if (scp81) {
      // The admin server's address and port come in the push SMS (otad's
      // listener below), so the card stores none.
      masim::MasimScp81 s;
      s.psk_identity = o_.scp81_psk_identity;
      s.psk = SecretBytes(o_.scp81_psk);
      s.key_version = o_.scp81_key_version;
      s.key_id = o_.scp81_key_id;
      s.timeout = std::chrono::milliseconds(5000);
      mc.scp81 = s;
    }
    sim_ = std::make_unique<masim::MultiAccountSim>(mc);
    link_ = std::make_unique<LockedCard>(*sim_);
  } else {
    reader_ = std::make_unique<pcsc::Reader>(pcsc::Reader::connect(o_.pcsc_reader, pcsc::Protocol::T1));
    link_ = std::make_unique<LockedCard>(*reader_);
  }

  // The SMSC and the handset the card sits in.
  smsc_ = std::make_unique<sim::Smsc>(sim::SmscConfig{});
  const std::uint16_t smpp_port = smsc_->start();
  handset_ = std::make_unique<sim::Handset>(
      o_.msisdn, [this](ByteView c) { return link_->transmit(c); },
      [this](const std::string& from, ByteView tpdu) { smsc_->submit_mo(from, tpdu); });
  smsc_->register_handset(o_.msisdn, handset_.get());

  // otad in this process, the way otad.json would configure it.
  otad::Config c;
  c.db_path = (o_.dir / "otad.db").string();
  c.storage_key = SecretBytes(crypto::random_bytes(32));
  c.port = 0;
  c.threads = 2;
  c.tls_certificate = to_bytes(certs::to_pem(pki.dp_tls.der));
  c.tls_key = SecretBytes(to_bytes(pki.dp_tls.key.private_pem()));
  c.client_ca = to_bytes(certs::to_pem(opca.der));
  c.smpp.port = smpp_port;
  c.smpp.bind.system_id = "ota";
  c.smpp.bind.password = "secret";
  c.smpp.response_timeout = std::chrono::milliseconds(5000);
  c.por_timeout_ms = 10'000;
  c.campaigns.tick_ms = 20;
  c.campaigns.retry_backoff_ms = 500;
  if (scp81) {
    // Loopback, ephemeral port; the trigger carries the bound port.
    c.scp81.enabled = true;
    c.scp81.port = 0;
    c.scp81.session_timeout_ms = 5000;
  }
  daemon_ = std::make_unique<otad::Daemon>(c);
  daemon_->start();

  client_ = std::make_unique<OtadClient>(otad_url(), client_tls_, o_.transport);

  // The home operator registers the card (POST /ota/v1/cards).
  json body = {{"iccid", o_.iccid},
               {"msisdn", o_.msisdn},
               {"key_sets",
                {{{"version", o_.key_version},
                  {"cipher", "AES"},
                  {"kic", to_hex(o_.kic)},
                  {"checksum", "AES"},
                  {"kid", to_hex(o_.kid)},
                  {"counter", o_.counter}}}},
               {"tars", {{{"tar", "4D4153"}, {"msl", to_hex(Bytes{o_.applet_msl})}, {"key_version", o_.key_version}}}}};
  if (scp81) {
    // The push SMS goes to the ISD (TAR 000000, Amendment B 2.4.3.2).
    body["tars"].push_back({{"tar", "000000"}, {"msl", "16"}, {"key_version", o_.key_version}});
    body["scp81"] = {{"psk_identity", o_.scp81_psk_identity},
                     {"psk", to_hex(o_.scp81_psk)},
                     {"key_version", o_.scp81_key_version},
                     {"key_id", o_.scp81_key_id}};
  }
  http::Client hc(client_tls_);
  http::Headers h;
  h.set("Content-Type", "application/json");
  std::string b = body.dump();
  auto r = hc.post(otad_url() + "/ota/v1/cards", b, h);
  wipe(b.data(), b.size());
  if (r.status != 201) throw std::runtime_error("otad refused the card: HTTP " + std::to_string(r.status) + " " + r.body);
}

OtaStack::~OtaStack() {
  if (daemon_) daemon_->stop();  // first: a card's admin session still open ends now
  if (sim_) sim_->wait_admin_idle(std::chrono::seconds(10));
  if (smsc_) smsc_->stop();
}

apdu::Transport& OtaStack::card() { return *link_; }

bool OtaStack::wait_refreshes(std::uint64_t n, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (handset_->stats().refreshes < n) {
    if (std::chrono::steady_clock::now() >= until) return false;
    if (o_.transport == "scp81") handset_->poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::uint64_t OtaStack::counter() const {
  http::Client hc(client_tls_);
  auto r = hc.get(otad_url() + "/ota/v1/cards/" + o_.iccid);
  if (r.status != 200) throw std::runtime_error("otad: card " + o_.iccid + ": HTTP " + std::to_string(r.status));
  json j = parse_json(r.body, JsonLimits{64 * 1024, 6, 1000, 4096});
  for (const auto& k : j.at("key_sets"))
    if (k.value("version", 0) == o_.key_version) return k.at("counter").get<std::uint64_t>();
  throw std::runtime_error("otad: card " + o_.iccid + " has no key set " + std::to_string(o_.key_version));
}

std::string OtaStack::otad_url() const { return "https://localhost:" + std::to_string(daemon_->port()); }

}  // namespace rsp::agents
