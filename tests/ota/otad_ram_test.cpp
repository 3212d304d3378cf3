// Remote application management by otad (issue 11, must-show 4): the
// multi-account applet installed over the air. In one process: the Daemon
// (operator API, SMPP ESME, runner, SCP81 admin server), the simulated SMSC
// and handset, and masim started with the applet's load file only
// (`applet_instance = false`), so the INSTALL otad sends is what makes the
// instance. Over SCP80 the INSTALL goes in an expanded command script to
// the ISD's TAR 000000; over SCP81 in the admin session's script for the
// ISD. Then the existing account operations store and switch an account in
// the new instance (docs/ota.md, "Remote application management").
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "otad_harness.hpp"
#include "rsp/masim/masim.hpp"
#include "rsp/ota/command_script.hpp"
#include "rsp/otad/config.hpp"
#include "rsp/otad/daemon.hpp"
#include "rsp/otad/remote_application.hpp"

using namespace otad_test;
using namespace std::chrono_literals;

namespace {

const std::string kIccid = "8988211000000000016";
const std::string kMsisdn = "447700900123";
const std::string kPskHex = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const std::string kIdentity = "masim-8988211000000000016";
// The applet's load file and module (docs/multi-account-applet.md).
const std::string kPackage = "F05253504D41";
const std::string kModule = "F05253504D4101";

rsp::Bytes kic() { return rsp::from_hex("300102030405060708090a0b0c0d0e0f"); }
rsp::Bytes kid() { return rsp::from_hex("301102030405060708090a0b0c0d0e0f"); }

struct RamWorld {
  rsp::sim::Smsc smsc{rsp::sim::SmscConfig{}};
  std::unique_ptr<rsp::masim::MultiAccountSim> card;
  std::unique_ptr<rsp::sim::Handset> phone;
  std::unique_ptr<OtadFiles> files;
  std::unique_ptr<rsp::otad::Daemon> otad;

  RamWorld() {
    rsp::masim::MasimConfig mc;
    mc.iccid = kIccid;
    mc.applet_instance = false;  // the load file only: the INSTALL makes the instance
    rsp::ota::KeySet k;
    k.version = 1;
    k.cipher = k.checksum = rsp::ota::Algorithm::Aes;
    rsp::Bytes a = kic(), b = kid();
    k.kic = rsp::SecretBytes(a.begin(), a.end());
    k.kid = rsp::SecretBytes(b.begin(), b.end());
    mc.key_sets = {k};
    rsp::masim::MasimScp81 s;
    s.psk_identity = kIdentity;
    rsp::Bytes psk = rsp::from_hex(kPskHex);
    s.psk = rsp::SecretBytes(psk.begin(), psk.end());
    s.timeout = 3000ms;
    mc.scp81 = s;
    card = std::make_unique<rsp::masim::MultiAccountSim>(mc);
    card->reset();
    phone = std::make_unique<rsp::sim::Handset>(
        kMsisdn, [this](rsp::ByteView c) { return card->transmit(c); },
        [this](const std::string& from, rsp::ByteView t) { smsc.submit_mo(from, t); });
    smsc.register_handset(kMsisdn, phone.get());
    std::uint16_t smpp_port = smsc.start();
    files = std::make_unique<OtadFiles>(
        smpp_port, json{{"por_timeout_ms", 1000}, {"campaigns", {{"retry_backoff_ms", 100}, {"max_attempts", 2}, {"tick_ms", 20}}}});
    rsp::otad::Config cfg = rsp::otad::load_config(files->config.string());
    cfg.scp81.enabled = true;
    cfg.scp81.port = 0;
    cfg.scp81.session_timeout_ms = 1000;
    otad = std::make_unique<rsp::otad::Daemon>(cfg);
    otad->start();
    auto c = files->client();
    json reg = {{"iccid", kIccid},
                {"msisdn", kMsisdn},
                {"key_sets",
                 {{{"version", 1}, {"cipher", "AES"}, {"kic", rsp::to_hex(kic())}, {"checksum", "AES"}, {"kid", rsp::to_hex(kid())}}}},
                {"tars", {{{"tar", "4D4153"}, {"msl", "16"}}, {{"tar", "000000"}, {"msl", "16"}}}},
                {"scp81", {{"psk_identity", kIdentity}, {"psk", kPskHex}, {"key_version", 0x40}, {"key_id", 1}}}};
    auto r = c.post(url("/ota/v1/cards"), reg.dump(), json_headers());
    EXPECT_EQ(r.status, 201) << r.body;
  }
  ~RamWorld() {
    otad.reset();
    card->wait_admin_idle(10s);
    smsc.stop();
  }
  std::string url(const std::string& path) const { return "https://localhost:" + std::to_string(otad->port()) + path; }

