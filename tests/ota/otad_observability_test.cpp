// otad's admin listener (issue 13, must-show 2 for the OTA server;
// docs/ota.md "Health and metrics"): /metrics scraped before and after a
// command that runs to its PoR moves exactly the counters that command
// should move, a PoR refusal lands under its TS 102 225 status name, and
// /health/ready turns 503 when the store is moved away (200 when it is
// back) and when the SMSC link is gone. otad runs as its own process.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "otad_harness.hpp"
#include "rsp/http_server.hpp"
#include "rsp/otad/config.hpp"
#include "rsp/otad/metrics.hpp"

using namespace otad_test;
using namespace std::chrono_literals;

namespace {

struct World {
  Farm farm;
  std::uint16_t admin_port = rsp::http::free_loopback_port();
  OtadFiles files;
  std::unique_ptr<OtadProcess> otad;
  explicit World(std::size_t cards)
      : farm(cards), files(farm.port, json{{"admin", {{"listen", "127.0.0.1"}, {"port", admin_port}}}}) {
    otad = std::make_unique<OtadProcess>(OTAD_BINARY, files);
  }
  rsp::http::Response admin_get(const std::string& path) const {
    rsp::http::ClientConfig cc;
    cc.timeout = 10s;
    rsp::http::Client c(cc);
    return c.get("http://127.0.0.1:" + std::to_string(admin_port) + path);
  }
  // The text format as series ("name{labels}") -> value; comments skipped.
  std::map<std::string, double> scrape() const {
    auto r = admin_get("/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.get_or("Content-Type", ""), "text/plain; version=0.0.4; charset=utf-8");
    std::map<std::string, double> out;
    std::istringstream in(r.body);
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      auto sp = line.rfind(' ');
      out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    }
    return out;
  }
  // Waits (at most 10 s) until /health/ready answers `status`.
  rsp::http::Response ready_becomes(int status) const {
    rsp::http::Response r;
    for (int i = 0; i < 200; ++i) {
      r = admin_get("/health/ready");
      if (r.status == status) break;
      std::this_thread::sleep_for(50ms);
    }
    return r;
  }
};

double at(const std::map<std::string, double>& m, const std::string& series) {
  auto it = m.find(series);
  return it == m.end() ? 0 : it->second;
}
double delta(const std::map<std::string, double>& before, const std::map<std::string, double>& after,
             const std::string& series) {
  return at(after, series) - at(before, series);
}
std::string api(const std::string& endpoint, int status) {
  return "otad_api_requests_total{endpoint=\"" + endpoint + "\",status=\"" + std::to_string(status) + "\"}";
}

// Runs the command to a final state; returns it and counts the status polls.
json run_command(World& w, rsp::http::Client& c, const std::string& tar, int* polls) {
  auto r = c.post(w.otad->url("/ota/v1/cards/" + iccid(0) + "/commands"),
                  json{{"tar", tar}, {"apdus", {"00A40004022FE2", "00B000000A"}}}.dump(), json_headers());
  EXPECT_EQ(r.status, 202) << r.body;
  std::string id = json::parse(r.body)["id"];
  json s;
  for (int i = 0; i < 400; ++i) {
    auto g = c.get(w.otad->url("/ota/v1/commands/" + id));
    ++*polls;
    s = json::parse(g.body);
    if (s["state"] != "queued" && s["state"] != "sent") break;
    std::this_thread::sleep_for(50ms);
  }
  return s;
}

}  // namespace

