// The SM-DP+'s own minimal profile template: it decodes with the
// PEDefinitions and re-encodes byte for byte, has the structure the
// interoperable format asks for, and the generator personalizes it. Needs no
// GSMA test material.
#include "rsp/smdp/profile_template.hpp"

#include <gtest/gtest.h>

#include <PINConfiguration.h>
#include <PUKConfiguration.h>
#include <ProfileElement.h>

#include <map>
#include <set>
#include <utility>
#include <string>
#include <vector>

#include "profile_elements.hpp"
#include "rsp/asn1.hpp"
#include "rsp/smdp/batch_import.hpp"
#include "rsp/store.hpp"
#include "rsp/milenage.hpp"
#include "rsp/smdp/profile_generator.hpp"
#include "rsp/smdp/profile_package.hpp"
#include "rsp/tlv.hpp"
#include "../common/pg_cluster.hpp"

using namespace rsp;
using namespace rsp::smdp;

namespace {

using test_support::Element;
using test_support::decode_pe;
using test_support::elements;

asn1::Value<ProfileElement_t> find_pe(ByteView upp, ProfileElement_PR kind, int nth = 0) {
  for (const auto& e : elements(upp))
    if (e.kind == kind && nth-- == 0) return decode_pe(e.raw);
  return {};
}

using NamedFiles = std::vector<std::pair<const File_t*, const char*>>;

Bytes content(const File_t& f) {
  Bytes out;
  for (int i = 0; i < f.list.count; ++i)
    if (f.list.array[i]->present == File__Member_PR_fillFileContent) append(out, asn1::view(f.list.array[i]->choice.fillFileContent));
  return out;
}

const Fcp_t* fcp(const File_t& f) {
  for (int i = 0; i < f.list.count; ++i)
    if (f.list.array[i]->present == File__Member_PR_fileDescriptor) return &f.list.array[i]->choice.fileDescriptor;
  return nullptr;
}

// Number of records of a linear fixed file, from its FCP (record length in
// the file descriptor, efFileSize) and checked against its content.
std::size_t records(const File_t& f) {
  const Fcp_t* p = fcp(f);
  if (!p || !p->fileDescriptor || !p->efFileSize || p->fileDescriptor->size != 4) {
    ADD_FAILURE() << "no linear fixed FCP";
    return 0;
  }
  Bytes d = asn1::to_bytes(*p->fileDescriptor);
  std::size_t rec_len = static_cast<std::size_t>(d[2] << 8 | d[3]), size = 0;
  for (auto b : asn1::view(*p->efFileSize)) size = size << 8 | b;
  EXPECT_EQ(d[0], 0x42);  // shareable, linear fixed
  EXPECT_EQ(size % rec_len, 0u);
  EXPECT_EQ(content(f).size(), size);
  return size / rec_len;
}

// Interoperable format: a file's fileDescriptor, when present, is its only
// one and comes first.
void expect_well_formed(const File_t& f, const char* name) {
  int fcps = 0;
  for (int i = 0; i < f.list.count; ++i) {
    if (f.list.array[i]->present != File__Member_PR_fileDescriptor) continue;
    ++fcps;
    EXPECT_EQ(i, 0) << name << ": fileDescriptor not first";
  }
  EXPECT_LE(fcps, 1) << name;
}

SubscriberValues subscriber() {
  SubscriberValues v;
  v.iccid = luhn_complete("894410000000012345");
  v.imsi = "001019990001234";
  v.ki = from_hex("000102030405060708090a0b0c0d0e0f");
  v.opc = from_hex("cd63cb71954a9f4e48a5994e37a02baf");
  return v;
}

}  // namespace

TEST(MinimalTemplate, RoundTripsByteForByte) {
  Bytes t = minimal_profile_template();
  auto es = elements(t);
  ASSERT_EQ(es.size(), 9u);
  Bytes again;
  for (const auto& e : es) {
    Bytes re = decode_pe(e.raw).encode_der();
    EXPECT_EQ(to_hex(re), to_hex(e.raw)) << "PE kind " << e.kind;
    append(again, re);
  }
  EXPECT_EQ(again, t);
  EXPECT_EQ(minimal_profile_template(), t);  // deterministic
  auto s = inspect_upp(t);
  EXPECT_EQ(s.iccid, kMinimalTemplateIccid);
  EXPECT_EQ(s.elements, 9u);
  EXPECT_TRUE(luhn_valid(kMinimalTemplateIccid));
}

