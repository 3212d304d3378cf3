// otad's jobs over SCP81 end to end, in one process: the Daemon (operator
// API with mutual TLS, SMPP ESME, campaign runner, SCP81 admin server), the
// simulated SMSC, a simulated handset and the multi-account UICC (masim)
// with its admin agent. A job with "transport": "scp81" sends the push SMS
// (the '81' trigger at the ISD's TAR, SCP80 with AES), the handset hands
// it to the card as ENVELOPE, the card opens PSK-TLS to otad on a thread of
// its own and runs the script on a logical channel; the response script
// becomes the job's outcome (docs/ota.md, "SCP81 jobs").
#include <gtest/gtest.h>

#include "otad_harness.hpp"
#include "rsp/masim/masim.hpp"
#include "rsp/otad/config.hpp"
#include "rsp/otad/daemon.hpp"

using namespace otad_test;
using namespace std::chrono_literals;

namespace {

const std::string kIccid = "8988211000000000016";
const std::string kMsisdn = "447700900123";
const std::string kPskHex = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const std::string kWrongPskHex = "0f1e2d3c4b5a69788796a5b4c3d2e1f1";
const std::string kIdentity = "masim-8988211000000000016";

rsp::Bytes kic() { return rsp::from_hex("300102030405060708090a0b0c0d0e0f"); }
rsp::Bytes kid() { return rsp::from_hex("301102030405060708090a0b0c0d0e0f"); }

struct Scp81World {
  rsp::sim::Smsc smsc{rsp::sim::SmscConfig{}};
  std::unique_ptr<rsp::masim::MultiAccountSim> card;
  std::unique_ptr<rsp::sim::Handset> phone;
  std::unique_ptr<OtadFiles> files;
  std::unique_ptr<rsp::otad::Daemon> otad;

