// USIM AUTHENTICATE (TS 31.102 7.1.2) through the eUICC's UICC command hook:
// a TS.48 test profile is downloaded, enabled, its ADF USIM selected, and
// AUTHENTICATE answered with the K / OPc of the profile's PE-AKAParameter
// (read here from the package with rsp_asn1, computed with rsp::milenage).
#include <EnableProfileResponse.h>
#include <PE-AKAParameter.h>
#include <ProfileElement.h>
#include <ProfileHeader.h>
#include <ProfileInstallationResult.h>

#include <fstream>
#include <iterator>

#include "fake_smdp.hpp"
#include "rsp/log.hpp"
#include "rsp/milenage.hpp"
#include "rsp/sim/usim_authenticate.hpp"
#include "sim_test_util.hpp"

using namespace rsp;
using namespace rsp::sim;
using namespace rsp::sim::test;

namespace {

std::optional<Bytes> read_testdata(const std::string& rel) {
  std::ifstream in(std::string(RSP_SHARED_TESTDATA) + "/" + rel, std::ios::binary);
  if (!in) return std::nullopt;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The profile package's own view of its AKA parameters, independent of the
// simulator: the first PE-AKAParameter with an algoParameter.
struct PackageAka {
  Bytes iccid;  // ProfileHeader iccid octets
  long algorithm = 0;  // AlgoParameter algorithmID
  Bytes k, opc;
  milenage::Constants constants;
};

std::optional<PackageAka> package_aka(ByteView package) {
  PackageAka out;
  bool found = false;
  asn1::decode_each<ProfileElement_t>(asn_DEF_ProfileElement, package, [&](asn1::Value<ProfileElement_t>&& pe, ByteView) {
    if (pe->present == ProfileElement_PR_header) out.iccid = asn1::to_bytes(pe->choice.header.iccid);
    if (found || pe->present != ProfileElement_PR_akaParameter) return;
    const PE_AKAParameter_t& aka = pe->choice.akaParameter;
    if (aka.algoConfiguration.present != PE_AKAParameter__algoConfiguration_PR_algoParameter) return;
    const AlgoParameter_t& ap = aka.algoConfiguration.choice.algoParameter;
    out.algorithm = static_cast<long>(asn1::to_int64(ap.algorithmID));
    out.k = asn1::to_bytes(ap.key);
    out.opc = asn1::to_bytes(ap.opc);
    out.constants = milenage::Constants::from_profile(asn1::to_bytes(ap.rotationConstants),
                                                      asn1::to_bytes(ap.xoringConstants));
    found = true;
  });
  if (!found) return std::nullopt;
  return out;
}

// The TS.48 test profiles carry algorithmID usim-test-algorithm (3) with
// K = 000102..0F and an all-zero OPc. This re-encodes their PE-AKAParameter
// elements as Milenage (algorithmID 1) with `opc`, everything else as is.
Bytes as_milenage(ByteView package, ByteView opc) {
  Bytes out;
  asn1::decode_each<ProfileElement_t>(asn_DEF_ProfileElement, package, [&](asn1::Value<ProfileElement_t>&& pe, ByteView raw) {
    if (pe->present == ProfileElement_PR_akaParameter &&
        pe->choice.akaParameter.algoConfiguration.present == PE_AKAParameter__algoConfiguration_PR_algoParameter) {
      AlgoParameter_t& ap = pe->choice.akaParameter.algoConfiguration.choice.algoParameter;
      asn1::set_int64(ap.algorithmID, AlgoParameter__algorithmID_milenage);
      asn1::set(ap.opc, opc);
      append(out, pe.encode_der());
    } else {
      append(out, raw);
    }
  });
  return out;
}

const Bytes kOpc = from_hex("cd63cb71954a9f4e48a5994e37a02baf");  // any 16 bytes (TS 35.208 Test Set 1's OPc)

struct UsimAuth : ::testing::Test {
  void SetUp() override { log::set_level(log::Level::Error); }
  std::unique_ptr<Euicc> card = std::make_unique<Euicc>(config_for(pki()));

  Bytes call(const Bytes& req) {
    std::uint16_t sw = 0;
    Bytes r = es10(*card, req, &sw);
    EXPECT_EQ(sw, 0x9000);
    return r;
  }

  // Downloads and enables `package`; returns false (with a test failure) if not.
  bool install_and_enable(ByteView package, const Bytes& iccid) {
    select_isdr(*card);
    FakeSmdp dp(pki());
    Bytes ch_resp = call(from_hex("BF2E00"));
    auto challenge = tlv::require(tlv::parse_one(ch_resp).value, 0x80);
    dp.take_auth_response(call(dp.authenticate_server(challenge.value)));
    EXPECT_TRUE(dp.take_prepare_response(call(dp.prepare_download())));
    auto segs = dp.bound_profile_package(card->eid(), FakeSmdp::store_metadata(iccid, "RSP Test Operator", "TS.48 test",
                                                                               "notify.example.com"),
                                         package, FakeSmdp::BppOptions{});
    Bytes pir;
    for (const auto& seg : segs) {
      std::uint16_t sw = 0;
      Bytes r = es10(*card, seg, &sw);
      if (sw != 0x9000) {
        ADD_FAILURE() << "segment answered " << std::hex << sw;
        return false;
      }
      if (!r.empty()) pir = r;
    }
    auto res = RSP_ASN1_DECODE(ProfileInstallationResult, pir);
    if (res->profileInstallationResultData.finalResult.present !=
        ProfileInstallationResultData__finalResult_PR_successResult) {
      ADD_FAILURE() << "install failed";
      return false;
    }
    Bytes enable = tlv::make(0xBF31, concat(tlv::make(0xA0, tlv::make(0x5A, iccid)), from_hex("8101FF")));
    auto er = RSP_ASN1_DECODE(EnableProfileResponse, call(enable));
    if (asn1::to_int64(er->enableResult) != 0) {
      ADD_FAILURE() << "enable failed";
      return false;
    }
    return true;
  }

  apdu::Response select_usim(std::uint8_t cla = 0x00) {
    auto profiles = card->profiles();
    EXPECT_EQ(profiles.size(), 1u);
    if (profiles.empty()) return {};
    apdu::Command sel{cla, 0xA4, 0x04, 0x04, profiles[0].usim_aid, 256};
    return apdu::Response::parse(card->transmit(sel.encode()));
  }

  apdu::Response authenticate(ByteView rand, ByteView autn, std::uint8_t cla = 0x00, std::uint8_t p2 = 0x81) {
    Bytes data;
    data.push_back(static_cast<std::uint8_t>(rand.size()));
    append(data, rand);
    if (!autn.empty()) {
      data.push_back(static_cast<std::uint8_t>(autn.size()));
      append(data, autn);
    }
    apdu::Command c{cla, 0x88, 0x00, p2, data, 256};
    return apdu::Response::parse(card->transmit(c.encode()));
  }
};

// 'DB' L RES L CK L IK [L Kc], TS 31.102 7.1.2.1.
struct Success {
  Bytes res, ck, ik, kc;
};
std::optional<Success> parse_success(ByteView d) {
  if (d.empty() || d[0] != 0xDB) return std::nullopt;
  d = d.subspan(1);
  std::vector<Bytes> parts;
  while (!d.empty()) {
    std::size_t n = d[0];
    if (n + 1 > d.size()) return std::nullopt;
    parts.emplace_back(d.begin() + 1, d.begin() + 1 + static_cast<std::ptrdiff_t>(n));
    d = d.subspan(n + 1);
  }
  if (parts.size() < 3 || parts.size() > 4) return std::nullopt;
  Success s{parts[0], parts[1], parts[2], parts.size() == 4 ? parts[3] : Bytes{}};
  return s;
}

TEST_F(UsimAuth, Ts48ProfileMilenage) {
  auto ts48 = read_testdata("ts48/TS48v5_SAIP2.3_NoBERTLV.der");
  if (!ts48) GTEST_SKIP() << "no TS.48 test profiles in " << RSP_SHARED_TESTDATA;
  Bytes package = as_milenage(*ts48, kOpc);
  auto aka = package_aka(package);
  ASSERT_TRUE(aka) << "no PE-AKAParameter with algoParameter in the package";
  ASSERT_EQ(aka->algorithm, AlgoParameter__algorithmID_milenage);
  ASSERT_EQ(aka->k.size(), 16u);
  ASSERT_EQ(aka->opc, kOpc);

  card->set_uicc_command_hook(make_usim_authenticate_hook());
  ASSERT_TRUE(install_and_enable(package, aka->iccid));

  milenage::Milenage m(aka->k, aka->opc, aka->constants);
  const Bytes rand = from_hex("23553cbe9637a89d218ae64dae47bf35");
  const Bytes amf = from_hex("8000");

  // No USIM selected (the ISD-R is): the hook leaves it to the card.
  EXPECT_EQ(authenticate(rand, milenage::make_autn(m, rand, milenage::sqn_from_u64(0x40), amf)).sw, 0x6D00);

  ASSERT_EQ(select_usim().sw, 0x9000);

  // Fresh SQN: 'DB' RES CK IK Kc, equal to Milenage's.
  Bytes sqn1 = milenage::sqn_from_u64(0x40);
  auto r = authenticate(rand, milenage::make_autn(m, rand, sqn1, amf));
  ASSERT_EQ(r.sw, 0x9000);
  auto ok = parse_success(r.data);
  ASSERT_TRUE(ok) << to_hex(r.data);
  milenage::F2345 f = m.f2345(rand);
  EXPECT_EQ(ok->res, Bytes(f.res));
  EXPECT_EQ(ok->ck, Bytes(f.ck));
  EXPECT_EQ(ok->ik, Bytes(f.ik));
  EXPECT_EQ(ok->kc, Bytes(milenage::c3_kc(f.ck, f.ik)));
  EXPECT_EQ(ok->res.size(), 8u);

  // Wrong MAC-A: 9862, no data, and SQNms untouched.
  Bytes bad = milenage::make_autn(m, rand, milenage::sqn_from_u64(0x41), amf);
  bad[15] ^= 0x01;
  r = authenticate(rand, bad);
  EXPECT_EQ(r.sw, 0x9862);
  EXPECT_TRUE(r.data.empty());
  // AUTN made with another key: MAC failure too.
  milenage::Milenage other(Bytes(16, 0x5A), aka->opc);
  EXPECT_EQ(authenticate(rand, milenage::make_autn(other, rand, milenage::sqn_from_u64(0x41), amf)).sw, 0x9862);

  // Replayed SQN (equal) and an older one: 'DC' L AUTS, and the AUTS carries
  // SQNms = the last accepted SQN.
  for (std::uint64_t stale : {0x40ull, 0x20ull}) {
    r = authenticate(rand, milenage::make_autn(m, rand, milenage::sqn_from_u64(stale), amf));
    ASSERT_EQ(r.sw, 0x9000);
    ASSERT_EQ(r.data.size(), 2u + milenage::kAutsLen) << to_hex(r.data);
    EXPECT_EQ(r.data[0], 0xDC);
    EXPECT_EQ(r.data[1], milenage::kAutsLen);
    auto sqn_ms = milenage::verify_auts(m, rand, ByteView(r.data).subspan(2));
    ASSERT_TRUE(sqn_ms) << "AUTS does not verify";
    EXPECT_EQ(*sqn_ms, sqn1);
  }

  // The network resynchronises from SQNms: the next SQN is accepted.
  Bytes sqn2 = milenage::sqn_from_u64(0x41);
  const Bytes rand2 = from_hex("9f7c8d021accf4db213ccff0c7f71a6a");
  r = authenticate(rand2, milenage::make_autn(m, rand2, sqn2, amf));
  ASSERT_EQ(r.sw, 0x9000);
  ok = parse_success(r.data);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->res, Bytes(m.f2(rand2)));

  // The SQN state is per profile, not per channel: a logical channel with the
  // USIM selected sees SQNms = 0x41.
  auto open = tx(*card, "0070000001");
  ASSERT_EQ(open.sw, 0x9000);
  ASSERT_EQ(open.data.size(), 1u);
  std::uint8_t ch = open.data[0];
  ASSERT_EQ(select_usim(cla_for(0x00, ch)).sw, 0x9000);
  r = authenticate(rand2, milenage::make_autn(m, rand2, sqn2, amf), cla_for(0x00, ch));
  ASSERT_EQ(r.sw, 0x9000);
  EXPECT_EQ(r.data[0], 0xDC);
  r = authenticate(rand2, milenage::make_autn(m, rand2, milenage::sqn_from_u64(0x1000), amf), cla_for(0x00, ch));
  ASSERT_EQ(r.sw, 0x9000);
  EXPECT_EQ(r.data[0], 0xDB);

  // GSM security context (P2 80): L SRES L Kc by c2 / c3.
  r = authenticate(rand, {}, 0x00, 0x80);
  ASSERT_EQ(r.sw, 0x9000);
  EXPECT_EQ(r.data, concat(Bytes{0x04}, milenage::c2_sres(f.res), Bytes{0x08}, milenage::c3_kc(f.ck, f.ik)));

  // Parameter / data errors.
  EXPECT_EQ(authenticate(rand, milenage::make_autn(m, rand, sqn2, amf), 0x00, 0x82).sw, 0x6A86);
  EXPECT_EQ(tx(*card, "0088018122" "10" + std::string(32, '0') + "10" + std::string(32, '0')).sw, 0x6A86);  // P1 01
  EXPECT_EQ(authenticate(Bytes(15, 1), milenage::make_autn(m, rand, sqn2, amf)).sw, 0x6A80);  // RAND of 15
  EXPECT_EQ(authenticate(rand, Bytes(10, 1)).sw, 0x6A80);                                     // short AUTN

  // Back on the MF (no ADF selected): not ours any more.
  ASSERT_EQ(tx(*card, "00A40004023F0000").sw, 0x9000);
  EXPECT_EQ(authenticate(rand, milenage::make_autn(m, rand, milenage::sqn_from_u64(0x2000), amf)).sw, 0x6D00);
}

// The TS.48 profile as published uses the USIM test algorithm (TS 34.108
// 8.1.2); the hook leaves it to the card core, which answers it. Expected
// values are computed here from TS 34.108's definition: XDOUT = K xor RAND,
// RES = XDOUT[0..7], CK = XDOUT rotated left 8 bits, IK rotated 16 bits,
// AK = XDOUT[3..8], MAC = XDOUT[0..7] xor (SQN || AMF).
TEST_F(UsimAuth, Ts48TestAlgorithm) {
  auto package = read_testdata("ts48/TS48v5_SAIP2.3_NoBERTLV.der");
  if (!package) GTEST_SKIP() << "no TS.48 test profiles in " << RSP_SHARED_TESTDATA;
  auto aka = package_aka(*package);
  ASSERT_TRUE(aka);
  EXPECT_EQ(aka->algorithm, AlgoParameter__algorithmID_usim_test_algorithm);
  ASSERT_EQ(aka->k.size(), 16u);
  card->set_uicc_command_hook(make_usim_authenticate_hook());
  ASSERT_TRUE(install_and_enable(*package, aka->iccid));
  ASSERT_EQ(select_usim().sw, 0x9000);

  auto xor_autn = [&](const Bytes& rand, const Bytes& sqn, const Bytes& amf) {
    Bytes x(16);
    for (int i = 0; i < 16; ++i) x[i] = aka->k[i] ^ rand[i];
    Bytes autn;
    for (int i = 0; i < 6; ++i) autn.push_back(sqn[i] ^ x[3 + i]);
    append(autn, amf);
    Bytes cd = concat(sqn, amf);
    for (int i = 0; i < 8; ++i) autn.push_back(x[i] ^ cd[i]);
    return std::make_pair(x, autn);
  };
  const Bytes sqn = from_hex("000000000021"), amf = from_hex("8000");

  // A vector checked by eye: RAND = K gives XDOUT = 0, so RES, CK, IK and AK
  // are all zero and AUTN = SQN || AMF || (SQN || AMF).
  Bytes autn0 = concat(sqn, amf, sqn, amf);
  auto r = authenticate(aka->k, autn0);
  ASSERT_EQ(r.sw, 0x9000) << std::hex << r.sw;
  auto ok = parse_success(r.data);
  ASSERT_TRUE(ok) << to_hex(r.data);
  EXPECT_EQ(ok->res, Bytes(8, 0));
  EXPECT_EQ(ok->ck, Bytes(16, 0));
  EXPECT_EQ(ok->ik, Bytes(16, 0));

  const Bytes rand = from_hex("23553cbe9637a89d218ae64dae47bf35");
  const Bytes sqn2 = from_hex("000000000022");  // fresh: above the 0x21 just accepted
  auto [x, autn] = xor_autn(rand, sqn2, amf);
  r = authenticate(rand, autn);
  ASSERT_EQ(r.sw, 0x9000);
  ok = parse_success(r.data);
  ASSERT_TRUE(ok) << to_hex(r.data);
  EXPECT_EQ(ok->res, Bytes(x.begin(), x.begin() + 8));
  EXPECT_EQ(ok->ck, concat(Bytes(x.begin() + 1, x.end()), Bytes{x[0]}));
  EXPECT_EQ(ok->ik, concat(Bytes(x.begin() + 2, x.end()), Bytes(x.begin(), x.begin() + 2)));
  EXPECT_EQ(ok->kc, Bytes(milenage::c3_kc(ok->ck, ok->ik)));

  // A wrong MAC: 9862.
  autn[15] ^= 0x01;
  EXPECT_EQ(authenticate(rand, autn).sw, 0x9862);
  // GSM context: SRES = c2(RES), Kc = c3(CK, IK).
  r = authenticate(rand, {}, 0x00, 0x80);
  ASSERT_EQ(r.sw, 0x9000);
  EXPECT_EQ(r.data, concat(Bytes{0x04}, milenage::c2_sres(Bytes(x.begin(), x.begin() + 8)), Bytes{0x08},
                           milenage::c3_kc(ok->ck, ok->ik)));
  // SQN freshness (TS 34.108 8.1.2 gives the test algorithm f1* and f5*,
  // TS 33.102 6.3.3/6.3.5): the same AUTN again (SQN 0x22 = SQNms) is a
  // synchronisation failure, 'DC' 0E AUTS with AUTS = SQNms xor AK ||
  // MAC-S, MAC-S = XDOUT[0..63] xor (SQNms || 0000). Worked by hand for RAND
  // = K xor 3434...34 (XDOUT = 34 x16): AK = 34x6, SQNms xor AK =
  // 34 34 34 34 34 16; MAC-S = 34 34 34 34 34 16 34 34.
  autn[15] ^= 0x01;  // the correct MAC again
  r = authenticate(rand, autn);
  ASSERT_EQ(r.sw, 0x9000);
  ASSERT_FALSE(r.data.empty());
  EXPECT_EQ(r.data[0], 0xDC) << to_hex(r.data);
  Bytes rand34(16);
  for (int i = 0; i < 16; ++i) rand34[i] = aka->k[i] ^ 0x34;
  auto [x34, autn_stale] = xor_autn(rand34, from_hex("000000000010"), amf);  // older than 0x22
  EXPECT_EQ(x34, Bytes(16, 0x34));
  r = authenticate(rand34, autn_stale);
  ASSERT_EQ(r.sw, 0x9000);
  EXPECT_EQ(to_hex(r.data), "dc0e" "343434343416" "3434343434163434");
  // A fresh SQN (0x23) goes through, and the card moves on to it.
  auto [x23, autn23] = xor_autn(rand34, from_hex("000000000023"), amf);
  r = authenticate(rand34, autn23);
  ASSERT_EQ(r.sw, 0x9000);
  ASSERT_FALSE(r.data.empty());
  EXPECT_EQ(r.data[0], 0xDB);
  EXPECT_EQ(authenticate(rand34, autn23).data.at(0), 0xDC);
  // Outside the USIM (the MF is the current DF): not an application command.
  ASSERT_EQ(tx(*card, "00A40004023F0000").sw, 0x9000);
  EXPECT_EQ(authenticate(rand, autn).sw, 0x6D00);
}

// The parameters the hook reads from the stored PE agree with the package.
TEST(UsimMilenageParams, FromProfileElementAndBareSequence) {
  auto ts48 = read_testdata("ts48/TS48v5_SAIP2.3_NoBERTLV.der");
  if (!ts48) GTEST_SKIP() << "no TS.48 test profiles in " << RSP_SHARED_TESTDATA;
  // As published (usim-test-algorithm): not Milenage.
  asn1::decode_each<ProfileElement_t>(asn_DEF_ProfileElement, *ts48, [&](asn1::Value<ProfileElement_t>&& pe, ByteView raw) {
    if (pe->present == ProfileElement_PR_akaParameter) {
      EXPECT_FALSE(usim_milenage_params(raw));
    }
  });
  Bytes package = as_milenage(*ts48, kOpc);
  auto aka = package_aka(package);
  ASSERT_TRUE(aka);
  std::optional<UsimMilenageParams> from_pe, from_seq;
  asn1::decode_each<ProfileElement_t>(asn_DEF_ProfileElement, package, [&](asn1::Value<ProfileElement_t>&& pe, ByteView raw) {
    if (from_pe || pe->present != ProfileElement_PR_akaParameter) return;
    from_pe = usim_milenage_params(raw);
    from_seq = usim_milenage_params(RSP_ASN1_ENCODE(PE_AKAParameter, &pe->choice.akaParameter));
  });
  ASSERT_TRUE(from_pe && from_seq);
  EXPECT_EQ(Bytes(from_pe->k), aka->k);
  EXPECT_EQ(Bytes(from_pe->opc), aka->opc);
  EXPECT_EQ(from_pe->constants, aka->constants);
  EXPECT_EQ(Bytes(from_seq->k), aka->k);
  EXPECT_EQ(Bytes(from_seq->opc), aka->opc);
  EXPECT_FALSE(usim_milenage_params(from_hex("3000")));
  EXPECT_FALSE(usim_milenage_params(from_hex("A400")));
  EXPECT_FALSE(usim_milenage_params({}));
}

// Without a profile: AUTHENTICATE after selecting a USIM AID is impossible
// (nothing to select), and the hook is inert for other commands.
TEST(UsimAuthHook, InertWithoutUsim) {
  auto hook = make_usim_authenticate_hook();
  UiccContext ctx;
  apdu::Command read{0x00, 0xB0, 0x00, 0x00, {}, 9};
  EXPECT_FALSE(hook(read, ctx));
  apdu::Command auth{0x00, 0x88, 0x00, 0x81, Bytes(34, 0x10), 256};
  EXPECT_FALSE(hook(auth, ctx));  // no ADF selected
  ctx.selected_adf_aid = from_hex("A0000000871002FF33FF01890000000100");
  EXPECT_EQ(hook(auth, ctx)->sw, 0x6985);  // USIM but no enabled profile / AKA parameters
  std::vector<Bytes> none;
  ctx.iccid = "8949000000000000001";
  ctx.aka_parameters = &none;
  EXPECT_EQ(hook(auth, ctx)->sw, 0x6985);
  ctx.selected_adf_aid = from_hex("A0000000871004FF");  // ISIM: not handled here
  EXPECT_FALSE(hook(auth, ctx));
}

}  // namespace

