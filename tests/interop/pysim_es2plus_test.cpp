// pySim's ES2+ requests (tests/interop/data/pysim-es2plus.json: the exact
// HTTP requests pySim's Es2pApiClient sent, the file names the pySim commit
// and how they were captured) posted through the SM-DP+'s own ES2+ entry
// point, handle_es2plus, with pySim's headers and body bytes, on a store
// staged so every call of the captured sequence succeeds: three orders of
// SGP.22 3.1.1 (DownloadOrder, ConfirmOrder, then ReleaseProfile or
// CancelOrder). A field name our parser does not know answers 8.2.1/3.9 or
// 1.2/2.2 instead; pySim's 20-character ICCIDs (19 digits and the padding F)
// must name the same profiles as our 19 digits.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "corpus.hpp"
#include "rsp/crypto.hpp"
#include "rsp/http_server.hpp"
#include "rsp/smdp/es2plus.hpp"
#include "rsp/smdp/profile_store.hpp"
#include "rsp/smdp/server.hpp"
#include "rsp/store.hpp"

namespace rsp::interop {
namespace {

using nlohmann::json;

// The profiles the captured orders name, as the operator's batch import
// would have staged them: one profile type per order, so that DownloadOrder
// by profileType can only take the profile the capture's answer named.
struct Staged {
  const char* iccid;
  const char* profile_type;
};
constexpr Staged kStaged[] = {
    {"8944500000000000011", "PYSIM-A"},
    {"8944500000000000029", "PYSIM-TYPE"},
    {"89445000000000000037", "PYSIM-C"},
};

struct Smdp {
  fs::path dir;
  smdp::Config config;
  std::unique_ptr<store::Db> db;
  std::unique_ptr<smdp::ProfileStore> store;
  std::unique_ptr<smdp::Es2Plus> es2;
  std::vector<smdp::OperatorConfig> operators;
  Bytes operator_certificate = to_bytes("the DER pySim's operator would present (pinned)");