  explicit Scp81World(const std::string& card_psk_hex, int max_attempts = 3) {
    rsp::masim::MasimConfig mc;
    mc.iccid = kIccid;
    rsp::ota::KeySet k;
    k.version = 1;
    k.cipher = k.checksum = rsp::ota::Algorithm::Aes;
    rsp::Bytes a = kic(), b = kid();
    k.kic = rsp::SecretBytes(a.begin(), a.end());
    k.kid = rsp::SecretBytes(b.begin(), b.end());
    mc.key_sets = {k};
    rsp::masim::MasimScp81 s;
    s.psk_identity = kIdentity;
    s.key_version = 0x40;
    s.key_id = 0x01;
    rsp::Bytes psk = rsp::from_hex(card_psk_hex);
    s.psk = rsp::SecretBytes(psk.begin(), psk.end());
    s.timeout = 3000ms;
    mc.scp81 = s;  // server address and port: from the trigger
    card = std::make_unique<rsp::masim::MultiAccountSim>(mc);
    card->reset();
    phone = std::make_unique<rsp::sim::Handset>(
        kMsisdn, [this](rsp::ByteView c) { return card->transmit(c); },
        [this](const std::string& from, rsp::ByteView t) { smsc.submit_mo(from, t); });
    smsc.register_handset(kMsisdn, phone.get());
    std::uint16_t smpp_port = smsc.start();
    files = std::make_unique<OtadFiles>(
        smpp_port, json{{"por_timeout_ms", 1000},
                        {"campaigns", {{"retry_backoff_ms", 100}, {"max_attempts", max_attempts}, {"tick_ms", 20}}}});
    rsp::otad::Config cfg = rsp::otad::load_config(files->config.string());
    cfg.scp81.enabled = true;  // on an ephemeral port (the file's port 0 is "off")
    cfg.scp81.port = 0;
    cfg.scp81.session_timeout_ms = 1000;
    otad = std::make_unique<rsp::otad::Daemon>(cfg);
    otad->start();
  }
  ~Scp81World() {
    otad.reset();  // first: a card's session still open ends now
    card->wait_admin_idle(10s);
    smsc.stop();
  }
  std::string url(const std::string& path) const { return "https://localhost:" + std::to_string(otad->port()) + path; }
};

json registration(bool with_scp81) {
  json j = {{"iccid", kIccid},
            {"msisdn", kMsisdn},
            {"key_sets",
             {{{"version", 1}, {"cipher", "AES"}, {"kic", rsp::to_hex(kic())}, {"checksum", "AES"}, {"kid", rsp::to_hex(kid())}}}},
            {"tars", {{{"tar", "4D4153"}, {"msl", "16"}}, {{"tar", "000000"}, {"msl", "16"}}}}};
  if (with_scp81) j["scp81"] = {{"psk_identity", kIdentity}, {"psk", kPskHex}, {"key_version", 0x40}, {"key_id", 1}};
  return j;
}

json post(rsp::http::Client& c, const std::string& url, const json& body, int expect) {
  auto r = c.post(url, body.dump(), json_headers());
  EXPECT_EQ(r.status, expect) << url << " " << r.body;
  return r.body.empty() ? json::object() : json::parse(r.body);
}

// Polls the command until its state is final, at most 25 s.
json until_final(rsp::http::Client& c, const Scp81World& w, const std::string& id) {
  json j;
  for (int i = 0; i < 500; ++i) {
    auto r = c.get(w.url("/ota/v1/commands/" + id));
    EXPECT_EQ(r.status, 200) << r.body;
    j = json::parse(r.body);
    std::string s = j.value("state", "");
    if (s == "done" || s == "por_ok" || s == "por_error" || s == "expired" || s == "failed" || s == "cancelled") break;
    std::this_thread::sleep_for(50ms);
  }
  return j;
}

std::string sw_of(const std::string& r_apdu) { return r_apdu.size() >= 4 ? r_apdu.substr(r_apdu.size() - 4) : r_apdu; }

// EF.IMSI as the terminal reads it after the REFRESH: ADF.USIM, then the EF.
rsp::Bytes read_imsi(rsp::masim::MultiAccountSim& card) {
  rsp::Bytes sel = rsp::concat(rsp::from_hex("00A4040C10"), rsp::masim::kUsimAid);
  EXPECT_EQ(rsp::to_hex(card.transmit(sel)), "9000");
  EXPECT_EQ(rsp::to_hex(card.transmit(rsp::from_hex("00A4000C026F07"))), "9000");
  return card.transmit(rsp::from_hex("00B0000009"));
}

}  // namespace