  // POSTs, expects 202, polls the command until final (at most 20 s).
  json run(const std::string& path, const json& body) {
    auto c = files->client();
    auto r = c.post(url(path), body.dump(), json_headers());
    EXPECT_EQ(r.status, 202) << path << " " << r.body;
    if (r.status != 202) return json::object();
    std::string id = json::parse(r.body)["id"];
    json j;
    for (int i = 0; i < 400; ++i) {
      j = json::parse(c.get(url("/ota/v1/commands/" + id)).body);
      std::string s = j.value("state", "");
      if (s == "done" || s == "por_ok" || s == "por_error" || s == "expired" || s == "failed") break;
      std::this_thread::sleep_for(50ms);
    }
    card->wait_admin_idle(5s);
    return j;
  }
  json app(const json& body) { return run("/ota/v1/cards/" + kIccid + "/applications", body); }
  json store_account(std::uint8_t id, const std::string& imsi, const std::string& transport) {
    return run("/ota/v1/cards/" + kIccid + "/accounts", {{"id", id},
                                                          {"imsi", imsi},
                                                          {"ki", "000102030405060708090a0b0c0d0e0f"},
                                                          {"opc", "101112131415161718191a1b1c1d1e1f"},
                                                          {"transport", transport}});
  }
  json switch_account(std::uint8_t id, const std::string& transport) {
    return run("/ota/v1/cards/" + kIccid + "/accounts/" + std::to_string(id) + "/switch", {{"transport", transport}});
  }
  const rsp::sim::gp::RegistryEntry* instance() { return card->card_manager().find(rsp::masim::kAppletAid); }
};

json install_body(const std::string& transport, const std::string& module = kModule) {
  return {{"action", "install"},     {"package_aid", kPackage}, {"module_aid", module},
          {"instance_aid", kModule}, {"privileges", "040000"}, {"transport", transport}};
}

std::string sw_of(const json& r_apdu) {
  std::string s = r_apdu.get<std::string>();
  return s.size() >= 4 ? s.substr(s.size() - 4) : s;
}

// EF.IMSI as the terminal reads it after the REFRESH: ADF.USIM, then the EF.
rsp::Bytes read_imsi(rsp::masim::MultiAccountSim& card) {
  rsp::Bytes sel = rsp::concat(rsp::from_hex("00A4040C10"), rsp::masim::kUsimAid);
  EXPECT_EQ(rsp::to_hex(card.transmit(sel)), "9000");
  EXPECT_EQ(rsp::to_hex(card.transmit(rsp::from_hex("00A4000C026F07"))), "9000");
  return card.transmit(rsp::from_hex("00B0000009"));
}

// The registry entry GET STATUS reported for the applet's instance.
json listed_instance(const json& result) {
  if (!result.contains("registry")) return json();
  for (const auto& e : result["registry"])
    if (e["aid"] == kModule) return e;
  return json();
}

// The story on one transport: the account refused before the INSTALL, the
// INSTALL, GET STATUS, the account stored and made active, EF.IMSI.
void install_then_account(RamWorld& w, const std::string& transport, const std::string& refused_how) {
  // Before: the load file only; STORE ACCOUNT finds no application.
  ASSERT_EQ(w.instance(), nullptr);
  json st = w.store_account(5, "001019876543215", transport);
  EXPECT_EQ(st["state"], "por_error") << st.dump();
  if (transport == "sms") {
    // TS 102 225 5.2: no application at TAR 4D4153 -> PoR 09, nothing ran.
    EXPECT_EQ(st["por_status"], refused_how) << st.dump();
  } else {
    // Amendment B 3.4.2: the agent answers the script for an application
    // the card lacks with X-Admin-Script-Status unknown-application.
    EXPECT_EQ(st["script_status"], refused_how) << st.dump();
  }
  EXPECT_FALSE(st.contains("executed")) << st.dump();
  EXPECT_EQ(w.card->accounts().find(5), nullptr);

  // INSTALL [for install and make selectable] at the ISD.
  st = w.app(install_body(transport));
  EXPECT_EQ(st["state"], transport == "sms" ? "por_ok" : "done") << st.dump();
  EXPECT_EQ(st["kind"], "application");
  ASSERT_TRUE(st.contains("result")) << st.dump();
  EXPECT_EQ(st["result"]["success"], true) << st.dump();
  ASSERT_EQ(st["result"]["commands"].size(), 1u);
  EXPECT_EQ(st["result"]["commands"][0]["command"], "INSTALL");
  EXPECT_EQ(st["result"]["commands"][0]["sw"], "9000");
  ASSERT_NE(w.instance(), nullptr);

  // GET STATUS over the same transport: SELECTABLE with the privileges asked.
  st = w.app({{"action", "status"}, {"transport", transport}});
  EXPECT_EQ(st["result"]["success"], true) << st.dump();
  json e = listed_instance(st["result"]);
  ASSERT_FALSE(e.is_null()) << st.dump();
  EXPECT_EQ(e["life_cycle"], "07");
  EXPECT_EQ(e["life_cycle_name"], "SELECTABLE");
  EXPECT_EQ(e["privileges"], "040000");
  EXPECT_EQ(e["load_file_aid"], kPackage);

  // The existing account operations now reach the instance.
  st = w.store_account(5, "001019876543215", transport);
  EXPECT_EQ(st["state"], transport == "sms" ? "por_ok" : "done") << st.dump();
  ASSERT_EQ(st["r_apdus"].size(), 2u) << st.dump();
  EXPECT_EQ(sw_of(st["r_apdus"][0]), "9000");
  EXPECT_EQ(sw_of(st["r_apdus"][1]), "9000");
  ASSERT_NE(w.card->accounts().find(5), nullptr);
  st = w.switch_account(5, transport);
  ASSERT_EQ(st["r_apdus"].size(), 2u) << st.dump();
  EXPECT_EQ(sw_of(st["r_apdus"][1]), "9000");
  EXPECT_EQ(w.card->accounts().active, std::optional<std::uint8_t>(5));
  // The handset fetches the REFRESH (the PoR's SEND SHORT MESSAGE first over
  // SMS) and reads EF.IMSI anew.
  for (int i = 0; i < 4 && w.phone->stats().refreshes == 0; ++i) w.phone->poll();
  EXPECT_EQ(w.phone->stats().refreshes, 1u);
  // EF.IMSI of 001019876543215 (TS 31.102 4.2.2, coded by hand): length 8,
  // parity 9 with the first digit 0, then the digits pairwise swapped.
  EXPECT_EQ(rsp::to_hex(read_imsi(*w.card)), "0809101089674523519000");
}

}  // namespace