  explicit Smdp(const std::string& operator_id) {
    dir = fs::temp_directory_path() / ("rsp-interop-pysim-es2-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    config.address = "smdp.example.com";
    config.db_path = (dir / "smdp.db").string();
    config.storage_key = SecretBytes(crypto::random_bytes(32));
    db = std::make_unique<store::Db>(config.db_path);
    store = std::make_unique<smdp::ProfileStore>(*db, config.storage_key);
    es2 = std::make_unique<smdp::Es2Plus>(config, *store);
    operators = {{operator_id, operator_certificate, ""}, {"OTHER-OPERATOR", to_bytes("another DER"), ""}};
    for (const auto& s : kStaged) {
      smdp::Profile p;
      p.iccid = s.iccid;
      p.owner = operator_id;
      p.profile_type = s.profile_type;
      p.service_provider_name = "pySim corpus";
      p.profile_name = s.profile_type;
      store->stage(p, to_bytes("profile package not read by ES2+"));
    }
  }
  ~Smdp() {
    es2.reset();
    store.reset();
    db.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  // The captured request as our HTTPS front hands it over: pySim's method,
  // path, headers and body, from the pinned operator certificate.
  http::Response post(const json& e) {
    http::Request r;
    r.method = e.at("method");
    r.target = e.at("path");
    for (const auto& [name, value] : e.at("headers").items()) r.headers.add(name, value.get<std::string>());
    r.body = e.at("request");
    r.peer_certificate = operator_certificate;
    r.tls = true;
    r.remote_address = "127.0.0.1:40000";
    return smdp::handle_es2plus(*es2, operators, r);
  }

  std::string state(const std::string& iccid) {
    auto p = store->by_iccid(iccid);
    return p ? std::string(smdp::to_string(p->state)) : "absent";
  }
};

// "ok", or the SGP.22 subject/reason of a failed function (or the HTTP status).
std::string outcome(const http::Response& r) {
  if (r.status != 200) return "HTTP " + std::to_string(r.status) + ": " + r.body;
  json j = json::parse(r.body);
  const json& s = j.at("header").at("functionExecutionStatus");
  if (s.at("status") == "Executed-Success") return "ok";
  return s.at("statusCodeData").at("subjectCode").get<std::string>() + "/" +
         s.at("statusCodeData").at("reasonCode").get<std::string>() + " " +
         s.at("statusCodeData").value("message", std::string());
}

// The ICCID pySim meant: 19 digits for its 20 characters ending in F.
std::string unpadded(std::string iccid) {
  if (iccid.size() == 20 && (iccid.back() == 'F' || iccid.back() == 'f')) iccid.pop_back();
  return iccid;
}

TEST(PysimEs2Plus, CorpusHasEveryOperatorFunction) {
  json v = load_vector("pysim-es2plus.json");
  std::set<std::string> functions;
  for (const auto& e : v.at("exchanges")) {
    functions.insert(e.at("function").get<std::string>());
    EXPECT_EQ(e.at("path"), "/gsma/rsp2/es2plus/" + e.at("function").get<std::string>());
    EXPECT_EQ(e.at("method"), "POST");
    // SGP.22 6.5.1: what pySim says it speaks, as it went over the wire.
    EXPECT_EQ(e.at("headers").at("X-Admin-Protocol"), "gsma/rsp/v2.5.0");
    EXPECT_EQ(e.at("headers").at("Content-Type"), "application/json");
  }
  EXPECT_EQ(functions, (std::set<std::string>{"downloadOrder", "confirmOrder", "cancelOrder", "releaseProfile"}));
  // At least one ICCID went over padded, so the test below covers the padding.
  bool padded = false;
  for (const auto& e : v.at("exchanges")) padded = padded || json::parse(e.at("request").get<std::string>())
                                                                 .value("iccid", std::string())
                                                                 .ends_with('F');
  EXPECT_TRUE(padded);
}

// The ES2+ body limit (smdp::Limits::es2plus_max_body_bytes, issue 9) is
// sized from real requests: every one pySim sends fits with 4x headroom,
// (SmdpLimits.Es2PlusBodyLimit checks the 413 on a live server). Prints the
// sizes (docs/smdp.md).
TEST(PysimEs2Plus, RequestsFitTheBodyLimit) {
  json v = load_vector("pysim-es2plus.json");
  const smdp::Limits limits;
  for (const auto& e : v.at("exchanges")) {
    const std::string& body = e.at("request").get_ref<const std::string&>();
    std::printf("  %-16s %4zu bytes (limit %zu)\n", e.at("function").get<std::string>().c_str(), body.size(),
                limits.es2plus_max_body_bytes);
    EXPECT_LE(4 * body.size(), limits.es2plus_max_body_bytes) << e.at("function");
  }
}

TEST(PysimEs2Plus, EveryRequestIsExecutedOnTheStagedStore) {
  json v = load_vector("pysim-es2plus.json");
  Smdp smdp(v.at("operator"));
  std::string generated_matching_id;
  for (const auto& e : v.at("exchanges")) {
    const std::string fn = e.at("function");
    const json in = e.at("pysim_input");  // what pySim was asked to send
    const json sent = json::parse(e.at("request").get<std::string>());
    SCOPED_TRACE(fn + " " + e.at("request").get<std::string>());
    ASSERT_EQ(sent.at("header").at("functionRequesterIdentifier"), v.at("operator"));

    http::Response r = smdp.post(e);
    ASSERT_EQ(outcome(r), "ok");
    // What pySim's client checks before it reads an answer (JsonHttpApiClient.call).
    EXPECT_TRUE(r.headers.get_or("Content-Type", "").starts_with("application/json"));
    EXPECT_TRUE(r.headers.get_or("X-Admin-Protocol", "").starts_with("gsma/rsp/v2."));
    json a = json::parse(r.body);
    const std::string iccid = unpadded(sent.value("iccid", std::string()));

    if (fn == "downloadOrder") {
      // By ICCID: that profile; by profileType: the one staged of that type.
      std::string expect = iccid;
      if (expect.empty())
        for (const auto& s : kStaged)
          if (in.at("profileType") == s.profile_type) expect = s.iccid;
      EXPECT_EQ(a.at("iccid"), expect);
      auto p = smdp.store->by_iccid(expect);
      ASSERT_TRUE(p);
      EXPECT_EQ(p->eid, in.value("eid", std::string()));
      EXPECT_EQ(smdp.state(expect), in.contains("eid") ? "linked" : "allocated");
    } else if (fn == "confirmOrder") {
      auto p = smdp.store->by_iccid(iccid);
      ASSERT_TRUE(p);
      EXPECT_EQ(a.at("smdpAddress"), "smdp.example.com");
      if (in.contains("matchingId")) {
        EXPECT_EQ(a.at("matchingId"), in.at("matchingId"));
      } else {
        generated_matching_id = a.at("matchingId");
        EXPECT_EQ(generated_matching_id.size(), 23u);  // 20 symbols in 4 groups of 5 (our AC_Token)
      }
      EXPECT_EQ(p->matching_id, a.at("matchingId"));
      if (in.contains("eid")) {
        EXPECT_EQ(a.at("eid"), in.at("eid"));
      }
      EXPECT_EQ(p->cc_hash.has_value(), in.contains("confirmationCode"));
      if (in.contains("confirmationCode")) {
        EXPECT_EQ(*p->cc_hash, crypto::sha256(to_bytes(in.at("confirmationCode").get<std::string>())));
      }
      EXPECT_EQ(smdp.state(iccid), in.at("releaseFlag").get<bool>() ? "released" : "confirmed");
    } else if (fn == "releaseProfile") {
      EXPECT_EQ(smdp.state(iccid), "released");
    } else if (fn == "cancelOrder") {
      EXPECT_EQ(smdp.state(iccid), in.at("finalProfileStatusIndicator") == "Available" ? "available" : "unavailable");
      auto p = smdp.store->by_iccid(iccid);
      ASSERT_TRUE(p);
      EXPECT_TRUE(p->eid.empty());
      EXPECT_TRUE(p->matching_id.empty());
    } else {
      ADD_FAILURE() << "function outside ES2+: " << fn;
    }
  }
  EXPECT_FALSE(generated_matching_id.empty());
  // The three orders ended where pySim's calls took them.
  EXPECT_EQ(smdp.state("8944500000000000011"), "released");
  EXPECT_EQ(smdp.state("8944500000000000029"), "available");
  EXPECT_EQ(smdp.state("89445000000000000037"), "unavailable");
}

// The same bodies from another operator's certificate: 8.2.1/3.9 for the
// ICCIDs (SGP.22 5.3: an operator acts only on its own profiles) and 1.1/1.2
// for pySim's header naming someone else. Nothing changes in the store.
TEST(PysimEs2Plus, AnotherOperatorsCertificateChangesNothing) {
  json v = load_vector("pysim-es2plus.json");
  Smdp smdp(v.at("operator"));
  for (const auto& e : v.at("exchanges")) {
    SCOPED_TRACE(e.at("request").get<std::string>());
    http::Request r;
    r.method = e.at("method");
    r.target = e.at("path");
    for (const auto& [name, value] : e.at("headers").items()) r.headers.add(name, value.get<std::string>());
    r.body = e.at("request");
    r.peer_certificate = smdp.operators.at(1).certificate;
    EXPECT_TRUE(outcome(smdp::handle_es2plus(*smdp.es2, smdp.operators, r)).starts_with("1.1/1.2"));
  }
  for (const auto& s : kStaged) EXPECT_EQ(smdp.state(s.iccid), "available");
}

}  // namespace
}  // namespace rsp::interop
