// ES9+ client: URL, headers, JSON and base64/hex encodings, status handling,
// and the LPA-side checks, against a fake HTTP poster.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <tuple>

#include "rsp/asn1.hpp"
#include "rsp/lpa/es9p.hpp"

#include <ServerSigned1.h>
#include <SmdpSigned2.h>
#include <StoreMetadataRequest.h>

using namespace rsp;
using namespace rsp::lpa;
using json = nlohmann::json;

namespace {

const Bytes kTid = from_hex("00112233445566778899AABBCCDDEEFF");
const Bytes kChallenge = from_hex("0F0E0D0C0B0A09080706050403020100");

Bytes server_signed1(ByteView tid, ByteView challenge, std::string_view address) {
  auto s = RSP_ASN1_MAKE(ServerSigned1);
  asn1::set(s->transactionId, tid);
  asn1::set(s->euiccChallenge, challenge);
  asn1::set(s->serverAddress, address);
  asn1::set(s->serverChallenge, ByteView(Bytes(16, 0x55)));
  return s.encode_der();
}

Bytes smdp_signed2(ByteView tid, bool cc) {
  auto s = RSP_ASN1_MAKE(SmdpSigned2);
  asn1::set(s->transactionId, tid);
  s->ccRequiredFlag = cc ? 1 : 0;
  return s.encode_der();
}

Bytes metadata() {
  auto m = RSP_ASN1_MAKE(StoreMetadataRequest);
  Bytes iccid = iccid_to_bcd("8944476500000000014");
  asn1::set(m->iccid, ByteView(iccid));
  asn1::set(m->serviceProviderName, std::string_view("Test SP"));
  asn1::set(m->profileName, std::string_view("Test Profile"));
  return m.encode_der();
}

json ok_header() { return {{"functionExecutionStatus", {{"status", "Executed-Success"}}}}; }

struct Recorder {
  std::string url;
  http::Headers headers;
  json body;
  std::function<http::Response(const json&)> reply;
  HttpPost poster() {
    return [this](const std::string& u, const http::Headers& h, const std::string& b) {
      url = u;
      headers = h;
      body = json::parse(b);
      return reply(body);
    };
  }
};

Es9Options opts(Recorder& r) {
  Es9Options o;
  o.post = r.poster();
  return o;
}

}  // namespace

TEST(Es9Client, InitiateAuthenticationRequestAndChecks) {
  Recorder rec;
  rec.reply = [](const json& req) {
    EXPECT_EQ(req.at("smdpAddress"), "SMDP.Example.com:8443");
    EXPECT_EQ(from_base64(req.at("euiccChallenge").get<std::string>()), kChallenge);
    EXPECT_EQ(from_base64(req.at("euiccInfo1").get<std::string>()), from_hex("BF2000"));
    json r = {{"header", ok_header()},
              {"transactionId", "00112233445566778899AABBCCDDEEFF"},
              {"serverSigned1", to_base64(server_signed1(kTid, kChallenge, "smdp.example.com:8443"))},
              {"serverSignature1", to_base64(concat(from_hex("5F3740"), Bytes(64, 1)))},
              {"euiccCiPKIdToBeUsed", to_base64(from_hex("0414F54172BDF98A95D65CBEB88A38A1C11D800A85C3"))},
              {"serverCertificate", to_base64(from_hex("3003020100"))}};
    return http::Response::json(r.dump());
  };
  Es9Client es9("SMDP.Example.com:8443", opts(rec));
  auto r = es9.initiate_authentication(kChallenge, from_hex("BF2000"));
  EXPECT_EQ(rec.url, "https://SMDP.Example.com:8443/gsma/rsp2/es9plus/initiateAuthentication");
  EXPECT_EQ(rec.headers.get_or("X-Admin-Protocol", ""), "gsma/rsp/v2.2.2");
  EXPECT_EQ(rec.headers.get_or("Content-Type", ""), "application/json");
  EXPECT_EQ(rec.headers.get_or("User-Agent", ""), "gsma-rsp-lpad");
  EXPECT_EQ(r.transaction_id, kTid);
  EXPECT_EQ(r.server_address, "smdp.example.com:8443");  // case-insensitive match
  EXPECT_EQ(r.euicc_ci_pkid_to_be_used.size(), 22u);
}

