// The ES10 commands our eUICC simulator accepts that lpac does not send
// (GetRAT, LoadCRL), as DER assembled by hand here from the SGP.22 v2.2.2
// module text (RSPDefinitions, 5.7.21 / 5.7.19), not by our asn1c encoder,
// fed to the simulator's APDU entry point.
#include <gtest/gtest.h>

#include "../simulators/sim_test_util.hpp"
#include "corpus.hpp"
#include "es10_commands.hpp"

namespace rsp::interop {
namespace {

using sim::test::es10;

struct HandDer : ::testing::Test {
  std::unique_ptr<sim::Euicc> card = std::make_unique<sim::Euicc>(sim::test::config_for(sim::test::pki()));
  void SetUp() override { sim::test::select_isdr(*card); }

  Bytes send(const Bytes& command, std::uint16_t& sw) { return es10(*card, command, &sw); }
};

// GetRatRequest ::= [67] SEQUENCE { } -- Tag 'BF43'
// GetRatResponse ::= [67] SEQUENCE { rat RulesAuthorisationTable }
// RulesAuthorisationTable ::= SEQUENCE OF ProfilePolicyAuthorisationRule
// (RSPDefinitions has AUTOMATIC TAGS: rat is [0], constructed, 'A0')
TEST_F(HandDer, GetRatAnswersTheDefaultRat) {
  const Bytes request = from_hex("BF4300");
  EXPECT_NO_THROW(decode_as(asn_DEF_GetRatRequest, request));
  std::uint16_t sw = 0;
  Bytes r = send(request, sw);
  ASSERT_EQ(sw, 0x9000);
  EXPECT_EQ(tlv::parse_one(r).tag, 0xBF43u);
  EXPECT_NO_THROW(decode_as(asn_DEF_GetRatResponse, r));
  // One rule (the simulator's default): its SEQUENCE OF holds one SEQUENCE.
  auto rat = tlv::parse_one(tlv::parse_one(r).value);
  EXPECT_EQ(rat.tag, 0xA0u);
  auto rules = tlv::parse_all(rat.value);
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].tag, 0x30u);
}

// LoadCRLRequest ::= [53] SEQUENCE { crl CertificateList } -- Tag 'BF35'
// (AUTOMATIC TAGS: crl is [0] IMPLICIT, so the CertificateList's SEQUENCE
// tag becomes 'A0')
// A CertificateList (RFC 5280 5.1) under an issuer the eUICC does not know,
// with a signature that cannot verify: a well-formed command the eUICC must
// refuse with loadCRLResponseError, not with a status word.
TEST_F(HandDer, LoadCrlOfAnUnknownIssuerIsAnSgp22Error) {
  auto seq = [](const Bytes& v) { return tlv::make(0x30, v); };
  // ecdsa-with-SHA256 1.2.840.10045.4.3.2
  const Bytes alg = seq(from_hex("06082A8648CE3D040302"));
  // Name: CN=Hand CI (2.5.4.3 UTF8String)
  const Bytes issuer = seq(tlv::make(0x31, seq(concat(from_hex("0603550403"), tlv::make(0x0C, to_bytes("Hand CI"))))));
  const Bytes this_update = tlv::make(0x17, to_bytes("261201000000Z"));
  const Bytes next_update = tlv::make(0x17, to_bytes("270101000000Z"));
  // crlExtensions [0] { cRLNumber 2.5.29.20 INTEGER 1 }
  const Bytes crl_number = seq(concat(from_hex("0603551D14"), tlv::make(0x04, from_hex("020101"))));
  const Bytes extensions = tlv::make(0xA0, seq(crl_number));
  const Bytes tbs = seq(concat(from_hex("020101"), alg, issuer, this_update, next_update, extensions));
  // ECDSA-Sig-Value SEQUENCE { r INTEGER 1, s INTEGER 1 } in a BIT STRING.
  const Bytes signature = tlv::make(0x03, concat(Bytes{0x00}, seq(from_hex("020101020101"))));
  const Bytes request = tlv::make(0xBF35, tlv::make(0xA0, concat(tbs, alg, signature)));
  EXPECT_NO_THROW(decode_as(asn_DEF_LoadCRLRequest, request));

  std::uint16_t sw = 0;
  Bytes r = send(request, sw);
  ASSERT_EQ(sw, 0x9000) << "a well-formed LoadCRL is answered with LoadCRLResponse, not a status word";
  EXPECT_EQ(tlv::parse_one(r).tag, 0xBF35u);
  EXPECT_NO_THROW(decode_as(asn_DEF_LoadCRLResponse, r));
  // LoadCRLResponse ::= CHOICE { loadCRLResponseOk [0], loadCRLResponseError [1] }
  auto choice = tlv::parse_one(tlv::parse_one(r).value);
  EXPECT_EQ(choice.tag, 0x81u) << "loadCRLResponseError INTEGER";
}

// A STORE DATA whose content is not an ES10 command SGP.22 defines is
// refused with 6A80: the same entry point that accepts the corpus.
TEST_F(HandDer, AnUnknownCommandTagIs6A80) {
  std::uint16_t sw = 0;
  send(from_hex("BF7F00"), sw);
  EXPECT_EQ(sw, 0x6A80);
}

}  // namespace
}  // namespace rsp::interop
