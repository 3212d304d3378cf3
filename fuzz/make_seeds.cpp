// Writes the seed corpora of the fuzz targets (fuzz/seeds/<target>/) from real
// messages: one in-process SGP.22 download (SM-DP+ request handlers, eUICC
// simulator, LPA) with the GSMA TS.48 test profile, recording every ES9+
// request and response body, every APDU exchanged and the DER inside them,
// plus the LPA's ES10 read functions after the install.
//   fuzz_make_seeds <testdata folder (../shared/testdata)> <output folder>
// The committed seeds were made with it; run it again after a protocol change.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <ProfileElement.h>
#include <nlohmann/json.hpp>

#include "rsp/asn1.hpp"
#include "rsp/crypto.hpp"
#include "rsp/log.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/pki.hpp"
#include "rsp/sim/euicc.hpp"
#include "rsp/smdp/config.hpp"
#include "rsp/smdp/profile_package.hpp"
#include "rsp/smdp/server.hpp"
#include "rsp/tlv.hpp"

namespace fs = std::filesystem;
using rsp::Bytes;

namespace {

const std::vector<std::string> kAsn1Types = {
#define RSP_FUZZ_ASN1_TYPE(t) #t,
#include "asn1_types.inc"
#undef RSP_FUZZ_ASN1_TYPE
};

fs::path out_dir;
int n_written = 0;

void write(const std::string& target, const std::string& name, const Bytes& data) {
  fs::create_directories(out_dir / target);
  std::ofstream(out_dir / target / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  ++n_written;
}
void write(const std::string& target, const std::string& name, const std::string& text) {
  write(target, name, Bytes(text.begin(), text.end()));
}

void asn1_seed(const std::string& type, const Bytes& der, const std::string& name = {}) {
  std::size_t i = 0;
  while (i < kAsn1Types.size() && kAsn1Types[i] != type) ++i;
  if (i == kAsn1Types.size()) throw std::runtime_error("not in asn1_types.inc: " + type);
  Bytes in{static_cast<std::uint8_t>(i)};
  in.insert(in.end(), der.begin(), der.end());
  write("asn1_pdu", name.empty() ? type : name, in);
  write("tlv", name.empty() ? type : name, der);
  if (type == "BoundProfilePackage") {
    Bytes bpp{0xC0};
    bpp.insert(bpp.end(), der.begin(), der.end());
    write("lpa", "bpp", bpp);
  }
}

// ES9+ JSON fields that carry DER, and their ASN.1 types.
const std::map<std::string, std::string> kDerFields = {
    {"euiccInfo1", "EUICCInfo1"},
    {"authenticateServerResponse", "AuthenticateServerResponse"},
    {"prepareDownloadResponse", "PrepareDownloadResponse"},
    {"pendingNotification", "PendingNotification"},
    {"serverSigned1", "ServerSigned1"},
    {"serverCertificate", "Certificate"},
    {"smdpSigned2", "SmdpSigned2"},
    {"smdpCertificate", "Certificate"},
    {"profileMetadata", "StoreMetadataRequest"},
    {"boundProfilePackage", "BoundProfilePackage"},
    {"cancelSessionResponse", "CancelSessionResponse"},
};

void der_fields(const nlohmann::json& j) {
  for (const auto& [k, type] : kDerFields)
    if (auto it = j.find(k); it != j.end() && it->is_string()) asn1_seed(type, rsp::from_base64(it->get<std::string>()));
}

// Records the card link; `calls` splits it into ES10 functions.
class Recorder : public rsp::apdu::Transport {
 public:
  explicit Recorder(rsp::apdu::Transport& card) : card_(card) {}
  rsp::Bytes transmit(rsp::ByteView c) override {
    Bytes r = card_.transmit(c);
    log.push_back({Bytes(c.begin(), c.end()), r});
    return r;
  }
  rsp::Bytes reset() override { return card_.reset(); }
  std::vector<std::pair<Bytes, Bytes>> log;

 private:
  rsp::apdu::Transport& card_;
};

// lpa_fuzz selectors of the ES10 functions, by request tag.
const std::map<std::uint32_t, int> kEs10Selector = {
    {0xBF2E, 0}, {0xBF20, 1}, {0xBF22, 2}, {0xBF3E, 3}, {0xBF3C, 4}, {0xBF2D, 5}, {0xBF31, 6},
    {0xBF33, 7}, {0xBF28, 8}, {0xBF2B, 9}, {0xBF30, 10}, {0xBF38, 11}, {0xBF21, 12}, {0xBF36, 13},
    {0xBF41, 14}, {0xBF29, 15}, {0xBF34, 16}, {0xBF3F, 17}};

// ES10 request tag -> request and response types in asn1_types.inc.
const std::map<std::uint32_t, std::pair<std::string, std::string>> kEs10Types = {
    {0xBF2E, {"", "GetEuiccChallengeResponse"}},
    {0xBF20, {"", "EUICCInfo1"}},
    {0xBF22, {"", "EUICCInfo2"}},
    {0xBF3E, {"GetEuiccDataRequest", "GetEuiccDataResponse"}},
    {0xBF3C, {"EuiccConfiguredAddressesRequest", "EuiccConfiguredAddressesResponse"}},
    {0xBF2D, {"ProfileInfoListRequest", "ProfileInfoListResponse"}},
    {0xBF31, {"EnableProfileRequest", "EnableProfileResponse"}},
    {0xBF28, {"ListNotificationRequest", "ListNotificationResponse"}},
    {0xBF2B, {"RetrieveNotificationsListRequest", "RetrieveNotificationsListResponse"}},
    {0xBF30, {"NotificationSentRequest", "NotificationSentResponse"}},
    {0xBF38, {"AuthenticateServerRequest", "AuthenticateServerResponse"}},
    {0xBF21, {"PrepareDownloadRequest", "PrepareDownloadResponse"}},
    {0xBF36, {"BoundProfilePackage", "ProfileInstallationResult"}},
    {0xBF29, {"SetNicknameRequest", "SetNicknameResponse"}}};

// One lpa_fuzz seed per ES10 function in the log: the card's answers to the
// channel set-up, then to that function's APDUs.
void es10_seeds(const std::vector<std::pair<Bytes, Bytes>>& log, const std::string& prefix) {
  std::vector<Bytes> setup;  // answers before the first STORE DATA
  std::size_t i = 0;
  for (; i < log.size() && log[i].first.size() > 1 && log[i].first[1] != 0xE2; ++i) setup.push_back(log[i].second);
  int k = 0;
  while (i < log.size()) {
    // A function starts at STORE DATA block 0 (P2 = 0).
    const Bytes& first = log[i].first;
    std::uint32_t tag = first.size() > 6 ? (std::uint32_t(first[5]) << 8 | first[6]) : 0;
    Bytes seed;
    auto sel = kEs10Selector.find(tag);
    seed.push_back(static_cast<std::uint8_t>(sel == kEs10Selector.end() ? 0 : sel->second));
    auto add = [&](const Bytes& r) {
      seed.push_back(static_cast<std::uint8_t>(r.size() >> 8));
      seed.push_back(static_cast<std::uint8_t>(r.size()));
      seed.insert(seed.end(), r.begin(), r.end());
    };
    for (const auto& r : setup) add(r);
    Bytes request;  // the ES10 request DER, reassembled from its blocks
    auto starts_function = [&](std::size_t j) {
      const Bytes& c = log[j].first;
      if (!(c.size() > 6 && c[1] == 0xE2 && c[3] == 0)) return false;
      // The segments of a BPP after the first are one LoadBoundProfilePackage.
      return tag != 0xBF36 || kEs10Selector.count(std::uint32_t(c[5]) << 8 | c[6]) != 0;
    };
    std::size_t first_apdu = i;
    do {
      const Bytes& c = log[i].first;
      if (c.size() > 1 && c[1] == 0xE2 && c.size() > 5) request.insert(request.end(), c.begin() + 5, c.begin() + 5 + c[4]);
      add(log[i].second);
      if (i - first_apdu < 2) {  // the first APDUs of each function are enough for the APDU parser
        write("apdu", prefix + "-c" + std::to_string(i), log[i].first);
        write("apdu", prefix + "-r" + std::to_string(i), log[i].second);
      }
      ++i;
    } while (i < log.size() && !starts_function(i));
    write("lpa", prefix + "-es10-" + std::to_string(k++) + "-" + rsp::to_hex(rsp::tlv::encode_tag(tag)), seed);
    write("tlv", prefix + "-req-" + std::to_string(k), request);
    // The ES10 request and response DER, for the PDU target.
    Bytes response;
    for (std::size_t j = first_apdu; j < i; ++j) {
      const Bytes& r = log[j].second;
      if (r.size() > 2) response.insert(response.end(), r.begin(), r.end() - 2);
    }
    if (auto t = kEs10Types.find(tag); t != kEs10Types.end()) {
      if (!t->second.first.empty()) asn1_seed(t->second.first, request, prefix + "-" + t->second.first);
      if (!t->second.second.empty() && !response.empty())
        asn1_seed(t->second.second, response, prefix + "-" + t->second.second);
    }
  }
}

Bytes read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + p.string());
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fuzz_make_seeds <testdata folder> <output folder>\n");
    return 2;
  }
  rsp::log::set_level(rsp::log::Level::Off);
  fs::path testdata = argv[1];
  out_dir = argv[2];
  fs::path tmp = fs::temp_directory_path() / ("rsp-seeds-" + rsp::to_hex(rsp::crypto::random_bytes(4)));
  fs::create_directories(tmp);

  rsp::certs::PkiOptions po;
  po.dp_host = "smdp.example.com";
  auto pki = rsp::certs::generate_pki(po);
  auto config = rsp::smdp::config_from_pki(pki, "smdp.example.com:8443", (tmp / "smdp.db").string());
  rsp::smdp::Server smdp(config);
  rsp::sim::EuiccConfig ec;
  ec.euicc_cert_der = pki.euicc.der;
  ec.euicc_key = rsp::to_bytes(pki.euicc.key.private_pem());
  ec.eum_cert_der = pki.eum.der;
  ec.ci_certs_der = {pki.ci.der};
  ec.state_path = (tmp / "euicc.json").string();
  rsp::sim::Euicc euicc(ec);
  asn1_seed("Certificate", pki.euicc.der);
  // The GSMA SGP.26 certificates (other issuers, extensions and curves).
  for (const char* f : {"CertificateIssuer/CERT_CI_ECDSA_NIST.der", "EUM/CERT_EUM_ECDSA_BRP.der",
                        "eUICC/CERT_EUICC_ECDSA_NIST.der", "DPtls/CERT_S_SM_DP_VARO_TLS_NIST.der"}) {
    std::string name = fs::path(f).stem().string();
    asn1_seed("Certificate", read_all(testdata / "sgp26" / f), name);
  }

  Bytes upp = rsp::smdp::with_header_iccid(read_all(testdata / "ts48" / "TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der"),
                                           "8949449999999990007");
  rsp::smdp::Profile p;
  p.iccid = rsp::smdp::inspect_upp(upp).iccid;
  p.matching_id = "SEED-1";
  p.state = rsp::smdp::ProfileState::Released;
  p.service_provider_name = "Seed SP";
  p.profile_name = "Seed Profile";
  smdp.profiles().stage(p, upp);
  // The first profile elements of a real package, for ProfileElement.
  std::size_t used = 0;
  rsp::asn1::free_struct(asn_DEF_ProfileElement, rsp::asn1::decode_prefix_raw(asn_DEF_ProfileElement, upp, used));
  asn1_seed("ProfileElement", Bytes(upp.begin(), upp.begin() + static_cast<long>(used)));

  const char* es9_functions[] = {"initiateAuthentication", "authenticateClient", "getBoundProfilePackage",
                                 "handleNotification", "cancelSession"};
  rsp::lpa::DownloadOptions opt;
  opt.es9.post = [&](const std::string& url, const rsp::http::Headers& headers, const std::string& body) {
    rsp::http::Request req;
    req.method = "POST";
    req.target = url.substr(url.find("/gsma/"));
    req.headers = headers;
    req.body = body;
    req.tls = true;
    auto res = rsp::smdp::handle_es9plus(smdp.es9plus(), req);
    std::string function = url.substr(url.rfind('/') + 1);
    write("smdp_request", function, function + "\n" + body);
    int k = 0;
    while (k < 5 && function != es9_functions[k]) ++k;
    std::string lpa_in(1, static_cast<char>(0x80 + k));
    lpa_in += static_cast<char>(res.status == 204 ? 0x80 : 0x00);
    write("lpa", "es9-" + function, lpa_in + res.body);
    der_fields(nlohmann::json::parse(body));
    if (!res.body.empty()) der_fields(nlohmann::json::parse(res.body));
    return res;
  };
  Recorder rec(euicc);
  auto r = rsp::lpa::download(rec, rsp::ActivationCode::parse("LPA:1$smdp.example.com:8443$SEED-1"), opt);
  if (!r.installation.success) throw std::runtime_error("seed download failed: " + r.installation.describe());
  es10_seeds(rec.log, "download");

  rec.log.clear();
  {
    rsp::lpa::Es10Client c(rec);
    (void)c.get_euicc_info2();
    (void)c.get_eid();
    (void)c.get_configured_addresses();
    (void)c.get_profiles_info();
    (void)c.list_notifications();
    (void)c.retrieve_notifications();
    (void)c.set_nickname(r.offer.iccid, "seed");
    (void)c.enable_profile(rsp::lpa::ProfileId::from_iccid(r.offer.iccid));
  }
  es10_seeds(rec.log, "reads");

  std::error_code e;
  fs::remove_all(tmp, e);
  std::printf("fuzz_make_seeds: wrote %d files to %s\n", n_written, out_dir.string().c_str());
  return 0;
}