// The INSTALL, DELETE, SET STATUS and GET STATUS C-APDUs otad sends,
// against bytes written by hand from GP 2.3.1 (not by the builder):
// 11.5.2 INSTALL: CLA 80 INS E6 P1 0C (for install and make selectable) P2
// 00, Lc, then length-value fields: load file AID, module AID, application
// AID, privileges, install parameters (C9 with the application specific
// ones, here empty: C9 00), install token (none); Le 00.
TEST(OtadRam, CommandBytesFromTheSpecification) {
  rsp::otad::ApplicationRequest r;
  r.action = rsp::otad::ApplicationRequest::Action::Install;
  r.load_file_aid = rsp::from_hex(kPackage);
  r.module_aid = r.instance_aid = rsp::from_hex(kModule);
  r.privileges = rsp::from_hex("040000");
  auto a = rsp::otad::application_apdus(r);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(rsp::to_hex(a[0], true),
            "80E60C001F"        // header, Lc 31
            "06F05253504D41"    // load file AID
            "07F05253504D4101"  // module AID
            "07F05253504D4101"  // application AID
            "03040000"          // privileges: Card Reset (Table 11-7 byte 1 b3)
            "02C900"            // install parameters: C9 of length 0
            "00"                // no install token
            "00");              // Le
  r.make_selectable = false;  // P1 04: INSTALL [for install] only
  r.install_params = rsp::from_hex("0102");
  EXPECT_EQ(rsp::to_hex(rsp::otad::application_apdus(r)[0], true),
            "80E604002106F05253504D4107F05253504D410107F05253504D41010304000004C9020102" "0000");
  // 11.2.2: DELETE, 4F the AID; P2 80 with related objects.
  r = {};
  r.action = rsp::otad::ApplicationRequest::Action::Delete;
  r.aid = rsp::from_hex(kPackage);
  r.related = true;
  EXPECT_EQ(rsp::to_hex(rsp::otad::application_apdus(r)[0], true), "80E40080084F06F05253504D4100");
  // 11.10.2: SET STATUS P1 40 (application), P2 the state: 80 locked, 00 unlocked; data the AID.
  r.action = rsp::otad::ApplicationRequest::Action::Lock;
  r.aid = rsp::from_hex(kModule);
  EXPECT_EQ(rsp::to_hex(rsp::otad::application_apdus(r)[0], true), "80F0408007F05253504D4101");
  r.action = rsp::otad::ApplicationRequest::Action::Unlock;
  EXPECT_EQ(rsp::to_hex(rsp::otad::application_apdus(r)[0], true), "80F0400007F05253504D4101");
  // 11.4.2: GET STATUS P1 40 (applications), P2 02 (TLV), 4F 00 (all), Le.
  r.action = rsp::otad::ApplicationRequest::Action::Status;
  EXPECT_EQ(rsp::to_hex(rsp::otad::application_apdus(r)[0], true), "80F24002024F0000");
  // A malformed AID or privileges are refused before anything is built.
  r = {};
  r.action = rsp::otad::ApplicationRequest::Action::Install;
  r.load_file_aid = rsp::from_hex("F052");
  r.module_aid = r.instance_aid = rsp::from_hex(kModule);
  r.privileges = rsp::from_hex("00");
  EXPECT_THROW(rsp::otad::application_apdus(r), std::invalid_argument);
}

