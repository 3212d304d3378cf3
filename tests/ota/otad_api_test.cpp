// otad's operator API as a client sees it: mutual TLS required, a card
// registered and a command script run on it to its PoR, the multi-account
// operations queued at their TAR, refusals with status codes and short
// reasons, bounded bodies (oversized and too deep), SIGTERM, and a campaign
// cancelled midway. otad runs as its own process (OTAD_BINARY).
#include <gtest/gtest.h>

#include "otad_harness.hpp"
#include "rsp/otad/multi_account_commands.hpp"

using namespace otad_test;
using namespace std::chrono_literals;

namespace {

json get_json(rsp::http::Client& c, const std::string& url) {
  auto r = c.get(url);
  EXPECT_EQ(r.status, 200) << url << " " << r.body;
  return json::parse(r.body);
}

// Polls until `done(status)` or 20 s.
template <typename F>
json poll(rsp::http::Client& c, const std::string& url, F done) {
  json j;
  for (int i = 0; i < 400; ++i) {
    j = get_json(c, url);
    if (done(j)) break;
    std::this_thread::sleep_for(50ms);
  }
  return j;
}

struct World {
  Farm farm;
  OtadFiles files;
  std::unique_ptr<OtadProcess> otad;
  explicit World(std::size_t cards, const json& extra = json::object()) : farm(cards), files(farm.port, extra) {
    otad = std::make_unique<OtadProcess>(OTAD_BINARY, files);
  }
};

}  // namespace

TEST(OtadApi, RefusesClientsWithoutACertificate) {
  World w(1);
  ASSERT_NE(w.otad->port(), 0);
  auto anonymous = w.files.client(false);
  EXPECT_THROW(anonymous.get(w.otad->url("/ota/v1/cards/" + iccid(0))), rsp::http::HttpError);
  auto c = w.files.client();
  EXPECT_EQ(c.get(w.otad->url("/ota/v1/cards/" + iccid(0))).status, 404);
}

TEST(OtadApi, RegistersACardAndRunsAScriptToItsPor) {
  World w(1);
  auto c = w.files.client();
  auto r = c.post(w.otad->url("/ota/v1/cards"), register_body(0).dump(), json_headers());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(c.post(w.otad->url("/ota/v1/cards"), register_body(0).dump(), json_headers()).status, 409);
  json card = get_json(c, w.otad->url("/ota/v1/cards/" + iccid(0)));
  EXPECT_EQ(card["msisdn"], msisdn(0));
  EXPECT_EQ(card["key_sets"][0]["cipher"], "AES");
  EXPECT_EQ(card.dump().find(rsp::to_hex(key(0x10, 0))), std::string::npos);  // KCVs only, never a key

  r = c.post(w.otad->url("/ota/v1/cards/" + iccid(0) + "/commands"),
             json{{"tar", "B00010"}, {"apdus", {"00A40004022FE2", "00B000000A"}}}.dump(), json_headers());
  ASSERT_EQ(r.status, 202) << r.body;
  std::string id = json::parse(r.body)["id"];
  json s = poll(c, w.otad->url("/ota/v1/commands/" + id), [](const json& j) { return j["state"] != "queued" && j["state"] != "sent"; });
  EXPECT_EQ(s["state"], "por_ok") << s.dump();
  EXPECT_EQ(s["por_status"], "00");
  EXPECT_EQ(s["cntr"], 1);
  ASSERT_EQ(s["r_apdus"].size(), 2u) << s.dump();
  EXPECT_EQ(s["r_apdus"][1], "989420000000000000019000");
  EXPECT_EQ(w.farm.cards[0]->executed, std::vector<std::uint64_t>{1});
}

TEST(OtadApi, RefusalsCarryAStatusAndAShortReason) {
  World w(1);
  auto c = w.files.client();
  ASSERT_EQ(c.post(w.otad->url("/ota/v1/cards"), register_body(0).dump(), json_headers()).status, 201);
  auto bad = register_body(1);
  bad["key_sets"][0]["kic"] = "00zz";
  auto r = c.post(w.otad->url("/ota/v1/cards"), bad.dump(), json_headers());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"], "kic must be hex");
  bad = register_body(1);
  bad["key_sets"][0]["kic"] = "0011";  // not an AES key
  EXPECT_EQ(c.post(w.otad->url("/ota/v1/cards"), bad.dump(), json_headers()).status, 400);
  r = c.post(w.otad->url("/ota/v1/cards/" + iccid(0) + "/commands"),
             json{{"tar", "B00099"}, {"apdus", {"00A40004022FE2"}}}.dump(), json_headers());
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(json::parse(r.body)["error"], "card " + iccid(0) + " has no TAR B00099");
  EXPECT_EQ(c.get(w.otad->url("/ota/v1/commands/cmd-0000")).status, 404);
  EXPECT_EQ(c.get(w.otad->url("/ota/v1/nothing")).status, 404);
  r = c.post(w.otad->url("/ota/v1/campaigns"), json{{"tar", "B00010"}, {"apdus", {"00B000000A"}}, {"cards", {iccid(5)}}}.dump(),
             json_headers());
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(json::parse(r.body)["error"], "card " + iccid(5) + " is not registered");
}

