// Profile package generator: Luhn, personalization of the TS.48 template
// (element by element against the template), installation on the simulated
// eUICC, bad input.
#include "rsp/smdp/profile_generator.hpp"

#include <gtest/gtest.h>

#include <EnableProfileResponse.h>
#include <PINConfiguration.h>
#include <PUKConfiguration.h>
#include <ProfileElement.h>
#include <ProfileInstallationResult.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "../simulators/fake_smdp.hpp"
#include "../simulators/sim_test_util.hpp"
#include "profile_elements.hpp"
#include "rsp/asn1.hpp"
#include "rsp/log.hpp"
#include "rsp/smdp/profile_package.hpp"

using namespace rsp;
using namespace rsp::smdp;

namespace {

const char* kTemplate = "ts48/TS48V2-SAIP2-1-NOBERTLV-UNIQUE.der";

std::optional<Bytes> read_testdata(const std::string& rel) {
  std::ifstream in(std::string(RSP_SHARED_TESTDATA) + "/" + rel, std::ios::binary);
  if (!in) return std::nullopt;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

using test_support::Element;
using test_support::decode_pe;
using test_support::elements;

// Concatenated fillFileContent of a File (the files checked here have one).
Bytes content(const File_t& f) {
  Bytes out;
  for (int i = 0; i < f.list.count; ++i)
    if (f.list.array[i]->present == File__Member_PR_fillFileContent) append(out, asn1::view(f.list.array[i]->choice.fillFileContent));
  return out;
}

SubscriberValues subscriber() {
  SubscriberValues v;
  v.iccid = luhn_complete("898821999900001234");
  v.imsi = "999700000001234";
  v.ki = from_hex("465B5CE8B199B49FAA5F0A2EE238A6BC");
  v.opc = from_hex("CD63CB71954A9F4E48A5994E37A02BAF");
  return v;
}

struct Generator : ::testing::Test {
  void SetUp() override {
    log::set_level(log::Level::Error);
    auto t = read_testdata(kTemplate);
    if (!t) GTEST_SKIP() << "no TS.48 template " << kTemplate << " in " << RSP_SHARED_TESTDATA;
    tmpl = std::move(*t);
  }
  Bytes tmpl;
};

}  // namespace

// --- Luhn ----------------------------------------------------------------------

TEST(Luhn, KnownGood) {
  EXPECT_TRUE(luhn_valid("8949449999999990007"));    // TS.48 test profiles
  EXPECT_TRUE(luhn_valid("89000123456789012341"));   // SGP.22 / SGP.26 examples
  EXPECT_TRUE(luhn_valid("89014103211118510720"));   // often quoted US ICCID
  EXPECT_TRUE(luhn_valid("79927398713"));            // ISO/IEC 7812 textbook example
  EXPECT_EQ(luhn_complete("894944999999999000"), "8949449999999990007");
  EXPECT_EQ(luhn_complete("8900012345678901234"), "89000123456789012341");
  EXPECT_EQ(luhn_complete("7992739871"), "79927398713");
  EXPECT_EQ(luhn_complete("0"), "00");
}

TEST(Luhn, KnownBad) {
  EXPECT_FALSE(luhn_valid("8949449999999990008"));
  EXPECT_FALSE(luhn_valid("8949449999999990070"));   // last two swapped
  EXPECT_FALSE(luhn_valid("89000123456789012342"));
  EXPECT_FALSE(luhn_valid("79927398710"));
  EXPECT_THROW(luhn_valid(""), std::invalid_argument);
  EXPECT_THROW(luhn_valid("8949A"), std::invalid_argument);
  EXPECT_THROW(luhn_complete("12 3"), std::invalid_argument);
}

// --- the template ------------------------------------------------------------------

// Each PE of the template re-encodes to its own bytes (so the PEs the generator
// re-encodes differ only where values were set).
TEST_F(Generator, TemplateRoundTrips) {
  for (const auto& e : elements(tmpl)) EXPECT_EQ(decode_pe(e.raw).encode_der(), e.raw) << "PE kind " << e.kind;
}

// --- personalization ---------------------------------------------------------------

TEST_F(Generator, NewIccidImsiKeys) {
  SubscriberValues v = subscriber();
  Bytes out = generate_profile(tmpl, v);
  EXPECT_EQ(inspect_upp(out).iccid, v.iccid);

  auto before = elements(tmpl);
  auto after = elements(out);
  ASSERT_EQ(before.size(), after.size());
  int aka = 0, changed = 0;
  for (std::size_t i = 0; i < after.size(); ++i) {
    SCOPED_TRACE("PE #" + std::to_string(i));
    ASSERT_EQ(before[i].kind, after[i].kind);
    auto pe = decode_pe(after[i].raw);
    switch (after[i].kind) {
      case ProfileElement_PR_header: {
        auto& h = pe->choice.header;
        EXPECT_EQ(to_hex(asn1::view(h.iccid), true), "898821999900001234" + v.iccid.substr(18) + "F");
        EXPECT_NE(h.eUICC_Mandatory_services.milenage, nullptr);
        EXPECT_EQ(h.eUICC_Mandatory_services.usim_test_algorithm, nullptr);
        EXPECT_NE(h.eUICC_Mandatory_services.usim, nullptr);  // kept
        break;
      }
      case ProfileElement_PR_mf:
        EXPECT_EQ(content(pe->choice.mf.ef_iccid), iccid_to_bcd(v.iccid));
        EXPECT_EQ(to_hex(content(pe->choice.mf.ef_iccid), true), "9888129999000021" "43" "F" + v.iccid.substr(18));
        break;
      case ProfileElement_PR_usim:
        // length 8, '9' (odd, IMSI) with digit 1, then swapped pairs.
        EXPECT_EQ(to_hex(content(pe->choice.usim.ef_imsi), true), "089999070000002143");
        ASSERT_NE(pe->choice.usim.ef_ad, nullptr);
        EXPECT_EQ(content(*pe->choice.usim.ef_ad), from_hex("80000002"));  // untouched (no home PLMN given)
        break;
      case ProfileElement_PR_akaParameter: {
        auto& ac = pe->choice.akaParameter.algoConfiguration;
        ASSERT_EQ(ac.present, PE_AKAParameter__algoConfiguration_PR_algoParameter);
        auto& p = ac.choice.algoParameter;
        EXPECT_EQ(asn1::to_int64(p.algorithmID), 1);  // milenage
        EXPECT_EQ(asn1::to_bytes(p.key), v.ki);
        EXPECT_EQ(asn1::to_bytes(p.opc), v.opc);
        EXPECT_EQ(p.rotationConstants, nullptr);  // 3GPP defaults
        EXPECT_EQ(p.xoringConstants, nullptr);
        ++aka;
        break;
      }
      case ProfileElement_PR_pukCodes: {
        auto& l = pe->choice.pukCodes.pukCodes.list;
        ASSERT_GE(l.count, 1);
        EXPECT_EQ(asn1::to_int64(l.array[0]->keyReference), 1);
        EXPECT_EQ(asn1::to_string(l.array[0]->pukValue), "12345678");  // the default puk1
        break;
      }
      default:
        break;
    }
    if (after[i].raw != before[i].raw) {
      ++changed;
      // Only personalized PEs differ (the PIN PEs keep PIN1 0000 = the default).
      EXPECT_TRUE(after[i].kind == ProfileElement_PR_header || after[i].kind == ProfileElement_PR_mf ||
                  after[i].kind == ProfileElement_PR_usim || after[i].kind == ProfileElement_PR_akaParameter ||
                  after[i].kind == ProfileElement_PR_pukCodes)
          << "PE kind " << after[i].kind << " changed";
    }
  }
  EXPECT_EQ(aka, 2);      // USIM and ISIM
  EXPECT_EQ(changed, 6);  // header, MF, USIM, 2 x AKA, PUK
}

TEST_F(Generator, PinsSpnPlmnsConstants) {
  SubscriberValues v = subscriber();
  v.pin1 = "1234";
  v.puk1 = "87654321";
  v.pin2 = "4321";
  v.puk2 = "11223344";
  v.adm1 = "3838383838383838";  // hex: "88888888"
  v.spn = "Example Mobile";
  v.home_plmns = {"999700", "00101"};  // IMSI starts with 999700: MNC length 3
  v.milenage_r = from_hex("4000204060");  // the default: omitted
  v.milenage_c = Bytes(80, 0x11);
  Bytes out = generate_profile(tmpl, v);
  int pin1 = 0, pin2 = 0, adm1 = 0;
  for (const auto& e : elements(out)) {
    auto pe = decode_pe(e.raw);
    if (e.kind == ProfileElement_PR_pinCodes) {
      auto& l = pe->choice.pinCodes.pinCodes.choice.pinconfig.list;
      for (int i = 0; i < l.count; ++i) {
        auto ref = asn1::to_int64(l.array[i]->keyReference);
        Bytes val = asn1::to_bytes(l.array[i]->pinValue);
        if (ref == 1) {
          EXPECT_EQ(val, from_hex("31323334FFFFFFFF"));
          ++pin1;
        } else if (ref == 0x81) {
          EXPECT_EQ(val, from_hex("34333231FFFFFFFF"));
          ++pin2;
        } else if (ref == 0x0A) {
          EXPECT_EQ(val, to_bytes("88888888"));
          ++adm1;
        } else if (ref == 0x0B) {
          EXPECT_EQ(val, to_bytes("66666666"));  // ADM2 kept
        }
      }
    } else if (e.kind == ProfileElement_PR_pukCodes) {
      auto& l = pe->choice.pukCodes.pukCodes.list;
      ASSERT_EQ(l.count, 2);
      EXPECT_EQ(asn1::to_string(l.array[0]->pukValue), "87654321");
      EXPECT_EQ(asn1::to_string(l.array[1]->pukValue), "11223344");
    } else if (e.kind == ProfileElement_PR_usim) {
      Bytes spn = content(pe->choice.usim.ef_spn);
      ASSERT_EQ(spn.size(), 17u);
      EXPECT_EQ(spn[0], 0x01);
      EXPECT_EQ(to_string(ByteView(spn).subspan(1, 14)), "Example Mobile");
      EXPECT_EQ(spn[15], 0xFF);
      EXPECT_EQ(content(*pe->choice.usim.ef_ad), from_hex("80000003"));
    } else if (e.kind == ProfileElement_PR_opt_usim) {
      Bytes h = content(*pe->choice.opt_usim.ef_hplmnwact);
      ASSERT_EQ(h.size(), 250u);  // efFileSize of the template's FCP
      EXPECT_EQ(to_hex(ByteView(h).first(15), true), "990907C080" "00F110C080" "FFFFFF0000");
    } else if (e.kind == ProfileElement_PR_akaParameter) {
      auto& p = pe->choice.akaParameter.algoConfiguration.choice.algoParameter;
      EXPECT_EQ(p.rotationConstants, nullptr);
      ASSERT_NE(p.xoringConstants, nullptr);
      EXPECT_EQ(asn1::to_bytes(*p.xoringConstants), Bytes(80, 0x11));
    }
  }
  EXPECT_EQ(pin1, 1);
  EXPECT_EQ(pin2, 4);  // one per application PIN PE of the template
  EXPECT_EQ(adm1, 1);
}

// The generated package installs on the simulated eUICC; its files show the
// new ICCID and IMSI.
TEST_F(Generator, InstallsOnSimulatedEuicc) {
  using namespace rsp::sim;
  using namespace rsp::sim::test;
  SubscriberValues v = subscriber();
  Bytes package = generate_profile(tmpl, v);
  Bytes iccid = asn1::to_bytes(decode_pe(elements(package)[0].raw)->choice.header.iccid);

  Euicc card(config_for(pki()));
  auto call = [&](const Bytes& req) {
    std::uint16_t sw = 0;
    Bytes r = es10(card, req, &sw);
    EXPECT_EQ(sw, 0x9000);
    return r;
  };
  select_isdr(card);
  FakeSmdp dp(pki());
  Bytes ch_resp = call(from_hex("BF2E00"));
  auto challenge = tlv::require(tlv::parse_one(ch_resp).value, 0x80);
  dp.take_auth_response(call(dp.authenticate_server(challenge.value)));
  ASSERT_TRUE(dp.take_prepare_response(call(dp.prepare_download())));
  auto segs = dp.bound_profile_package(card.eid(), FakeSmdp::store_metadata(iccid, "Example Mobile", "generated", "notify.example.com"),
                                       package, {});
  Bytes pir;
  for (const auto& s : segs) {
    std::uint16_t sw = 0;
    Bytes r = es10(card, s, &sw);
    ASSERT_EQ(sw, 0x9000);
    if (!r.empty()) pir = r;
  }
  auto r = RSP_ASN1_DECODE(ProfileInstallationResult, pir);
  ASSERT_EQ(r->profileInstallationResultData.finalResult.present, ProfileInstallationResultData__finalResult_PR_successResult);

  Bytes enable = tlv::make(0xBF31, concat(tlv::make(0xA0, tlv::make(0x5A, iccid)), from_hex("8101FF")));
  ASSERT_EQ(asn1::to_int64(RSP_ASN1_DECODE(EnableProfileResponse, call(enable))->enableResult), 0);
  auto profiles = card.profiles();
  ASSERT_EQ(profiles.size(), 1u);
  EXPECT_TRUE(profiles[0].enabled);

  auto ef_iccid = card.read_file({0x2FE2});
  ASSERT_TRUE(ef_iccid);
  EXPECT_EQ(iccid_from_bcd(*ef_iccid), v.iccid);
  auto imsi = card.read_file({0x7FFF, 0x6F07});
  ASSERT_TRUE(imsi);
  EXPECT_EQ(to_hex(*imsi, true), "089999070000002143");
  // And over APDUs: SELECT EF IMSI by path, READ BINARY.
  EXPECT_EQ(tx(card, "00A4080C047FFF6F07").sw, 0x9000);
  EXPECT_EQ(tx(card, "00B0000009").data, *imsi);
}

// --- bad input -------------------------------------------------------------------------

namespace {
std::string message_of(ByteView tmpl, const SubscriberValues& v) {
  try {
    generate_profile(tmpl, v);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no std::invalid_argument)";
}
}  // namespace

TEST_F(Generator, BadSubscriberValues) {
  SubscriberValues v = subscriber();
  v.iccid.back() = static_cast<char>('0' + (v.iccid.back() - '0' + 1) % 10);
  EXPECT_NE(message_of(tmpl, v).find("Luhn"), std::string::npos) << message_of(tmpl, v);

  v = subscriber();
  v.iccid = "898821999900001234";  // no check digit
  EXPECT_NE(message_of(tmpl, v).find("19 or 20"), std::string::npos) << message_of(tmpl, v);

  v = subscriber();
  v.imsi = "99970000000123";  // 14 digits
  EXPECT_NE(message_of(tmpl, v).find("imsi must be 15"), std::string::npos) << message_of(tmpl, v);
  v.imsi = "99970000000123X";
  EXPECT_NE(message_of(tmpl, v).find("imsi must be 15"), std::string::npos);

  v = subscriber();
  v.ki = SecretBytes(Bytes(15, 0x01));
  EXPECT_NE(message_of(tmpl, v).find("ki must be 16 bytes, got 15"), std::string::npos) << message_of(tmpl, v);
  v = subscriber();
  v.opc = SecretBytes(Bytes(32, 0x01));
  EXPECT_NE(message_of(tmpl, v).find("opc must be 16 bytes"), std::string::npos);

  v = subscriber();
  v.pin1 = "123";
  EXPECT_NE(message_of(tmpl, v).find("pin1"), std::string::npos);
  v = subscriber();
  v.puk1 = "1234567";
  EXPECT_NE(message_of(tmpl, v).find("puk1"), std::string::npos);
  v = subscriber();
  v.adm1 = "12345";
  EXPECT_NE(message_of(tmpl, v).find("adm1"), std::string::npos);
  v = subscriber();
  v.spn = "Name with a [bracket]";
  EXPECT_NE(message_of(tmpl, v).find("spn"), std::string::npos);
  v = subscriber();
  v.home_plmns = {"0010"};
  EXPECT_NE(message_of(tmpl, v).find("home PLMN"), std::string::npos);
}

TEST_F(Generator, TemplateWithoutUsim) {
  Bytes no_usim;
  for (const auto& e : elements(tmpl))
    if (e.kind != ProfileElement_PR_usim) append(no_usim, e.raw);
  EXPECT_NE(message_of(no_usim, subscriber()).find("no USIM PE"), std::string::npos) << message_of(no_usim, subscriber());

  Bytes no_aka;
  for (const auto& e : elements(tmpl))
    if (e.kind != ProfileElement_PR_akaParameter) append(no_aka, e.raw);
  EXPECT_NE(message_of(no_aka, subscriber()).find("no AKA parameter PE"), std::string::npos);

  Bytes headless(tmpl.begin() + static_cast<std::ptrdiff_t>(elements(tmpl)[0].raw.size()), tmpl.end());
  EXPECT_NE(message_of(headless, subscriber()).find("ProfileHeader"), std::string::npos);

  Bytes garbage = from_hex("A003800102");
  EXPECT_THROW(generate_profile(garbage, subscriber()), DecodeError);
}

// Every TS.48 test profile serves as a template, and the result re-decodes.
TEST(GeneratorAllTemplates, Ts48) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(RSP_SHARED_TESTDATA) / "ts48";
  if (!fs::exists(dir)) GTEST_SKIP() << "no TS.48 test profiles";
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".der") continue;
    SCOPED_TRACE(e.path().filename().string());
    std::ifstream in(e.path(), std::ios::binary);
    Bytes tmpl((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SubscriberValues v = subscriber();
    v.spn = "Example";
    Bytes out = generate_profile(tmpl, v);
    EXPECT_EQ(inspect_upp(out).iccid, v.iccid);
    EXPECT_EQ(elements(out).size(), elements(tmpl).size());
    ++n;
  }
  EXPECT_GT(n, 0);
}