// The result reads the R-APDUs: success only when every one is 90 00.
TEST(OtadRam, ResultIsSuccessOnlyWhenEveryRApduIs9000) {
  rsp::Bytes script = rsp::ota::encode_command_script(
      rsp::ota::CommandScript::expanded({rsp::from_hex("80E40000094F07F05253504D410100"), rsp::from_hex("80F24002024F0000")}),
      rsp::ota::CommandSet::GlobalPlatform);
  auto r = rsp::otad::application_result(script, {rsp::from_hex("009000"), rsp::from_hex("9000")});
  EXPECT_EQ(r["success"], true) << r.dump();
  r = rsp::otad::application_result(script, {rsp::from_hex("6985")});  // the runner stopped there
  EXPECT_EQ(r["success"], false);
  EXPECT_EQ(r["failed"]["command"], "DELETE");
  EXPECT_EQ(r["failed"]["sw"], "6985");
  EXPECT_EQ(r["failed"]["meaning"], "conditions of use not satisfied");
  r = rsp::otad::application_result(script, {rsp::from_hex("009000")});  // cut short, no error SW
  EXPECT_EQ(r["success"], false);
  EXPECT_EQ(r["failed"]["command"], "GET STATUS");
}

TEST(OtadRam, AppletInstalledOverScp80ThenAccountActive) {
  RamWorld w;
  install_then_account(w, "sms", "09");
  EXPECT_EQ(w.card->admin_sessions().started, 0u);  // SMS only
}

TEST(OtadRam, AppletInstalledOverScp81ThenAccountActive) {
  RamWorld w;
  install_then_account(w, "scp81", "unknown-application");
  EXPECT_GE(w.card->admin_sessions().completed, 4u);
}