TEST(MinimalTemplate, Structure) {
  Bytes t = minimal_profile_template();
  auto es = elements(t);
  std::vector<ProfileElement_PR> kinds;
  for (const auto& e : es) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<ProfileElement_PR>{ProfileElement_PR_header, ProfileElement_PR_mf,
                                                   ProfileElement_PR_pukCodes, ProfileElement_PR_pinCodes,
                                                   ProfileElement_PR_usim, ProfileElement_PR_opt_usim,
                                                   ProfileElement_PR_pinCodes, ProfileElement_PR_akaParameter,
                                                   ProfileElement_PR_end}));

  // Header: version 2.3, usim + milenage only, the template OIDs of the file-system PEs.
  auto h = find_pe(t, ProfileElement_PR_header);
  const ProfileHeader_t& hd = h->choice.header;
  EXPECT_EQ(hd.major_version, 2);
  EXPECT_EQ(hd.minor_version, 3);
  ASSERT_NE(hd.profileType, nullptr);
  EXPECT_EQ(asn1::to_string(*hd.profileType), kMinimalTemplateProfileType);
  EXPECT_EQ(to_hex(asn1::view(hd.iccid), true), std::string(kMinimalTemplateIccid) + "F");
  const ServicesList_t& sv = hd.eUICC_Mandatory_services;
  EXPECT_NE(sv.usim, nullptr);
  EXPECT_NE(sv.milenage, nullptr);
  EXPECT_EQ(sv.isim, nullptr);
  EXPECT_EQ(sv.tuak128, nullptr);
  EXPECT_EQ(sv.usim_test_algorithm, nullptr);
  EXPECT_EQ(sv.javacard, nullptr);
  std::set<std::string> gfste;
  for (int i = 0; i < hd.eUICC_Mandatory_GFSTEList.list.count; ++i)
    gfste.insert(asn1::oid_to_string(*hd.eUICC_Mandatory_GFSTEList.list.array[i]));
  EXPECT_EQ(gfste, (std::set<std::string>{"2.23.143.1.2.1", "2.23.143.1.2.4", "2.23.143.1.2.5"}));

  // PE identification numbers are unique; every PE is mandated.
  std::set<long> ids;
  auto mf = find_pe(t, ProfileElement_PR_mf);
  auto usim = find_pe(t, ProfileElement_PR_usim);
  auto opt = find_pe(t, ProfileElement_PR_opt_usim);
  auto puk = find_pe(t, ProfileElement_PR_pukCodes);
  auto pin_mf = find_pe(t, ProfileElement_PR_pinCodes, 0);
  auto pin_usim = find_pe(t, ProfileElement_PR_pinCodes, 1);
  auto aka = find_pe(t, ProfileElement_PR_akaParameter);
  auto end = find_pe(t, ProfileElement_PR_end);
  for (const PEHeader_t* ph : {&mf->choice.mf.mf_header, &usim->choice.usim.usim_header,
                               &opt->choice.opt_usim.optusim_header, &puk->choice.pukCodes.puk_Header,
                               &pin_mf->choice.pinCodes.pin_Header, &pin_usim->choice.pinCodes.pin_Header,
                               &aka->choice.akaParameter.aka_header, &end->choice.end.end_header}) {
    EXPECT_NE(ph->mandated, nullptr);
    ids.insert(ph->identification);
  }
  EXPECT_EQ(ids.size(), 8u);
  // Each file-system PE names a template listed in the header.
  for (const OBJECT_IDENTIFIER_t* oid : {&mf->choice.mf.templateID, &usim->choice.usim.templateID,
                                         &opt->choice.opt_usim.templateID})
    EXPECT_TRUE(gfste.count(asn1::oid_to_string(*oid))) << asn1::oid_to_string(*oid);

  // MF: the MF (PIN1 + ADM1 in its PIN status template), EF ICCID, EF DIR
  // naming the USIM, EF ARR.
  const PE_MF_t& m = mf->choice.mf;
  for (auto [f, name] : NamedFiles{{&m.mf, "mf"}, {m.ef_pl, "ef-pl"}, {&m.ef_iccid, "ef-iccid"},
                                   {&m.ef_dir, "ef-dir"}, {&m.ef_arr, "ef-arr"}}) {
    ASSERT_NE(f, nullptr) << name;
    expect_well_formed(*f, name);
  }
  ASSERT_NE(fcp(m.mf), nullptr);
  ASSERT_NE(fcp(m.mf)->pinStatusTemplateDO, nullptr);
  EXPECT_EQ(asn1::to_bytes(*fcp(m.mf)->pinStatusTemplateDO), from_hex("010A"));
  EXPECT_EQ(content(m.ef_iccid), from_hex("980000000000000000F3"));  // swapped nibbles
  Bytes usim_aid = from_hex(std::string(kMinimalTemplateUsimAid));
  Bytes dir = content(m.ef_dir);
  ASSERT_EQ(dir.size(), 32u);  // one record
  auto app = tlv::parse_one(dir);
  ASSERT_EQ(app.tag, 0x61u);
  auto aid = tlv::find(app.value, 0x4F);
  ASSERT_TRUE(aid);
  EXPECT_EQ(Bytes(aid->value.begin(), aid->value.end()), usim_aid);
  const Fcp_t* dir_fcp = fcp(m.ef_dir);
  ASSERT_NE(dir_fcp, nullptr);
  ASSERT_NE(dir_fcp->fileDescriptor, nullptr);
  EXPECT_EQ(asn1::to_bytes(*dir_fcp->fileDescriptor), from_hex("42210020"));  // linear fixed, 32-byte records
  ASSERT_NE(dir_fcp->efFileSize, nullptr);
  EXPECT_EQ(asn1::to_bytes(*dir_fcp->efFileSize), from_hex("20"));
  // Every ARR record a file refers to exists.
  std::size_t mf_arr_records = records(m.ef_arr);
  for (const File_t* f : std::initializer_list<const File_t*>{&m.mf, m.ef_pl, &m.ef_iccid, &m.ef_dir, &m.ef_arr}) {
    ASSERT_NE(fcp(*f), nullptr);
    ASSERT_NE(fcp(*f)->securityAttributesReferenced, nullptr);
    Bytes ref = asn1::to_bytes(*fcp(*f)->securityAttributesReferenced);
    ASSERT_EQ(ref.size(), 1u);
    EXPECT_GE(ref[0], 1);
    EXPECT_LE(static_cast<std::size_t>(ref[0]), mf_arr_records);
  }

  // USIM: ADF with the AID and PIN1, PIN2, ADM1; the files TS 31.102 needs.
  const PE_USIM_t& u = usim->choice.usim;
  const Fcp_t* adf = fcp(u.adf_usim);
  ASSERT_NE(adf, nullptr);
  ASSERT_NE(adf->dfName, nullptr);
  EXPECT_EQ(asn1::to_bytes(*adf->dfName), usim_aid);
  ASSERT_NE(adf->fileID, nullptr);
  ASSERT_NE(adf->pinStatusTemplateDO, nullptr);
  EXPECT_EQ(asn1::to_bytes(*adf->pinStatusTemplateDO), from_hex("01810A"));
  EXPECT_EQ(content(u.ef_imsi), from_hex("080910100000000000"));  // 001010000000000
  ASSERT_NE(u.ef_ad, nullptr);
  EXPECT_EQ(content(*u.ef_ad), from_hex("00000002"));
  Bytes ust = content(u.ef_ust);
  ASSERT_EQ(ust.size(), 14u);
  auto service = [&](unsigned n) { return (ust[(n - 1) / 8] >> ((n - 1) % 8)) & 1; };
  EXPECT_TRUE(service(19));  // SPN
  EXPECT_TRUE(service(33));  // packet switched domain
  EXPECT_TRUE(service(43));  // HPLMNwAcT
  EXPECT_FALSE(service(2));  // no FDN
  EXPECT_FALSE(service(27)); // no GSM access
  EXPECT_EQ(content(u.ef_spn).size(), 17u);
  EXPECT_EQ(content(u.ef_est), from_hex("00"));
  EXPECT_EQ(content(u.ef_acc).size(), 2u);
  std::size_t usim_arr_records = records(u.ef_arr);
  for (auto [f, name] : NamedFiles{{&u.adf_usim, "adf-usim"}, {&u.ef_imsi, "ef-imsi"}, {&u.ef_arr, "ef-arr"},
                                   {&u.ef_ust, "ef-ust"}, {&u.ef_spn, "ef-spn"}, {&u.ef_est, "ef-est"},
                                   {&u.ef_acc, "ef-acc"}, {u.ef_ad, "ef-ad"}, {&u.ef_ecc, "ef-ecc"}}) {
    expect_well_formed(*f, name);
    ASSERT_NE(fcp(*f), nullptr) << name;
    ASSERT_NE(fcp(*f)->securityAttributesReferenced, nullptr) << name;
    Bytes ref = asn1::to_bytes(*fcp(*f)->securityAttributesReferenced);
    ASSERT_EQ(ref.size(), 1u) << name;
    // The ADF refers to the MF's EF ARR, its files to the ADF's own (6F06).
    EXPECT_GE(ref[0], 1) << name;
    EXPECT_LE(static_cast<std::size_t>(ref[0]), f == &u.adf_usim ? mf_arr_records : usim_arr_records) << name;
  }
  ASSERT_NE(opt->choice.opt_usim.ef_hplmnwact, nullptr);
  EXPECT_EQ(content(*opt->choice.opt_usim.ef_hplmnwact), from_hex("FFFFFF0000"));

  // PINs: PIN1 and ADM1 at the MF, PIN2 local to the USIM; each PUK they name exists.
  std::set<long> puks;
  for (int i = 0; i < puk->choice.pukCodes.pukCodes.list.count; ++i)
    puks.insert(static_cast<long>(asn1::to_int64(puk->choice.pukCodes.pukCodes.list.array[i]->keyReference)));
  EXPECT_EQ(puks, (std::set<long>{0x01, 0x81}));
  auto refs = [&](const PE_PINCodes_t& p) {
    std::vector<long> out;
    EXPECT_EQ(p.pinCodes.present, PE_PINCodes__pinCodes_PR_pinconfig);
    for (int i = 0; i < p.pinCodes.choice.pinconfig.list.count; ++i) {
      const PINConfiguration_t* c = p.pinCodes.choice.pinconfig.list.array[i];
      out.push_back(static_cast<long>(asn1::to_int64(c->keyReference)));
      EXPECT_EQ(c->pinValue.size, 8);
      if (c->unblockingPINReference) {
        EXPECT_TRUE(puks.count(static_cast<long>(asn1::to_int64(*c->unblockingPINReference))));
      }
    }
    return out;
  };
  EXPECT_EQ(refs(pin_mf->choice.pinCodes), (std::vector<long>{0x01, 0x0A}));
  EXPECT_EQ(refs(pin_usim->choice.pinCodes), (std::vector<long>{0x81}));

  // AKA: Milenage, 16-byte placeholders, the TS 35.206 constants (DEFAULT, absent).
  const auto& ac = aka->choice.akaParameter.algoConfiguration;
  ASSERT_EQ(ac.present, PE_AKAParameter__algoConfiguration_PR_algoParameter);
  const AlgoParameter_t& ap = ac.choice.algoParameter;
  EXPECT_EQ(asn1::to_int64(ap.algorithmID), AlgoParameter__algorithmID_milenage);
  EXPECT_EQ(asn1::to_bytes(ap.key), Bytes(16, 0));
  EXPECT_EQ(asn1::to_bytes(ap.opc), Bytes(16, 0));
  EXPECT_EQ(ap.rotationConstants, nullptr);
  EXPECT_EQ(ap.xoringConstants, nullptr);
  EXPECT_EQ(ap.numberOfKeccak, nullptr);
  EXPECT_EQ(milenage::Constants::from_profile(asn1::to_bytes(ap.rotationConstants), asn1::to_bytes(ap.xoringConstants)),
            milenage::Constants{});
  EXPECT_EQ(aka->choice.akaParameter.sqnInit, nullptr);
}