// Issue 9 for the OTA API: a body over its endpoint's limit is refused
// unread (413), one nested deeper than the limit is refused before any tree
// is built (400), and the server keeps serving.
TEST(OtadApi, OversizedAndTooDeepBodiesAreRefused) {
  World w(1);
  auto c = w.files.client();
  std::string big = json{{"iccid", std::string(9000, '1')}}.dump();  // over the 8 KiB of /cards
  EXPECT_EQ(c.post(w.otad->url("/ota/v1/cards"), big, json_headers()).status, 413);
  std::string huge(600 * 1024, ' ');  // over the 512 KiB of /campaigns
  EXPECT_EQ(c.post(w.otad->url("/ota/v1/campaigns"), huge, json_headers()).status, 413);
  std::string deep;
  for (int i = 0; i < 7; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 7; ++i) deep += "}";
  auto r = c.post(w.otad->url("/ota/v1/cards"), deep, json_headers());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"], "the body is not usable JSON: JSON nested deeper than 6 levels");
  std::string nested;
  for (int i = 0; i < 3000; ++i) nested += "[";
  for (int i = 0; i < 3000; ++i) nested += "]";
  EXPECT_EQ(c.post(w.otad->url("/ota/v1/cards"), nested, json_headers()).status, 400);
  EXPECT_EQ(c.post(w.otad->url("/ota/v1/cards"), register_body(0).dump(), json_headers()).status, 201);
}

TEST(OtadApi, AccountOperationsGoToTheAppletsTar) {
  World w(1);
  auto c = w.files.client();
  auto body = register_body(0);
  body["tars"].push_back({{"tar", "4D4153"}, {"msl", "16"}, {"key_version", 1}});
  ASSERT_EQ(c.post(w.otad->url("/ota/v1/cards"), body.dump(), json_headers()).status, 201);
  json account = {{"id", 2},
                  {"imsi", "001010123456789"},
                  {"ki", "000102030405060708090a0b0c0d0e0f"},
                  {"opc", "101112131415161718191a1b1c1d1e1f"},
                  {"spn", "Visited"}};
  auto r = c.post(w.otad->url("/ota/v1/cards/" + iccid(0) + "/accounts"), account.dump(), json_headers());
  ASSERT_EQ(r.status, 202) << r.body;
  // The farm's card has no applet at that TAR: it answers 09, and nothing ran.
  json s = poll(c, w.otad->url("/ota/v1/commands/" + json::parse(r.body)["id"].get<std::string>()),
                [](const json& j) { return j["state"] == "por_error" || j["state"] == "por_ok"; });
  EXPECT_EQ(s["state"], "por_error");
  EXPECT_EQ(s["por_status"], "09");
  EXPECT_TRUE(w.farm.cards[0]->executed.empty());
  r = c.post(w.otad->url("/ota/v1/cards/" + iccid(0) + "/accounts/2/switch"), "", json_headers());
  EXPECT_EQ(r.status, 202) << r.body;
  r = c.request("DELETE", w.otad->url("/ota/v1/cards/" + iccid(0) + "/accounts/2"));
  EXPECT_EQ(r.status, 202) << r.body;
  account["ki"] = "0011";
  EXPECT_EQ(c.post(w.otad->url("/ota/v1/cards/" + iccid(0) + "/accounts"), account.dump(), json_headers()).status, 400);
  EXPECT_EQ(c.post(w.otad->url("/ota/v1/cards/" + iccid(0) + "/accounts/255/switch"), "", json_headers()).status, 400);
  // The account's keys are sealed at rest: not in the database file.
  w.otad->kill(SIGTERM);
  std::ifstream db(w.files.dir.path / "otad.db", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(db)), std::istreambuf_iterator<char>());
  std::string ki = rsp::to_string(rsp::from_hex("000102030405060708090a0b0c0d0e0f"));
  EXPECT_EQ(bytes.find(ki), std::string::npos);
}