// Issue 15: the eUICC on the card core's platform layer (rsp::uicc::Uicc),
// as a device uses a real one (SGP.22 2.2.1 / 5.7.2: the LPA talks to the
// ISD-R on a logical channel while the modem keeps the USIM on the basic
// channel; TS 102 221 11.1.17: each channel its own current DF/EF).
using EuiccPlatform = UsimAuth;

TEST_F(EuiccPlatform, IsdrOnALogicalChannelWhileTheUsimKeepsTheBasicChannel) {
  auto package = read_testdata("ts48/TS48v5_SAIP2.3_NoBERTLV.der");
  if (!package) GTEST_SKIP() << "no TS.48 test profiles in " << RSP_SHARED_TESTDATA;
  auto aka = package_aka(*package);
  ASSERT_TRUE(aka);
  ASSERT_TRUE(install_and_enable(*package, aka->iccid));
  auto imsi = card->read_file({0x7FFF, 0x6F07});
  auto iccid = card->read_file({0x2FE2});
  ASSERT_TRUE(imsi && iccid);

  // The modem: ADF.USIM, then EF.IMSI, on the basic channel.
  ASSERT_EQ(select_usim().sw, 0x9000);
  ASSERT_EQ(tx(*card, "00A4000C026F07").sw, 0x9000);

  // The LPA: a logical channel assigned by the card, the ISD-R there, ES10.
  auto open = tx(*card, "0070000001");
  ASSERT_EQ(open.sw, 0x9000);
  ASSERT_EQ(open.data, Bytes{0x01});
  select_isdr(*card, 1);
  std::uint16_t sw = 0;
  EXPECT_EQ(es10(*card, from_hex("BF3E035C015A"), &sw, 1), concat(from_hex("BF3E125A10"), card->eid()));
  EXPECT_EQ(sw, 0x9000);

  // The basic channel kept its EF: READ BINARY without a file id reads EF.IMSI.
  auto rb = tx(*card, "00B0000009");
  ASSERT_EQ(rb.sw, 0x9000);
  EXPECT_EQ(rb.data, *imsi);
  // The ISD-R's channel is not the file system's, and the basic channel
  // has no ISD-R: STORE DATA there is refused.
  EXPECT_EQ(tx(*card, "01B0000009").sw, 0x6D00);
  EXPECT_EQ(tx(*card, "80E2910006BF3E035C015A00").sw, 0x6985);

  // A third channel at the MF: EF.ICCID by SFI 02 (TS 102 221 13.2) while
  // the other two keep theirs.
  ASSERT_EQ(tx(*card, "0070000002").sw, 0x9000);
  auto by_sfi = tx(*card, "02B082000A");
  ASSERT_EQ(by_sfi.sw, 0x9000);
  EXPECT_EQ(by_sfi.data, *iccid);
  EXPECT_EQ(tx(*card, "00B0000009").data, *imsi);
  es10(*card, from_hex("BF3E035C015A"), &sw, 1);
  EXPECT_EQ(sw, 0x9000);

  // The CAT commands are the platform's (TS 102 221 11.2): TERMINAL PROFILE
  // kept, FETCH with nothing pending '6F 00', TERMINAL RESPONSE to nothing
  // fetched '69 85', an ENVELOPE nobody serves '6A 80'.
  EXPECT_EQ(tx(*card, "8010000003FFFFFF").sw, 0x9000);
  EXPECT_EQ(tx(*card, "8012000010").sw, 0x6F00);
  EXPECT_EQ(tx(*card, "801400000C810301130082028281830100").sw, 0x6985);
  EXPECT_EQ(tx(*card, "80C2000004D3028201").sw, 0x6A80);

  // Closed: the channel answers '68 81'; the basic channel still on EF.IMSI.
  EXPECT_EQ(tx(*card, "0070800100").sw, 0x9000);
  EXPECT_EQ(tx(*card, "81E2910006BF3E035C015A00").sw, 0x6881);
  EXPECT_EQ(tx(*card, "00B0000009").data, *imsi);
}