TEST(MinimalTemplate, GeneratorPersonalizesIt) {
  SubscriberValues v = subscriber();
  Bytes out = generate_profile(minimal_profile_template(), v);
  EXPECT_EQ(inspect_upp(out).iccid, v.iccid);
  EXPECT_EQ(elements(out).size(), 9u);
  auto mf = find_pe(out, ProfileElement_PR_mf);
  EXPECT_EQ(content(mf->choice.mf.ef_iccid), iccid_to_bcd(v.iccid));
  EXPECT_NE(fcp(mf->choice.mf.ef_iccid), nullptr);  // the FCP is kept
  auto usim = find_pe(out, ProfileElement_PR_usim);
  EXPECT_EQ(to_hex(content(usim->choice.usim.ef_imsi), true), "080910109909002143");  // 001019990001234
  auto aka = find_pe(out, ProfileElement_PR_akaParameter);
  const AlgoParameter_t& ap = aka->choice.akaParameter.algoConfiguration.choice.algoParameter;
  EXPECT_EQ(asn1::to_bytes(ap.key), v.ki);
  EXPECT_EQ(asn1::to_bytes(ap.opc), v.opc);
  // The generated package round-trips too.
  for (const auto& e : elements(out)) EXPECT_EQ(decode_pe(e.raw).encode_der(), e.raw) << "PE kind " << e.kind;
}

