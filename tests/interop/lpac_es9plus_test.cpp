// lpac's ES9+ requests (tests/interop/data/lpac-es9plus.json, captured from
// an lpac run against smdpd: the file names the lpac commit and commands)
// replayed through the SM-DP+'s own HTTP entry point, handle_es9plus, as the
// exact bodies lpac sent. The sessions lpac's requests belong to are put back
// into a fresh store from the captured answers (transactionId, serverChallenge,
// smdpSignature2), so that every request goes all the way: JSON, base64, the
// DER of SGP.22's RSPDefinitions, the eUICC's signatures under the SGP.26
// PKI the run used. A request that did not decode would answer 1.2/2.1.
#include <gtest/gtest.h>

#include <map>

#include "corpus.hpp"
#include "rsp/asn1.hpp"
#include "rsp/certs.hpp"
#include "rsp/crypto.hpp"
#include "rsp/smdp/es9plus.hpp"
#include "rsp/smdp/profile_package.hpp"
#include "rsp/smdp/server.hpp"
#include "rsp/store.hpp"
#include "rsp/tlv.hpp"

#include <AuthenticateServerResponse.h>
#include <BoundProfilePackage.h>
#include <CancelSessionResponse.h>
#include <EUICCInfo1.h>
#include <PendingNotification.h>
#include <PrepareDownloadResponse.h>
#include <ServerSigned1.h>
#include <SmdpSigned2.h>
#include <StoreMetadataRequest.h>

namespace rsp::interop {
namespace {

using nlohmann::json;

struct Exchange {
  std::string function, request, response;
  int status = 0;
  json req() const { return json::parse(request); }
  json resp() const { return response.empty() ? json() : json::parse(response); }
};

std::vector<Exchange> exchanges(const json& v) {
  std::vector<Exchange> out;
  for (const auto& e : v.at("exchanges"))
    out.push_back({e.at("function"), e.at("request"), e.value("response", std::string()), e.at("status")});
  return out;
}

// A fresh SM-DP+ store with the SGP.26 credentials and the address of the
// captured run, and the TS.48 packages the run staged under its matching ids.
struct Smdp {
  fs::path dir;
  std::unique_ptr<store::Db> db;
  std::unique_ptr<smdp::ProfileStore> store;
  std::unique_ptr<smdp::Es9Plus> es9;
  smdp::Config config;