TEST(OtadScp81, AccountInstalledAndSwitchedOverTheAdminSession) {
  testing::internal::CaptureStderr();
  std::string log;
  {
    Scp81World w(kPskHex);
    auto c = w.files->client();
    post(c, w.url("/ota/v1/cards"), registration(true), 201);
    // GET shows the identity and a KCV of the PSK, never the PSK.
    auto shown = c.get(w.url("/ota/v1/cards/" + kIccid));
    ASSERT_EQ(shown.status, 200);
    json card = json::parse(shown.body);
    EXPECT_EQ(card["scp81"]["psk_identity"], kIdentity);
    EXPECT_EQ(card["scp81"]["key_version"], 0x40);
    // KCV: AES-128-ECB of 16 bytes 01 under the PSK, first 3 bytes, from
    // `openssl enc -aes-128-ecb -K 0f1e2d3c4b5a69788796a5b4c3d2e1f0 -nopad`.
    EXPECT_EQ(card["scp81"]["psk_kcv"], "8F93D8");
    EXPECT_EQ(shown.body.find(kPskHex), std::string::npos);

    json install = {{"id", 7},
                    {"imsi", "001019876543210"},
                    {"ki", "000102030405060708090a0b0c0d0e0f"},
                    {"opc", "101112131415161718191a1b1c1d1e1f"},
                    {"transport", "scp81"}};
    std::string id = post(c, w.url("/ota/v1/cards/" + kIccid + "/accounts"), install, 202)["id"];
    json st = until_final(c, w, id);
    EXPECT_EQ(st["state"], "done") << st.dump();
    EXPECT_EQ(st["transport"], "scp81");
    EXPECT_EQ(st["script_status"], "ok");
    EXPECT_EQ(st["executed"], 2) << st.dump();
    ASSERT_EQ(st["r_apdus"].size(), 2u) << st.dump();
    EXPECT_EQ(sw_of(st["r_apdus"][0]), "9000");
    EXPECT_EQ(sw_of(st["r_apdus"][1]), "9000");
    if (st.contains("por_status")) {
      EXPECT_EQ(st["por_status"], "00");  // the push SMS's PoR, if in before the session ended
    }
    ASSERT_NE(w.card->accounts().find(7), nullptr);
    EXPECT_FALSE(w.card->accounts().active.has_value());

    id = post(c, w.url("/ota/v1/cards/" + kIccid + "/accounts/7/switch"), json{{"transport", "scp81"}}, 202)["id"];
    st = until_final(c, w, id);
    EXPECT_EQ(st["state"], "done") << st.dump();
    EXPECT_EQ(st["executed"], 2);
    ASSERT_EQ(st["r_apdus"].size(), 2u);
    EXPECT_EQ(sw_of(st["r_apdus"][1]), "9000");
    EXPECT_EQ(w.card->accounts().active, std::optional<std::uint8_t>(7));
    ASSERT_TRUE(w.card->wait_admin_idle(5s));
    EXPECT_EQ(w.card->admin_sessions().completed, 2u);

    // The switch queued a REFRESH; the handset finds it at its next poll.
    EXPECT_TRUE(w.phone->poll());
    EXPECT_EQ(w.phone->stats().refreshes, 1u);
    // EF.IMSI of IMSI 001019876543210 (TS 31.102 4.2.2, coded by hand):
    // length 8, parity nibble 9 with digit 0, then the digits swapped.
    EXPECT_EQ(rsp::to_hex(read_imsi(*w.card)), "0809101089674523019000");
  }
  log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("SCP81"), std::string::npos);  // the capture works
  EXPECT_EQ(log.find(kPskHex), std::string::npos);
  std::string upper = kPskHex;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(log.find(upper), std::string::npos);
}

TEST(OtadScp81, WrongPskOnTheCardRetriesThenExpiresWithNothingExecuted) {
  Scp81World w(kWrongPskHex, 2);
  auto c = w.files->client();
  post(c, w.url("/ota/v1/cards"), registration(true), 201);
  json install = {{"id", 3},
                  {"imsi", "001019876543213"},
                  {"ki", "000102030405060708090a0b0c0d0e0f"},
                  {"opc", "101112131415161718191a1b1c1d1e1f"},
                  {"transport", "scp81"}};
  std::string id = post(c, w.url("/ota/v1/cards/" + kIccid + "/accounts"), install, 202)["id"];
  json st = until_final(c, w, id);
  EXPECT_EQ(st["state"], "expired") << st.dump();
  EXPECT_EQ(st["attempts"], 2);
  EXPECT_FALSE(st.contains("executed"));
  ASSERT_TRUE(w.card->wait_admin_idle(5s));
  // Two triggers, each taken (PoR 00), each session's handshake failed.
  auto s = w.card->admin_sessions();
  EXPECT_EQ(s.started, 2u);
  EXPECT_EQ(s.failed, 2u);
  EXPECT_EQ(s.completed, 0u);
  EXPECT_EQ(w.card->accounts().find(3), nullptr);
}