// Issue 15: what a card keeps across a restart of the eUICC (its state
// file): a PIN's retry counter, a file made by CREATE FILE, the test
// algorithm's SQNms. The card is rebuilt from the state file by a new Euicc.
TEST_F(EuiccPlatform, PinCounterCreatedFileAndSqnSurviveARestart) {
  auto package = read_testdata("ts48/TS48v5_SAIP2.3_NoBERTLV.der");
  if (!package) GTEST_SKIP() << "no TS.48 test profiles in " << RSP_SHARED_TESTDATA;
  auto aka = package_aka(*package);
  ASSERT_TRUE(aka);
  const std::string path = temp_path("restart-state.json");
  card = std::make_unique<Euicc>(config_for(pki(), path));
  ASSERT_TRUE(install_and_enable(*package, aka->iccid));
  // XOR test algorithm AUTN for SQN (TS 34.108 8.1.2, as in Ts48TestAlgorithm).
  const Bytes rand = from_hex("00112233445566778899aabbccddeeff"), amf = from_hex("8000");
  auto autn_for = [&](const Bytes& sqn) {
    Bytes x(16), autn;
    for (int i = 0; i < 16; ++i) x[i] = aka->k[i] ^ rand[i];
    for (int i = 0; i < 6; ++i) autn.push_back(sqn[i] ^ x[3 + i]);
    append(autn, amf);
    Bytes cd = concat(sqn, amf);
    for (int i = 0; i < 8; ++i) autn.push_back(x[i] ^ cd[i]);
    return autn;
  };

  ASSERT_EQ(select_usim().sw, 0x9000);
  // PIN2 (key 81, "9999" in TS.48): one wrong try leaves 2.
  EXPECT_EQ(tx(*card, "002000810839393939FFFFFF00").sw, 0x63C2);
  auto r = authenticate(rand, autn_for(from_hex("000000000040")));
  ASSERT_EQ(r.sw, 0x9000);
  ASSERT_EQ(r.data.at(0), 0xDB);
  // ADM1 (key 0A), then CREATE FILE of a transparent EF 6FF1 of 10 bytes in ADF.USIM.
  ASSERT_EQ(tx(*card, "0020000A083535353535353535").sw, 0x9000);
  auto created = tx(*card, "00E0000016" "6214" "82024121" "83026FF1" "8A0105" "8B036F0601" "8002000A");
  ASSERT_EQ(created.sw, 0x9000);
  auto before = tx(*card, "00A40004026FF100");
  ASSERT_EQ(before.sw, 0x9000);

  card->reset();
  card.reset();
  card = std::make_unique<Euicc>(config_for(pki(), path));
  card->reset();
  ASSERT_EQ(select_usim().sw, 0x9000);
  EXPECT_EQ(tx(*card, "0020008100").sw, 0x63C2);  // the counter, not back at 3
  auto after = tx(*card, "00A40004026FF100");
  ASSERT_EQ(after.sw, 0x9000);
  EXPECT_EQ(after.data, before.data);  // the same FCP: id, size, security attributes
  r = authenticate(rand, autn_for(from_hex("000000000040")));
  ASSERT_EQ(r.sw, 0x9000);
  EXPECT_EQ(r.data.at(0), 0xDC);  // SQNms 0x40 was kept: a replay
  r = authenticate(rand, autn_for(from_hex("000000000041")));
  ASSERT_EQ(r.sw, 0x9000);
  EXPECT_EQ(r.data.at(0), 0xDB);
  std::filesystem::remove(path);
}