TEST(Es9Client, ServerAddressMismatchIsRejected) {
  Recorder rec;
  rec.reply = [](const json&) {
    json r = {{"header", ok_header()},
              {"transactionId", "00112233445566778899AABBCCDDEEFF"},
              {"serverSigned1", to_base64(server_signed1(kTid, kChallenge, "evil.example.com"))},
              {"serverSignature1", to_base64(Bytes(67, 1))},
              {"euiccCiPKIdToBeUsed", to_base64(Bytes(22, 4))},
              {"serverCertificate", to_base64(from_hex("3003020100"))}};
    return http::Response::json(r.dump());
  };
  Es9Client es9("smdp.example.com", opts(rec));
  EXPECT_THROW(es9.initiate_authentication(kChallenge, from_hex("BF2000")), Es9Error);
}

TEST(Es9Client, TransactionIdMismatchIsRejected) {
  Recorder rec;
  rec.reply = [](const json&) {
    json r = {{"header", ok_header()},
              {"transactionId", "FFFFFFFF445566778899AABBCCDDEEFF"},
              {"serverSigned1", to_base64(server_signed1(kTid, kChallenge, "smdp.example.com"))},
              {"serverSignature1", to_base64(Bytes(67, 1))},
              {"euiccCiPKIdToBeUsed", to_base64(Bytes(22, 4))},
              {"serverCertificate", to_base64(from_hex("3003020100"))}};
    return http::Response::json(r.dump());
  };
  Es9Client es9("smdp.example.com", opts(rec));
  EXPECT_THROW(es9.initiate_authentication(kChallenge, from_hex("BF2000")), Es9Error);
}