TEST(OtadMetrics, ACommandWithAPorMovesTheCountersByExactlyItsCalls) {
  World w(1);
  ASSERT_NE(w.otad->port(), 0);
  ASSERT_EQ(w.ready_becomes(200).status, 200);  // bound to the SMSC
  auto c = w.files.client();
  // A second TAR the card has no application at: its command comes back
  // with PoR 09 (TS 102 225 5.2 "TAR unknown").
  json reg = register_body(0);
  reg["tars"].push_back({{"tar", "B00020"}, {"msl", "16"}, {"key_version", 1}});
  ASSERT_EQ(c.post(w.otad->url("/ota/v1/cards"), reg.dump(), json_headers()).status, 201);

  auto before = w.scrape();
  auto smsc_before = w.farm.smsc.stats();
  int polls = 0;
  json s = run_command(w, c, "B00010", &polls);
  ASSERT_EQ(s["state"], "por_ok") << s.dump();
  auto after = w.scrape();
  auto smsc_after = w.farm.smsc.stats();

  EXPECT_EQ(delta(before, after, api("POST /cards/{iccid}/commands", 202)), 1);
  EXPECT_EQ(delta(before, after, api("GET /commands/{id}", 200)), polls);
  EXPECT_EQ(delta(before, after, "otad_api_request_duration_seconds_count{endpoint=\"POST /cards/{iccid}/commands\"}"), 1);
  EXPECT_EQ(delta(before, after, "otad_commands_sent_total{transport=\"sms\",attempt=\"first\"}"), 1);
  EXPECT_EQ(delta(before, after, "otad_commands_sent_total{transport=\"sms\",attempt=\"retry\"}"), 0);
  // The SMS counted are the submit_sm the SMSC received (its own count).
  double sms = delta(before, after, "otad_sms_sent_total{attempt=\"first\"}");
  EXPECT_EQ(sms, static_cast<double>(smsc_after.submits - smsc_before.submits));
  EXPECT_GE(sms, 1);
  EXPECT_EQ(delta(before, after, "otad_por_total{status=\"PoR OK\"}"), 1);
  EXPECT_EQ(at(after, "otad_job_cards{kind=\"command\",state=\"por_ok\"}"), 1);
  EXPECT_EQ(at(after, "otad_tls_handshakes_total{listener=\"api\",result=\"failed\"}"), 0);
  EXPECT_GE(at(after, "otad_tls_handshakes_total{listener=\"api\",result=\"ok\"}"), 1);

  // A PoR that refuses lands under its status name; a refused request and
  // an unknown path under their HTTP status (the path is not a label).
  before = after;
  polls = 0;
  s = run_command(w, c, "B00020", &polls);
  EXPECT_EQ(s["state"], "por_error") << s.dump();
  EXPECT_EQ(s["por_status"], "09");
  EXPECT_EQ(c.post(w.otad->url("/ota/v1/cards/" + iccid(0) + "/commands"),
                   json{{"tar", "B00099"}, {"apdus", {"00A40004022FE2"}}}.dump(), json_headers())
                .status,
            422);
  EXPECT_EQ(c.get(w.otad->url("/ota/v1/no/such/thing")).status, 404);
  after = w.scrape();
  EXPECT_EQ(delta(before, after, "otad_por_total{status=\"TAR unknown\"}"), 1);
  EXPECT_EQ(delta(before, after, "otad_por_total{status=\"PoR OK\"}"), 0);
  EXPECT_EQ(delta(before, after, api("POST /cards/{iccid}/commands", 202)), 1);
  EXPECT_EQ(delta(before, after, api("POST /cards/{iccid}/commands", 422)), 1);
  EXPECT_EQ(delta(before, after, api("unknown", 404)), 1);
  EXPECT_EQ(at(after, "otad_job_cards{kind=\"command\",state=\"por_error\"}"), 1);
  EXPECT_EQ(at(after, "otad_job_cards{kind=\"command\",state=\"por_ok\"}"), 1);
}

TEST(OtadHealth, ReadyFollowsTheStoreAndTheSmscLinkAndLiveStaysUp) {
  World w(1);
  ASSERT_NE(w.otad->port(), 0);
  EXPECT_EQ(w.admin_get("/health/live").body, R"({"status":"live"})");
  auto r = w.ready_becomes(200);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"status":"ready"})");

  // The store file moved away: SQLite would go on writing to the open file,
  // which no restart would find.
  fs::path db = w.files.dir.path / "otad.db", away = w.files.dir.path / "otad.db.away";
  fs::rename(db, away);
  r = w.admin_get("/health/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json::parse(r.body)["reason"], "store: the database file is gone from its path") << r.body;
  EXPECT_EQ(w.admin_get("/health/live").status, 200);
  fs::rename(away, db);
  EXPECT_EQ(w.admin_get("/health/ready").status, 200);

  // No SMSC: nothing reaches a card.
  w.farm.smsc.stop();
  r = w.ready_becomes(503);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json::parse(r.body)["reason"].get<std::string>().rfind("smpp: not bound to the SMSC at 127.0.0.1:", 0), 0u)
      << r.body;
  EXPECT_EQ(w.admin_get("/health/live").status, 200);
  EXPECT_EQ(w.admin_get("/metrics").status, 200);
  EXPECT_EQ(w.admin_get("/nothing").status, 404);
}