TEST(OtadScp81, RefusesScp81JobsForACardWithoutScp81Keys) {
  Scp81World w(kPskHex);
  auto c = w.files->client();
  post(c, w.url("/ota/v1/cards"), registration(false), 201);
  auto r = c.post(w.url("/ota/v1/cards/" + kIccid + "/accounts/1/switch"), json{{"transport", "scp81"}}.dump(),
                  json_headers());
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("no SCP81 keys"), std::string::npos) << r.body;
  r = c.post(w.url("/ota/v1/cards/" + kIccid + "/accounts/1/switch"), json{{"transport", "bip"}}.dump(), json_headers());
  EXPECT_EQ(r.status, 400);
  // A bad scp81 object registers nothing.
  json bad = registration(true);
  bad["iccid"] = "8988211000000000024";
  bad["scp81"]["psk"] = "00112233";
  r = c.post(w.url("/ota/v1/cards"), bad.dump(), json_headers());
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(c.get(w.url("/ota/v1/cards/8988211000000000024")).status, 404);
  // The identity of another card is refused (the handshake names the card by it).
  bad["scp81"]["psk"] = kPskHex;
  r = c.post(w.url("/ota/v1/cards"), bad.dump(), json_headers());
  EXPECT_EQ(r.status, 201) << r.body;
  bad["iccid"] = "8988211000000000032";
  r = c.post(w.url("/ota/v1/cards"), bad.dump(), json_headers());
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(c.get(w.url("/ota/v1/cards/8988211000000000032")).status, 404);
}

TEST(OtadScp81, ConfigSectionReadAndRefusedWhenWrong) {
  auto load = [](const json& scp81) {
    OtadFiles f(2775, json{{"scp81", scp81}});
    return rsp::otad::load_config(f.config.string());
  };
  auto c = load(json{{"port", 8443}, {"public_address", "192.0.2.7"}, {"public_port", 443}, {"session_timeout_ms", 5000}});
  EXPECT_TRUE(c.scp81.enabled);
  EXPECT_EQ(c.scp81.port, 8443);
  EXPECT_EQ(c.scp81.admin_path, "/gp/admin");
  EXPECT_EQ(c.scp81.public_address, "192.0.2.7");
  EXPECT_EQ(c.scp81.public_port, 443);
  EXPECT_EQ(c.scp81.session_timeout_ms, 5000);
  EXPECT_FALSE(load(json{{"port", 0}}).scp81.enabled);  // 0 = off
  auto refused = [&](const json& scp81, const std::string& why) {
    try {
      load(scp81);
      ADD_FAILURE() << "accepted " << scp81.dump();
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  refused(json{{"prot", 8443}}, "scp81.prot is not a configuration key");
  refused(json{{"port", 70000}}, "scp81.port is out of range");
  refused(json{{"port", 8443}, {"public_address", "otad.example"}}, "scp81.public_address must be an IPv4 address");
  refused(json{{"port", 8443}, {"public_address", "192.0.2.256"}}, "scp81.public_address must be an IPv4 address");
  refused(json{{"port", 8443}, {"listen", "0.0.0.0"}}, "scp81.public_address is required");
  refused(json{{"port", 8443}, {"admin_path", "gp/admin"}}, "scp81.admin_path must be an absolute path");
  refused(json{{"port", 8443}, {"session_timeout_ms", 10}}, "scp81.session_timeout_ms is out of range");
}

// The same account operation over SMS to the same card, for comparison: the
// applet's SELECT at the head of otad's script answers its FCI at TAR 4D4153.
TEST(OtadScp81, SameAccountOverSmsGetsPorOk) {
  Scp81World w(kPskHex);
  auto c = w.files->client();
  post(c, w.url("/ota/v1/cards"), registration(true), 201);
  json install = {{"id", 9},
                  {"imsi", "001019876543219"},
                  {"ki", "000102030405060708090a0b0c0d0e0f"},
                  {"opc", "101112131415161718191a1b1c1d1e1f"}};
  std::string id = post(c, w.url("/ota/v1/cards/" + kIccid + "/accounts"), install, 202)["id"];
  json st = until_final(c, w, id);
  EXPECT_EQ(st["state"], "por_ok") << st.dump();
  EXPECT_EQ(st["transport"], "sms");
  EXPECT_EQ(st["executed"], 2) << st.dump();
  ASSERT_NE(w.card->accounts().find(9), nullptr);
  EXPECT_EQ(w.card->admin_sessions().started, 0u);
}