TEST(OtadApi, StopsOnSigterm) {
  World w(1);
  ASSERT_NE(w.otad->port(), 0);
  int st = w.otad->kill(SIGTERM);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

TEST(OtadApi, RefusesAnUnknownConfigurationKey) {
  Farm farm(0);
  OtadFiles files(farm.port, json{{"smpp", {{"windw", 3}}}});
  OtadProcess p(OTAD_BINARY, files);
  EXPECT_EQ(p.port(), 0);
  std::ifstream log(files.dir.path / "otad.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("smpp.windw is not a configuration key"), std::string::npos) << text;
}

TEST(OtadCampaign, CancelStopsWhatIsQueued) {
  World w(20);
  auto c = w.files.client();
  json cards = json::array();
  for (std::size_t i = 0; i < 20; ++i) {
    ASSERT_EQ(c.post(w.otad->url("/ota/v1/cards"), register_body(i).dump(), json_headers()).status, 201);
    cards.push_back(iccid(i));
  }
  auto r = c.post(w.otad->url("/ota/v1/campaigns"),
                  json{{"tar", "B00010"}, {"apdus", {"00A40004022FE2", "00B000000A"}}, {"cards", cards}, {"sms_per_second", 4}}.dump(),
                  json_headers());
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = json::parse(r.body)["id"];
  std::this_thread::sleep_for(1s);
  r = c.post(w.otad->url("/ota/v1/campaigns/" + id + "/cancel"), "", json_headers());
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(c.post(w.otad->url("/ota/v1/campaigns/" + id + "/cancel"), "", json_headers()).status, 409);
  json s = poll(c, w.otad->url("/ota/v1/campaigns/" + id), [](const json& j) { return j["counts"]["sent"] == 0; });
  EXPECT_EQ(s["state"], "cancelled");
  std::size_t ok = s["counts"]["por_ok"], cancelled = s["counts"]["cancelled"];
  EXPECT_EQ(ok + cancelled, 20u) << s.dump();
  EXPECT_GE(cancelled, 10u);
  std::this_thread::sleep_for(500ms);
  std::size_t ran = 0;
  for (auto& card : w.farm.cards) ran += card->executed.size();
  EXPECT_EQ(ran, ok);  // nothing queued went after the cancel
}

// Must-show 3's tail, during a campaign: the SMSC refuses binds at first,
// then throttles (ESME_RTHROTTLED) and drops the link mid-campaign. Nothing
// is lost (every card PoR 00) and nothing is sent twice (each card received
// one packet and ran it once).
TEST(OtadCampaign, SmppFaultsLoseNothingAndSendNothingTwice) {
  Farm farm(60);
  farm.smsc.refuse_binds(true);
  farm.smsc.set_max_submits_per_second(40);
  // Our ESME unpaced against an SMSC that takes 40 submit_sm/s for the
  // first seconds: many come back ESME_RTHROTTLED. (Against a lasting limit
  // the ESME's 500 ms pause after each throttled answer makes it crawl:
  // docs/ota.md says to set smpp.max_submits_per_second below the SMSC's.)
  OtadFiles files(farm.port);
  OtadProcess otad(OTAD_BINARY, files);
  ASSERT_NE(otad.port(), 0);
  auto c = files.client();
  json cards = json::array();
  for (std::size_t i = 0; i < farm.cards.size(); ++i) {
    ASSERT_EQ(c.post(otad.url("/ota/v1/cards"), register_body(i).dump(), json_headers()).status, 201);
    cards.push_back(iccid(i));
  }
  auto r = c.post(otad.url("/ota/v1/campaigns"),
                  json{{"tar", "B00010"}, {"apdus", {"00A40004022FE2", "00B000000A"}}, {"cards", cards}, {"sms_per_second", 200}}.dump(),
                  json_headers());
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = json::parse(r.body)["id"];
  std::this_thread::sleep_for(400ms);  // binds refused meanwhile; the runner has handed out its first cards
  farm.smsc.drop_connection_at_submit(25);
  farm.smsc.refuse_binds(false);
  std::this_thread::sleep_for(1500ms);  // throttled meanwhile
  farm.smsc.set_max_submits_per_second(0);
  json s = poll(c, otad.url("/ota/v1/campaigns/" + id), [](const json& j) { return j["state"] == "done"; });
  EXPECT_EQ(s["state"], "done") << s.dump();
  EXPECT_EQ(s["counts"]["por_ok"], farm.cards.size()) << s.dump();
  auto st = farm.smsc.stats();
  EXPECT_GT(st.bind_refusals, 0u);
  EXPECT_GT(st.throttled, 0u);
  EXPECT_GT(st.dropped_connections, 0u);
  std::printf("SMSC: %llu submits, ", static_cast<unsigned long long>(st.submits));
  std::printf("SMSC: %llu bind refusals, %llu submits throttled, %llu links dropped, %llu MT delivered\n",
              static_cast<unsigned long long>(st.bind_refusals), static_cast<unsigned long long>(st.throttled),
              static_cast<unsigned long long>(st.dropped_connections), static_cast<unsigned long long>(st.mt_delivered));
  std::size_t once = 0, received_once = 0;
  for (auto& card : farm.cards) {
    std::lock_guard l(card->mu);
    once += card->executed == std::vector<std::uint64_t>{1};
    received_once += card->received.size() == 1;
  }
  EXPECT_EQ(once, farm.cards.size());
  EXPECT_EQ(received_once, farm.cards.size());
}

// The applet's APDUs against bytes assembled by hand from
// docs/multi-account-applet.md (STORE ACCOUNT with template A0, EF.IMSI
// coding of TS 31.102 4.2.2, SWITCH, DELETE).
TEST(MultiAccountCommands, MatchTheAppletsSpecification) {
  rsp::otad::Account a;
  a.id = 2;
  a.imsi = "001010123456789";
  rsp::Bytes ki = rsp::from_hex("000102030405060708090A0B0C0D0E0F"), opc = rsp::from_hex("101112131415161718191A1B1C1D1E1F");
  a.ki = rsp::SecretBytes(ki.begin(), ki.end());
  a.opc = rsp::SecretBytes(opc.begin(), opc.end());
  auto apdus = rsp::otad::install_account_apdus(a);
  ASSERT_EQ(apdus.size(), 2u);
  EXPECT_EQ(rsp::to_hex(apdus[0], true), "00A4040007F05253504D4101");
  EXPECT_EQ(rsp::to_hex(apdus[1], true),
            "801A000034A032800102810908091010103254769882100001020304050607080" "90A0B0C0D0E0F"
            "8310101112131415161718191A1B1C1D1E1F");
  EXPECT_EQ(rsp::to_hex(rsp::otad::switch_account_apdus(2)[1], true), "803A0200");
  EXPECT_EQ(rsp::to_hex(rsp::otad::delete_account_apdus(2)[1], true), "801C0200");
  a.imsi = "00101012345";  // shorter: FF-padded to 9 bytes
  EXPECT_EQ(rsp::to_hex(rsp::otad::install_account_apdus(a)[1], true).substr(20, 22), "810906091010103254FFFF");
  EXPECT_THROW(rsp::otad::switch_account_apdus(0), std::invalid_argument);
  EXPECT_THROW(rsp::otad::switch_account_apdus(0xFF), std::invalid_argument);
  a.spn = "Visited";
  EXPECT_NE(rsp::to_hex(rsp::otad::install_account_apdus(a)[1], true).find("891100" + rsp::to_hex(rsp::to_bytes("Visited"), true) + "FFFFFFFFFFFFFFFFFF"), std::string::npos);
}

// `ota campaign create` and `ota campaign status --follow` against otad: the
// progress lines end on the finished campaign; `ota api` for one card.
TEST(OtadCli, CampaignCreateAndFollow) {
  World w(5);
  auto c = w.files.client();
  for (std::size_t i = 0; i < 5; ++i)
    ASSERT_EQ(c.post(w.otad->url("/ota/v1/cards"), register_body(i).dump(), json_headers()).status, 201);
  auto run = [&](const std::string& args) {
    const auto& d = w.files.dir.path;
    std::string cmd = std::string(OTA_BINARY) + " " + args + " --url https://localhost:" + std::to_string(w.otad->port()) +
                      " --ca " + (d / "server-ca.pem").string() + " --cert " + (d / "client.pem").string() + " --key " +
                      (d / "client.key").string() + " 2>&1";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int st = ::pclose(p);
    return std::make_pair(WEXITSTATUS(st), out);
  };
  std::string iccids;
  for (std::size_t i = 0; i < 5; ++i) iccids += " --iccid " + iccid(i);
  auto [rc, out] = run("campaign create --tar B00010 --apdu 00A40004022FE2 --apdu 00B000000A --sms-per-second 5" + iccids);
  ASSERT_EQ(rc, 0) << out;
  std::string id = json::parse(out)["id"];
  std::tie(rc, out) = run("campaign status --follow " + id);
  EXPECT_EQ(rc, 0) << out;
  std::cout << out;
  EXPECT_NE(out.find("] 5/5 ok 5 error 0 retrying 0 expired 0  done"), std::string::npos) << out;
  std::tie(rc, out) = run("api GET /ota/v1/cards/" + iccid(0));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(json::parse(out)["msisdn"], msisdn(0));
  std::tie(rc, out) = run("api GET /ota/v1/commands/cmd-00");
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("error: HTTP 404: unknown command or campaign"), std::string::npos) << out;
}
