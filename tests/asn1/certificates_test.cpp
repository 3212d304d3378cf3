// Every SGP.26 test certificate decodes as PKIX Certificate and re-encodes
// byte-identically; selected fields read as expected.
#include <gtest/gtest.h>

#include <Certificate.h>
#include <AttributeTypeAndValue.h>
#include <RelativeDistinguishedName.h>
#include <Extension.h>
#include <Extensions.h>
#include <SubjectKeyIdentifier.h>

#include <algorithm>
#include <filesystem>

#include "rsp/asn1.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace rsp::asn1;
using rsp::asn1::test::hex;
using rsp::asn1::test::read_file;
using rsp::asn1::test::testdata;

namespace {

std::vector<fs::path> sgp26_certificates() {
  std::vector<fs::path> out;
  fs::path dir = testdata() / "sgp26";
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".der") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(Certificates, Sgp26RoundTrip) {
  auto files = sgp26_certificates();
  if (files.empty()) GTEST_SKIP() << "no SGP.26 test certificates at " << testdata();
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    rsp::Bytes der = read_file(f);
    ASSERT_FALSE(der.empty());
    auto cert = decode<Certificate_t>(asn_DEF_Certificate, der);
    EXPECT_EQ(cert.encode_der(), der);
    // Signature is ECDSA: version v3, extensions present.
    ASSERT_NE(cert->tbsCertificate.version, nullptr);
    EXPECT_EQ(to_int64(*cert->tbsCertificate.version), 2);
    EXPECT_NE(cert->tbsCertificate.extensions, nullptr);
    EXPECT_EQ(oid_to_string(cert->tbsCertificate.subjectPublicKeyInfo.algorithm.algorithm), "1.2.840.10045.2.1");
  }
  EXPECT_GE(files.size(), 19u);
}

TEST(Certificates, EuiccCertificateFields) {
  fs::path f = testdata() / "sgp26" / "eUICC" / "CERT_EUICC_ECDSA_NIST.der";
  if (!fs::exists(f)) GTEST_SKIP() << "missing " << f;
  auto cert = RSP_ASN1_DECODE(Certificate, read_file(f));

  // 9-byte serial number: needs -fwide-types (INTEGER_t, not long).
  EXPECT_EQ(integer_bytes(cert->tbsCertificate.serialNumber), hex("020000000000000001"));
  EXPECT_THROW(to_int64(cert->tbsCertificate.serialNumber), Asn1Error);

  // Subject serialNumber attribute carries the EID.
  ASSERT_EQ(cert->tbsCertificate.subject.present, Name_PR_rdnSequence);
  std::string eid;
  const auto& rdns = cert->tbsCertificate.subject.choice.rdnSequence.list;
  for (int i = 0; i < rdns.count; ++i) {
    const auto& set = rdns.array[i]->list;
    for (int j = 0; j < set.count; ++j) {
      if (oid_to_string(set.array[j]->type) == "2.5.4.5") {
        // AttributeValue is ANY: the full TLV of the PrintableString.
        auto any = to_bytes(set.array[j]->value);
        ASSERT_GE(any.size(), 2u);
        eid.assign(any.begin() + 2, any.end());
      }
    }
  }
  EXPECT_EQ(eid, "89049032123451234512345678901235");

  // Subject key identifier extension (2.5.29.14) holds OCTET STRING A524...F0.
  bool found = false;
  const auto& exts = cert->tbsCertificate.extensions->list;
  for (int i = 0; i < exts.count; ++i) {
    if (oid_to_string(exts.array[i]->extnID) != "2.5.29.14") continue;
    auto ski = decode<SubjectKeyIdentifier_t>(asn_DEF_SubjectKeyIdentifier, view(exts.array[i]->extnValue));
    EXPECT_EQ(to_bytes(*ski), hex("A52476AF5D50AA376437CCB1DA2172EF45F484F0"));
    found = true;
  }
  EXPECT_TRUE(found);
}

TEST(Certificates, GarbledCertificateIsAnError) {
  fs::path f = testdata() / "sgp26" / "CertificateIssuer" / "CERT_CI_ECDSA_NIST.der";
  if (!fs::exists(f)) GTEST_SKIP() << "missing " << f;
  rsp::Bytes der = read_file(f);
  // Every truncation fails cleanly.
  for (std::size_t n = 0; n < der.size(); n += 7) {
    rsp::Bytes cut(der.begin(), der.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(decode<Certificate_t>(asn_DEF_Certificate, cut), Asn1Error) << n;
  }
  // A trailing byte is refused.
  rsp::Bytes longer = der;
  longer.push_back(0);
  EXPECT_THROW(decode<Certificate_t>(asn_DEF_Certificate, longer), Asn1Error);
  // Flipping bytes never crashes (it may or may not still decode).
  for (std::size_t i = 0; i < der.size(); ++i) {
    rsp::Bytes bad = der;
    bad[i] ^= 0xA5;
    try {
      auto c = decode<Certificate_t>(asn_DEF_Certificate, bad);
      (void)c;
    } catch (const Asn1Error&) {
    }
  }
}