// A store sealed with another storage key than the one configured: the
// first command would fail; readiness says so at once.
TEST(OtadHealth, ReadyRefusesAStorageKeyThatDoesNotOpenTheStore) {
  World w(1);
  ASSERT_NE(w.otad->port(), 0);
  auto c = w.files.client();
  ASSERT_EQ(c.post(w.otad->url("/ota/v1/cards"), register_body(0).dump(), json_headers()).status, 201);
  ASSERT_EQ(w.ready_becomes(200).status, 200);
  w.otad->kill(SIGTERM);
  rsp::write_private_file((w.files.dir.path / "storage.key").string(), rsp::to_bytes(rsp::to_hex(rsp::Bytes(32, 0x5B))));
  w.otad = std::make_unique<OtadProcess>(OTAD_BINARY, w.files);
  ASSERT_NE(w.otad->port(), 0);
  auto r = w.admin_get("/health/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json::parse(r.body)["reason"].get<std::string>().rfind("storage key: cannot decrypt", 0), 0u) << r.body;
}

TEST(OtadConfig, AdminListenerIsLoopbackUnlessAllowed) {
  Farm farm(0);
  OtadFiles f(farm.port, json{{"admin", {{"port", 9100}, {"listen", "0.0.0.0"}}}});
  try {
    rsp::otad::load_config(f.config.string());
    ADD_FAILURE() << "0.0.0.0 accepted without allow_remote";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("admin.listen 0.0.0.0 is not a loopback address"), std::string::npos) << e.what();
  }
  OtadFiles allowed(farm.port, json{{"admin", {{"port", 9100}, {"listen", "0.0.0.0"}, {"allow_remote", true}}}});
  auto c = rsp::otad::load_config(allowed.config.string());
  EXPECT_TRUE(c.admin.enabled);
  EXPECT_EQ(c.admin.port, 9100);
  OtadFiles off(farm.port);
  EXPECT_FALSE(rsp::otad::load_config(off.config.string()).admin.enabled);
  OtadFiles typo(farm.port, json{{"admin", {{"port", 9100}, {"allow_remot", true}}}});
  EXPECT_THROW(rsp::otad::load_config(typo.config.string()), std::runtime_error);
}

// Every route Api::handle serves has its own label; anything else (an id
// in the wrong place, another method, a path outside /ota/v1/) is
// "unknown", so a client cannot create series.
TEST(OtadMetrics, EveryApiRouteHasItsLabelAndNothingElseDoes) {
  using rsp::otad::api_endpoint_label;
  const std::string card = "/ota/v1/cards/" + iccid(0);
  EXPECT_EQ(api_endpoint_label("POST", "/ota/v1/cards"), "POST /cards");
  EXPECT_EQ(api_endpoint_label("GET", card), "GET /cards/{iccid}");
  EXPECT_EQ(api_endpoint_label("DELETE", card), "DELETE /cards/{iccid}");
  EXPECT_EQ(api_endpoint_label("POST", card + "/commands"), "POST /cards/{iccid}/commands");
  EXPECT_EQ(api_endpoint_label("POST", card + "/accounts"), "POST /cards/{iccid}/accounts");
  EXPECT_EQ(api_endpoint_label("POST", card + "/accounts/2/switch"), "POST /cards/{iccid}/accounts/{slot}/switch");
  EXPECT_EQ(api_endpoint_label("DELETE", card + "/accounts/2"), "DELETE /cards/{iccid}/accounts/{slot}");
  EXPECT_EQ(api_endpoint_label("GET", "/ota/v1/commands/job-1"), "GET /commands/{id}");
  EXPECT_EQ(api_endpoint_label("POST", "/ota/v1/campaigns"), "POST /campaigns");
  EXPECT_EQ(api_endpoint_label("GET", "/ota/v1/campaigns/job-2"), "GET /campaigns/{id}");
  EXPECT_EQ(api_endpoint_label("POST", "/ota/v1/campaigns/job-2/cancel"), "POST /campaigns/{id}/cancel");
  for (auto [m, p] : std::vector<std::pair<std::string, std::string>>{{"GET", "/ota/v1/cards"},
                                                                      {"PUT", card},
                                                                      {"POST", card + "/commandz"},
                                                                      {"POST", card + "/accounts/2/enable"},
                                                                      {"GET", "/ota/v2/cards/" + iccid(0)},
                                                                      {"GET", "/metrics"},
                                                                      {"POST", "/ota/v1/campaigns/job-2/cancel/now"}})
    EXPECT_EQ(api_endpoint_label(m, p), "unknown") << m << " " << p;
}