  Smdp(const json& v, const std::string& name) {
    dir = fs::temp_directory_path() / ("rsp-interop-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto s = [](const std::string& rel) { return shared_testdata("sgp26/" + rel); };
    config.address = v.at("smdp_address");
    config.db_path = (dir / "smdp.db").string();
    config.storage_key = SecretBytes(crypto::random_bytes(32));
    smdp::CredentialSet cs;
    cs.ci_certificate = slurp(s("CertificateIssuer/CERT_CI_ECDSA_NIST.der"));
    cs.dpauth_certificate = slurp(s("DPauth/CERT_S_SM_DPauth_ECDSA_NIST.der"));
    cs.dpauth_key_pem = to_string(slurp(s("DPauth/SK_S_SM_DPauth_ECDSA_NIST.pem")));
    cs.dppb_certificate = slurp(s("DPpb/CERT_S_SM_DPpb_ECDSA_NIST.der"));
    cs.dppb_key_pem = to_string(slurp(s("DPpb/SK_S_SM_DPpb_ECDSA_NIST.pem")));
    config.credentials = {cs};
    config.allow_eum_without_name_constraints = v.value("allow_eum_without_name_constraints", false);
    db = std::make_unique<store::Db>(config.db_path);
    store = std::make_unique<smdp::ProfileStore>(*db, config.storage_key);
    es9 = std::make_unique<smdp::Es9Plus>(config, *store);
    for (const auto& st : v.at("staged")) {
      Bytes upp = slurp(shared_testdata(st.at("upp").get<std::string>()));
      smdp::Profile p;
      p.iccid = smdp::inspect_upp(upp).iccid;
      p.matching_id = st.at("matching_id");
      p.state = smdp::ProfileState::Released;
      p.service_provider_name = "corpus";
      p.profile_name = "corpus";
      store->stage(p, upp);
    }
  }
  ~Smdp() {
    es9.reset();
    store.reset();
    db.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  http::Response post(const Exchange& e) {
    http::Request r;
    r.method = "POST";
    r.target = "/gsma/rsp2/es9plus/" + e.function;
    r.headers.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");  // lpac's (euicc/es9p.c)
    r.headers.set("Content-Type", "application/json");
    r.headers.set("User-Agent", "gsma-rsp-lpad");
    r.body = e.request;
    r.remote_address = "127.0.0.1:1";
    return smdp::handle_es9plus(*es9, r);
  }
};

std::string status_of(const http::Response& r) {
  if (r.status == 204) return "204";
  auto j = json::parse(r.body);
  const auto& h = j.at("header").at("functionExecutionStatus");
  if (h.at("status") == "Executed-Success") return "Executed-Success";
  return h.at("statusCodeData").at("subjectCode").get<std::string>() + "/" +
         h.at("statusCodeData").at("reasonCode").get<std::string>();
}

Bytes b64(const json& j, const char* field) { return from_base64(j.at(field).get<std::string>()); }

struct LpacEs9Plus : ::testing::Test {
  json v = load_vector("lpac-es9plus.json");
  std::vector<Exchange> all = exchanges(v);
};

// The replays need the run's PKI (SGP.26) and its TS.48 packages.
#define RSP_REQUIRE_REPLAY_INPUTS() \
  RSP_REQUIRE_SGP26();              \
  if (!fs::exists(shared_testdata("ts48"))) GTEST_SKIP() << "TS.48 test profiles absent"

// Every ES9+ function of SGP.22 5.6 is in the corpus.
TEST_F(LpacEs9Plus, CorpusHasEveryFunction) {
  std::map<std::string, int> n;
  for (const auto& e : all) n[e.function]++;
  for (const char* f : {"initiateAuthentication", "authenticateClient", "getBoundProfilePackage", "handleNotification",
                        "cancelSession"})
    EXPECT_GT(n[f], 0) << f;
}

// The whole captured conversation, in order, against a fresh store: each
// request answers what it answered lpac (success, or 204 for notifications).
TEST_F(LpacEs9Plus, EveryRequestIsAcceptedAsInTheRun) {
  RSP_REQUIRE_REPLAY_INPUTS();
  Smdp dp(v, "replay");
  std::map<std::string, json> ia_request_by_challenge;  // euiccChallenge -> initiateAuthentication request
  std::map<std::string, json> ia_response_by_txn;       // transactionId -> captured initiateAuthentication answer
  std::map<std::string, json> ac_response_by_txn;
  std::map<std::string, json> ia_request_by_txn;
  std::vector<json> ia_requests;
  int checked = 0, installs = 0, others = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Exchange& e = all[i];
    SCOPED_TRACE("exchange " + std::to_string(i) + " " + e.function);
    json req = e.req();
    if (e.function == "initiateAuthentication") {
      // Our answer has a fresh transactionId and challenge; the captured one
      // is what lpac's next request is bound to.
      auto r = dp.post(e);
      ASSERT_EQ(status_of(r), "Executed-Success") << r.body;
      auto ours = json::parse(r.body);
      auto ss1 = RSP_ASN1_DECODE(ServerSigned1, b64(ours, "serverSigned1"));
      EXPECT_EQ(asn1::to_bytes(ss1->euiccChallenge), b64(req, "euiccChallenge"));
      EXPECT_EQ(asn1::to_string(ss1->serverAddress), req.at("smdpAddress").get<std::string>());
      json captured = e.resp();
      ia_response_by_txn[captured.at("transactionId")] = captured;
      ia_request_by_txn[captured.at("transactionId")] = req;
    } else if (e.function == "authenticateClient") {
      std::string txn = req.at("transactionId");
      ASSERT_TRUE(ia_response_by_txn.count(txn)) << "no initiateAuthentication for " << txn;
      auto ss1 = RSP_ASN1_DECODE(ServerSigned1, b64(ia_response_by_txn[txn], "serverSigned1"));
      smdp::Session s;
      s.transaction_id = txn;
      s.state = "initiated";
      s.created_at = std::time(nullptr);
      s.euicc_challenge = asn1::to_bytes(ss1->euiccChallenge);
      s.server_challenge = asn1::to_bytes(ss1->serverChallenge);
      s.server_address = v.at("smdp_address");
      s.credential_index = 0;
      s.signing_ci_index = 0;
      dp.store->put_session(s);
      auto r = dp.post(e);
      ASSERT_EQ(status_of(r), "Executed-Success") << r.body;
      auto ours = json::parse(r.body);
      EXPECT_EQ(ours.at("transactionId"), txn);
      auto md = RSP_ASN1_DECODE(StoreMetadataRequest, b64(ours, "profileMetadata"));
      EXPECT_FALSE(asn1::to_bytes(md->iccid).empty());
      ac_response_by_txn[txn] = e.resp();
    } else if (e.function == "getBoundProfilePackage") {
      // euiccSignature2 covers smdpSignature2 of the run: put it back.
      std::string txn = req.at("transactionId");
      ASSERT_TRUE(ac_response_by_txn.count(txn));
      auto s = dp.store->session(txn);
      ASSERT_TRUE(s);
      Bytes sig_tlv = b64(ac_response_by_txn[txn], "smdpSignature2");
      auto sig = tlv::require(sig_tlv, 0x5F37);
      s->smdp_signature2.assign(sig.value.begin(), sig.value.end());
      dp.store->put_session(*s);
      auto r = dp.post(e);
      ASSERT_EQ(status_of(r), "Executed-Success") << r.body;
      auto bpp = RSP_ASN1_DECODE(BoundProfilePackage, b64(json::parse(r.body), "boundProfilePackage"));
      EXPECT_EQ(to_hex(asn1::to_bytes(bpp->initialiseSecureChannelRequest.transactionId), true), txn);
    } else if (e.function == "handleNotification") {
      auto r = dp.post(e);
      EXPECT_EQ(status_of(r), "204") << r.body;
      // The install notification marks the run's profile installed; the
      // enable, disable and delete ones follow it (delete: unavailable).
      auto pn = RSP_ASN1_DECODE(PendingNotification, b64(req, "pendingNotification"));
      auto p = dp.store->by_matching_id(v.at("staged").at(0).at("matching_id"));
      ASSERT_TRUE(p);
      if (pn->present == PendingNotification_PR_profileInstallationResult) {
        EXPECT_EQ(smdp::to_string(p->state), "installed");
        ++installs;
      } else {
        ++others;
      }
    } else if (e.function == "cancelSession") {
      auto r = dp.post(e);
      EXPECT_EQ(status_of(r), "Executed-Success") << r.body;
    } else {
      ADD_FAILURE() << "unexpected function " << e.function;
    }
    EXPECT_EQ(e.status, e.function == "handleNotification" ? 204 : 200) << "the run itself";
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(all.size()));
  EXPECT_EQ(installs, 1);
  EXPECT_EQ(others, 3);  // enable, disable, delete
  // The run deleted the profile it installed (SGP.22 3.2.3): so does our store.
  auto p = dp.store->by_matching_id(v.at("staged").at(0).at("matching_id"));
  ASSERT_TRUE(p);
  EXPECT_EQ(smdp::to_string(p->state), "unavailable");
  // The cancelled session gave its profile back (released for a later attempt).
  auto q = dp.store->by_matching_id(v.at("staged").at(1).at("matching_id"));
  ASSERT_TRUE(q);
  EXPECT_EQ(smdp::to_string(q->state), "released");
}

// Without the session (a store that never saw the run), the requests bound
// to a transactionId answer "unknown transaction" (8.10.1/3.9), never the
// malformed-request code 1.2/2.1: the body itself is acceptable.
TEST_F(LpacEs9Plus, UnknownTransactionIsNotAMalformedRequest) {
  RSP_REQUIRE_REPLAY_INPUTS();
  Smdp dp(v, "unknown");
  int n = 0;
  for (const auto& e : all) {
    if (e.function != "authenticateClient" && e.function != "getBoundProfilePackage" && e.function != "cancelSession")
      continue;
    SCOPED_TRACE(e.function);
    EXPECT_EQ(status_of(dp.post(e)), "8.10.1/3.9");
    ++n;
  }
  EXPECT_GE(n, 3);
}

// The DER inside lpac's bodies, field by field, through our module's
// decoder (the same generated code the SM-DP+ uses).
TEST_F(LpacEs9Plus, BodiesDecodeFieldByField) {
  // The CI our SM-DP+ named in the run (euiccCiPKIdToBeUsed, '04' SKI): the
  // eUICC's signing list must hold it.
  Bytes ci_ski;
  for (const auto& e : all)
    if (e.function == "initiateAuthentication" && ci_ski.empty()) {
      Bytes to_be_used = b64(e.resp(), "euiccCiPKIdToBeUsed");
      auto t = tlv::parse_one(to_be_used);
      ci_ski.assign(t.value.begin(), t.value.end());
    }
  ASSERT_EQ(ci_ski.size(), 20u);
  for (const auto& e : all) {
    SCOPED_TRACE(e.function);
    json req = e.req();
    if (e.function == "initiateAuthentication") {
      EXPECT_EQ(b64(req, "euiccChallenge").size(), 16u);
      auto info1 = RSP_ASN1_DECODE(EUICCInfo1, b64(req, "euiccInfo1"));
      EXPECT_EQ(to_hex(asn1::to_bytes(info1->svn)), "020202");
      ASSERT_GE(info1->euiccCiPKIdListForSigning.list.count, 1);
      EXPECT_EQ(asn1::to_bytes(*info1->euiccCiPKIdListForSigning.list.array[0]), ci_ski);
    } else if (e.function == "authenticateClient") {
      auto asr = RSP_ASN1_DECODE(AuthenticateServerResponse, b64(req, "authenticateServerResponse"));
      ASSERT_EQ(asr->present, AuthenticateServerResponse_PR_authenticateResponseOk);
      const auto& ok = asr->choice.authenticateResponseOk;
      EXPECT_EQ(to_hex(asn1::to_bytes(ok.euiccSigned1.transactionId), true),
                req.at("transactionId").get<std::string>());
      ASSERT_EQ(ok.euiccSigned1.ctxParams1.present, CtxParams1_PR_ctxParamsForCommonAuthentication);
      const auto* mid = ok.euiccSigned1.ctxParams1.choice.ctxParamsForCommonAuthentication.matchingId;
      ASSERT_NE(mid, nullptr);
      EXPECT_FALSE(asn1::to_string(*mid).empty());
      EXPECT_EQ(ok.euiccSignature1.size, 64);
    } else if (e.function == "getBoundProfilePackage") {
      auto pdr = RSP_ASN1_DECODE(PrepareDownloadResponse, b64(req, "prepareDownloadResponse"));
      ASSERT_EQ(pdr->present, PrepareDownloadResponse_PR_downloadResponseOk);
      const auto& s2 = pdr->choice.downloadResponseOk.euiccSigned2;
      EXPECT_EQ(to_hex(asn1::to_bytes(s2.transactionId), true), req.at("transactionId").get<std::string>());
      EXPECT_EQ(asn1::to_bytes(s2.euiccOtpk).size(), 65u);
    } else if (e.function == "handleNotification") {
      auto pn = RSP_ASN1_DECODE(PendingNotification, b64(req, "pendingNotification"));
      EXPECT_TRUE(pn->present == PendingNotification_PR_profileInstallationResult ||
                  pn->present == PendingNotification_PR_otherSignedNotification);
    } else if (e.function == "cancelSession") {
      auto csr = RSP_ASN1_DECODE(CancelSessionResponse, b64(req, "cancelSessionResponse"));
      ASSERT_EQ(csr->present, CancelSessionResponse_PR_cancelSessionResponseOk);
      const auto& signed_cancel = csr->choice.cancelSessionResponseOk.euiccCancelSessionSigned;
      EXPECT_EQ(to_hex(asn1::to_bytes(signed_cancel.transactionId), true),
                req.at("transactionId").get<std::string>());
    }
  }
}

// What lpac parsed from us in the run (the answers it went on with) is in
// the shape SGP.22 6.5/6.6 give: our encoding, accepted by an independent LPA.
TEST_F(LpacEs9Plus, AnswersLpacAcceptedAreOurEncoding) {
  for (const auto& e : all) {
    SCOPED_TRACE(e.function);
    if (e.function == "handleNotification") {
      EXPECT_TRUE(e.response.empty());
      continue;
    }
    json r = e.resp();
    EXPECT_EQ(r.at("header").at("functionExecutionStatus").at("status"), "Executed-Success");
    if (e.function == "initiateAuthentication") {
      EXPECT_NO_THROW(RSP_ASN1_DECODE(ServerSigned1, b64(r, "serverSigned1")));
      EXPECT_EQ(tlv::parse_one(b64(r, "serverSignature1")).tag, 0x5F37u);
      EXPECT_EQ(tlv::parse_one(b64(r, "euiccCiPKIdToBeUsed")).tag, 0x04u);
      EXPECT_NO_THROW(certs::parse(b64(r, "serverCertificate")));
    } else if (e.function == "authenticateClient") {
      EXPECT_NO_THROW(RSP_ASN1_DECODE(StoreMetadataRequest, b64(r, "profileMetadata")));
      EXPECT_NO_THROW(RSP_ASN1_DECODE(SmdpSigned2, b64(r, "smdpSigned2")));
      EXPECT_EQ(tlv::parse_one(b64(r, "smdpSignature2")).tag, 0x5F37u);
    } else if (e.function == "getBoundProfilePackage") {
      EXPECT_NO_THROW(RSP_ASN1_DECODE(BoundProfilePackage, b64(r, "boundProfilePackage")));
    }
  }
}

}  // namespace
}  // namespace rsp::interop
