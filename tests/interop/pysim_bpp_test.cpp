// A BoundProfilePackage made by a third-party SM-DP+, as published with
// pySim's BSP tests (tests/interop/data/pysim-bpp.json names the commit):
// our module's decoder reads its SGP.22 5.5 structure, and our SCP03t channel
// (the code the eUICC simulator unwraps segments with) verifies and decrypts
// each protected part to the plaintexts pySim asserts.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "corpus.hpp"
#include "rsp/asn1.hpp"
#include "rsp/scp03t.hpp"
#include "rsp/smdp/profile_package.hpp"
#include "rsp/tlv.hpp"

// asn1c-generated types of SGP.22's RSPDefinitions.
#include <BoundProfilePackage.h>
#include <ConfigureISDPRequest.h>
#include <StoreMetadataRequest.h>

namespace rsp::interop {
namespace {

struct PysimBpp : ::testing::Test {
  nlohmann::json v = load_vector("pysim-bpp.json");
  Bytes bpp = from_base64(v.at("bound_profile_package_b64").get<std::string>());

  static scp03t::Channel channel(const nlohmann::json& k) {
    return scp03t::Channel(from_hex(k.at("s_enc").get<std::string>()), from_hex(k.at("s_mac").get<std::string>()),
                           from_hex(k.at("initial_mcv").get<std::string>()));
  }
};

// SGP.22 5.5 BoundProfilePackage: InitialiseSecureChannelRequest (5.5.1),
// firstSequenceOf87, sequenceOf88, sequenceOf86, in that order.
TEST_F(PysimBpp, DecodesAsBoundProfilePackage) {
  auto p = RSP_ASN1_DECODE(BoundProfilePackage, bpp);
  const auto& iscr = p->initialiseSecureChannelRequest;
  EXPECT_EQ(asn1::to_int64(iscr.remoteOpId), 1);  // installBoundProfilePackage
  EXPECT_EQ(to_hex(asn1::to_bytes(iscr.transactionId)), "df9c0ef4041a47ee9bfdcf0ab10770ed");
  EXPECT_EQ(to_hex(asn1::to_bytes(iscr.controlRefTemplate.keyType)), "88");  // AES
  EXPECT_EQ(to_hex(asn1::to_bytes(iscr.controlRefTemplate.keyLen)), "10");   // 128 bits
  EXPECT_EQ(asn1::to_string(iscr.controlRefTemplate.hostId), "mahlzeit");
  EXPECT_EQ(asn1::to_bytes(iscr.smdpOtpk).size(), 65u);  // uncompressed P-256 point
  EXPECT_EQ(asn1::to_bytes(iscr.smdpOtpk)[0], 0x04);
  EXPECT_EQ(asn1::to_bytes(iscr.smdpSign).size(), 64u);
  EXPECT_EQ(p->firstSequenceOf87.list.count, 1);
  EXPECT_EQ(p->sequenceOf88.list.count, 1);
  EXPECT_EQ(p->secondSequenceOf87, nullptr);
  EXPECT_EQ(p->sequenceOf86.list.count, 13);
}

// ConfigureISDP (87, encrypted and MACed with S-ENC/S-MAC), then
// StoreMetadata (88, MAC only, same chain), then the profile package (86)
// under the profile protection keys, as pySim decrypts them. This vector
// nests each protected segment TLV inside the [7]/[8]/[6] OCTET STRING of
// the same tag ('87 1A 87 18 ...'): the BppSegment's content is the segment
// as the SCP03t MAC covers it, so that content is what pySim (and this test)
// unwraps. Our SM-DP+ sends the segment TLVs themselves (docs/interop.md).
TEST_F(PysimBpp, UnwrapsToThePlaintextsPysimAsserts) {
  auto p = RSP_ASN1_DECODE(BoundProfilePackage, bpp);
  auto session = channel(v.at("session_keys"));

  ASSERT_EQ(p->firstSequenceOf87.list.count, 1);
  Bytes configure = session.unwrap(asn1::to_bytes(*p->firstSequenceOf87.list.array[0]));
  EXPECT_EQ(to_hex(configure), v.at("configure_isdp_plain").get<std::string>());
  EXPECT_NO_THROW(RSP_ASN1_DECODE(ConfigureISDPRequest, configure));

  ASSERT_EQ(p->sequenceOf88.list.count, 1);
  Bytes metadata = session.unwrap(asn1::to_bytes(*p->sequenceOf88.list.array[0]), /*encrypted=*/false);
  EXPECT_EQ(to_hex(metadata), v.at("store_metadata_plain").get<std::string>());
  auto smd = RSP_ASN1_DECODE(StoreMetadataRequest, metadata);
  EXPECT_EQ(to_hex(asn1::to_bytes(smd->iccid)), "89000123456789012341");
  EXPECT_EQ(asn1::to_string(smd->serviceProviderName), "OsmocomSPN");
  EXPECT_EQ(asn1::to_string(smd->profileName), "OsmocomProfile");

  auto ppk = channel(v.at("ppk"));
  Bytes upp;
  for (int i = 0; i < p->sequenceOf86.list.count; ++i)
    append(upp, ppk.unwrap(asn1::to_bytes(*p->sequenceOf86.list.array[i])));
  EXPECT_EQ(upp, from_base64(v.at("profile_package_b64").get<std::string>()));
  // The package itself is SIMalliance/TCA PEDefinitions our SM-DP+ stages.
  auto summary = smdp::inspect_upp(upp);
  EXPECT_EQ(summary.iccid, "89000123456789012341");
  EXPECT_GT(summary.elements, 10u);
}

// A MAC that does not verify under the session keys is refused: the vector
// is not accepted for any key.
TEST_F(PysimBpp, WrongKeysAreRefused) {
  auto p = RSP_ASN1_DECODE(BoundProfilePackage, bpp);
  auto wrong = channel(v.at("ppk"));
  EXPECT_THROW(wrong.unwrap(asn1::to_bytes(*p->firstSequenceOf87.list.array[0])), scp03t::MacError);
}

}  // namespace
}  // namespace rsp::interop