// Every optional value the generator knows has a place in the template.
TEST(MinimalTemplate, GeneratorSetsEverythingElse) {
  SubscriberValues v = subscriber();
  v.pin1 = "1234";
  v.puk1 = "87654321";
  v.pin2 = "4321";
  v.puk2 = "11223344";
  v.adm1 = "3838383838383838";
  v.spn = "Visited";
  v.home_plmns = {"00101"};
  Bytes out = generate_profile(minimal_profile_template(), v);
  auto usim = find_pe(out, ProfileElement_PR_usim);
  Bytes spn = content(usim->choice.usim.ef_spn);
  ASSERT_EQ(spn.size(), 17u);
  EXPECT_EQ(to_string(ByteView(spn).subspan(1, 7)), "Visited");
  EXPECT_EQ(content(*usim->choice.usim.ef_ad), from_hex("00000002"));  // MNC length 2 from the home PLMN
  auto opt = find_pe(out, ProfileElement_PR_opt_usim);
  EXPECT_EQ(to_hex(content(*opt->choice.opt_usim.ef_hplmnwact), true), "00F110C080");
  std::map<long, Bytes> pins;
  for (int n = 0; n < 2; ++n) {
    auto p = find_pe(out, ProfileElement_PR_pinCodes, n);
    auto& l = p->choice.pinCodes.pinCodes.choice.pinconfig.list;
    for (int i = 0; i < l.count; ++i) pins[static_cast<long>(asn1::to_int64(l.array[i]->keyReference))] = asn1::to_bytes(l.array[i]->pinValue);
  }
  EXPECT_EQ(pins[0x01], from_hex("31323334FFFFFFFF"));
  EXPECT_EQ(pins[0x81], from_hex("34333231FFFFFFFF"));
  EXPECT_EQ(pins[0x0A], to_bytes("88888888"));
  auto puk = find_pe(out, ProfileElement_PR_pukCodes);
  ASSERT_EQ(puk->choice.pukCodes.pukCodes.list.count, 2);
  EXPECT_EQ(asn1::to_string(puk->choice.pukCodes.pukCodes.list.array[0]->pukValue), "87654321");
  EXPECT_EQ(asn1::to_string(puk->choice.pukCodes.pukCodes.list.array[1]->pukValue), "11223344");

  // One home PLMN fits the template's EF HPLMNwAcT; two do not.
  v.home_plmns = {"00101", "99970"};
  EXPECT_THROW(generate_profile(minimal_profile_template(), v), std::invalid_argument);
}

// As the main job uses a template: a SIM vendor batch imported into the
// store, packages protected with a PPK.
TEST(MinimalTemplate, ServesAsBatchImportTemplate) {
  store::Db db(rsp::test::test_store());
  ProfileStore profiles(db, Bytes(32, 7));
  std::string csv = "iccid,imsi,ki,opc,spn\n";
  for (int i = 0; i < 3; ++i)
    csv += luhn_complete("89330100000000000" + std::to_string(i)) + ",00101000000100" + std::to_string(i) +
           ",000102030405060708090a0b0c0d0e0f,cd63cb71954a9f4e48a5994e37a02baf,Visited\n";
  auto rows = parse_batch_csv(csv);
  ImportOptions opt{"OP-V", "roaming", "Visited Operator", "Roaming", true, {}};
  EXPECT_EQ(import_batch(profiles, minimal_profile_template(), rows, opt), 3u);
  for (const auto& r : rows) {
    auto p = profiles.by_iccid(r.values.iccid);
    ASSERT_TRUE(p) << r.values.iccid;
    EXPECT_EQ(inspect_upp(profiles.upp(p->iccid)).iccid, r.values.iccid);
  }
}