// Negatives at the card manager, each with its status word in the result
// and nothing changed on the card.
TEST(OtadRam, RefusalsReportTheStatusWordAndChangeNothing) {
  RamWorld w;
  // GP 2.3.1 11.5.3.1: a module the load file does not have: 6A88
  // (referenced data not found). PoR 00: the script ran, and failed.
  json st = w.app(install_body("sms", "F05253504D4199"));
  EXPECT_EQ(st["state"], "por_ok") << st.dump();
  EXPECT_EQ(st["por_status"], "00");
  EXPECT_EQ(st["result"]["success"], false) << st.dump();
  EXPECT_EQ(st["result"]["failed"]["command"], "INSTALL");
  EXPECT_EQ(st["result"]["failed"]["sw"], "6A88");
  EXPECT_EQ(w.instance(), nullptr);
  EXPECT_EQ(w.store_account(1, "001019876543211", "sms")["por_status"], "09");  // still no TAR

  // Installed; an account stored.
  ASSERT_EQ(w.app(install_body("sms"))["result"]["success"], true);
  ASSERT_EQ(w.store_account(1, "001019876543211", "sms")["state"], "por_ok");
  ASSERT_NE(w.card->accounts().find(1), nullptr);
  // The same instance again: 6A80 (the AID is taken), the first untouched.
  st = w.app(install_body("sms"));
  EXPECT_EQ(st["result"]["failed"]["sw"], "6A80") << st.dump();

  // Locked (SET STATUS 80): the applet's SELECT at the head of the account
  // script fails '69 99' and the script stops; unlocked, it runs again.
  st = w.app({{"action", "lock"}, {"aid", kModule}});
  EXPECT_EQ(st["result"]["success"], true) << st.dump();
  EXPECT_EQ(w.instance()->life_cycle, 0x87);
  st = w.switch_account(1, "sms");
  EXPECT_EQ(st["executed"], 1) << st.dump();
  EXPECT_EQ(sw_of(st["r_apdus"][0]), "6999");
  EXPECT_FALSE(w.card->accounts().active.has_value());
  st = w.app({{"action", "unlock"}, {"aid", kModule}});
  EXPECT_EQ(st["result"]["success"], true) << st.dump();
  EXPECT_EQ(w.instance()->life_cycle, 0x07);

  // GP 2.3.1 11.2.2.1: the load file has an instance; DELETE without
  // "related objects" is refused 6985, the instance and its data stay.
  st = w.app({{"action", "delete"}, {"aid", kPackage}});
  EXPECT_EQ(st["result"]["success"], false) << st.dump();
  EXPECT_EQ(st["result"]["failed"]["sw"], "6985");
  ASSERT_NE(w.instance(), nullptr);
  EXPECT_NE(w.card->accounts().find(1), nullptr);
  // DELETE of the instance: its TAR is unknown again (PoR 09) and its data,
  // the accounts, are gone; the load file stays.
  st = w.app({{"action", "delete"}, {"aid", kModule}});
  EXPECT_EQ(st["result"]["success"], true) << st.dump();
  EXPECT_EQ(w.instance(), nullptr);
  EXPECT_NE(w.card->card_manager().find(rsp::from_hex(kPackage)), nullptr);
  EXPECT_TRUE(w.card->accounts().accounts.empty());
  EXPECT_EQ(w.switch_account(1, "sms")["por_status"], "09");
}

// The API's refusals, before anything is queued.
TEST(OtadRam, ApiRefusesMalformedRequests) {
  RamWorld w;
  auto c = w.files->client();
  auto post = [&](const std::string& iccid, const json& body) {
    return c.post(w.url("/ota/v1/cards/" + iccid + "/applications"), body.dump(), json_headers());
  };
  auto r = post(kIccid, {{"action", "format"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("action must be"), std::string::npos) << r.body;
  json bad = install_body("sms");
  bad["package_aid"] = "F052";
  r = post(kIccid, bad);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("package_aid"), std::string::npos) << r.body;
  bad = install_body("sms");
  bad["privileges"] = "0400";
  r = post(kIccid, bad);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("privileges"), std::string::npos) << r.body;
  r = post(kIccid, {{"action", "lock"}, {"aid", kModule}, {"related", true}});
  EXPECT_EQ(r.status, 400) << r.body;
  r = post(kIccid, {{"action", "delete"}, {"aid", kModule}, {"transport", "bip"}});
  EXPECT_EQ(r.status, 400) << r.body;
  r = post("8988211000000000024", install_body("sms"));
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(w.instance(), nullptr);
}

// `ota app install --wait` over SCP81 and `ota app status`: exit 0 on
// success, 2 when an R-APDU is not 90 00.
TEST(OtadRam, OtaAppCli) {
  RamWorld w;
  auto run = [&](const std::string& args) {
    const auto& d = w.files->dir.path;
    std::string cmd = std::string(OTA_BINARY) + " " + args + " --iccid " + kIccid + " --url https://localhost:" +
                      std::to_string(w.otad->port()) + " --ca " + (d / "server-ca.pem").string() + " --cert " +
                      (d / "client.pem").string() + " --key " + (d / "client.key").string() + " 2>&1";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int st = ::pclose(p);
    return std::make_pair(WEXITSTATUS(st), out);
  };
  auto [rc, out] = run("app install --transport scp81 --package " + kPackage + " --module " + kModule +
                       " --privileges 040000 --wait --wait-seconds 20");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\"success\":true"), std::string::npos) << out;
  ASSERT_NE(w.instance(), nullptr);
  std::tie(rc, out) = run("app status --wait --wait-seconds 20");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\"aid\":\"" + kModule + "\""), std::string::npos) << out;
  // Installed twice: 6A80, exit 2.
  std::tie(rc, out) = run("app install --package " + kPackage + " --module " + kModule + " --wait --wait-seconds 20");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("6A80"), std::string::npos) << out;
}