// An SM-DP+ that sends the eligibility codes of SGP.22 5.6.3 without a
// message: the LPA still says what they mean.
TEST(Es9Client, EligibilityRefusalsAreNamedWithoutAMessage) {
  for (auto [subject, reason, words] :
       {std::tuple{"8.2.5", "4.3", "no eligible profile for this eUICC/device"},
        std::tuple{"8.1", "4.8", "the eUICC does not have sufficient space for this profile"}}) {
    Recorder rec;
    rec.reply = [subject = std::string(subject), reason = std::string(reason)](const json&) {
      json r = {{"header",
                 {{"functionExecutionStatus",
                   {{"status", "Failed"}, {"statusCodeData", {{"subjectCode", subject}, {"reasonCode", reason}}}}}}}};
      return http::Response::json(r.dump());
    };
    Es9Client es9("smdp.example.com", opts(rec));
    try {
      es9.authenticate_client(kTid, from_hex("BF3800"));
      FAIL() << "no exception";
    } catch (const Es9Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  }
}

TEST(Es9Client, FailedStatusCarriesStatusCodeData) {
  Recorder rec;
  rec.reply = [](const json&) {
    json r = {{"header",
               {{"functionExecutionStatus",
                 {{"status", "Failed"},
                  {"statusCodeData",
                   {{"subjectCode", "8.2.6"}, {"reasonCode", "3.8"}, {"message", "Refused"}}}}}}}};
    return http::Response::json(r.dump());
  };
  Es9Client es9("smdp.example.com", opts(rec));
  try {
    es9.authenticate_client(kTid, from_hex("BF3800"));
    FAIL() << "no exception";
  } catch (const Es9Error& e) {
    EXPECT_EQ(e.function, "authenticateClient");
    EXPECT_EQ(e.status, "Failed");
    EXPECT_EQ(e.subject_code, "8.2.6");
    EXPECT_EQ(e.reason_code, "3.8");
    EXPECT_EQ(e.message, "Refused");
    EXPECT_NE(std::string(e.what()).find("8.2.6"), std::string::npos);
  }
  EXPECT_EQ(rec.body.at("transactionId"), "00112233445566778899AABBCCDDEEFF");
  EXPECT_EQ(rec.body.at("authenticateServerResponse"), to_base64(from_hex("BF3800")));
}

TEST(Es9Client, AuthenticateClientDecodesOffer) {
  Recorder rec;
  rec.reply = [](const json&) {
    json r = {{"header", ok_header()},
              {"transactionId", "00112233445566778899AABBCCDDEEFF"},
              {"profileMetadata", to_base64(metadata())},
              {"smdpSigned2", to_base64(smdp_signed2(kTid, true))},
              {"smdpSignature2", to_base64(Bytes(67, 2))},
              {"smdpCertificate", to_base64(from_hex("3003020100"))}};
    return http::Response::json(r.dump());
  };
  Es9Client es9("smdp.example.com", opts(rec));
  auto r = es9.authenticate_client(kTid, from_hex("BF3800"));
  EXPECT_TRUE(r.cc_required);
  EXPECT_EQ(r.iccid, "8944476500000000014");
  EXPECT_EQ(r.service_provider_name, "Test SP");
  EXPECT_EQ(r.profile_name, "Test Profile");
}

TEST(Es9Client, HttpErrorsAndMissingHeader) {
  Recorder rec;
  Es9Client es9("smdp.example.com", opts(rec));
  rec.reply = [](const json&) { return http::Response::text(500, "oops"); };
  try {
    es9.get_bound_profile_package(kTid, from_hex("BF2100"));
    FAIL();
  } catch (const Es9Error& e) {
    EXPECT_EQ(e.http_status, 500);
  }
  rec.reply = [](const json&) { return http::Response::json(R"({"transactionId":"00"})"); };
  EXPECT_THROW(es9.get_bound_profile_package(kTid, from_hex("BF2100")), Es9Error);
  rec.reply = [](const json&) { return http::Response::json("not json"); };
  EXPECT_THROW(es9.get_bound_profile_package(kTid, from_hex("BF2100")), Es9Error);
}

// A successful response with a member nested 100,000 deep (a hostile or
// broken SM-DP+): the LPA's ordinary error for a malformed response, not a
// stack overflow in the recursive dump or copy of the tree (issue 9).
TEST(Es9Client, DeeplyNestedResponseIsMalformed) {
  Recorder rec;
  Es9Client es9("smdp.example.com", opts(rec));
  rec.reply = [](const json&) {
    return http::Response::json(json{{"header", ok_header()}}.dump().insert(1, "\"transactionId\":" +
                                std::string(100'000, '[') + std::string(100'000, ']') + ","));
  };
  try {
    es9.get_bound_profile_package(kTid, from_hex("BF2100"));
    FAIL() << "accepted";
  } catch (const Es9Error& e) {
    EXPECT_FALSE(e.transport);
    EXPECT_NE(std::string(e.what()).find("not JSON"), std::string::npos) << e.what();
  }
}

TEST(Es9Client, HandleNotificationAccepts204) {
  Recorder rec;
  rec.reply = [](const json&) { return http::Response::empty(204); };
  Es9Client es9("smdp.example.com", opts(rec));
  es9.handle_notification(from_hex("BF3700"));
  EXPECT_EQ(rec.url, "https://smdp.example.com/gsma/rsp2/es9plus/handleNotification");
  EXPECT_EQ(rec.body.at("pendingNotification"), to_base64(from_hex("BF3700")));
  rec.reply = [](const json&) { return http::Response::json(json{{"header", ok_header()}}.dump()); };
  es9.cancel_session(kTid, from_hex("BF4100"));
  EXPECT_EQ(rec.body.at("cancelSessionResponse"), to_base64(from_hex("BF4100")));
}

TEST(Es9Client, RealHttpClientVerifiesCertificatesByDefault) {
  // No poster: a real rsp::http::Client; nothing listens on port 1, so this
  // is a transport error, not an HTTP status.
  Es9Options o;
  o.http.connect_timeout = std::chrono::milliseconds(2000);
  Es9Client es9("127.0.0.1:1", o);
  try {
    es9.handle_notification(from_hex("BF3700"));
    FAIL();
  } catch (const Es9Error& e) {
    EXPECT_TRUE(e.transport);
  }
}
