// PEDefinitions: every TS.48 test profile package (ProfileElements back to
// back, DER) decodes element by element and re-encodes byte-identically.
#include <gtest/gtest.h>

#include <PE-End.h>
#include <PE-MF.h>
#include <PE-USIM.h>
#include <PEHeader.h>
#include <ProfileElement.h>
#include <ProfileHeader.h>
#include <ServicesList.h>
#include <EUICCResponse.h>
#include <PEStatus.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "rsp/asn1.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace rsp::asn1;
using rsp::Bytes;
using rsp::asn1::test::hex;
using rsp::asn1::test::read_file;
using rsp::asn1::test::testdata;

namespace {

std::vector<fs::path> ts48_profiles() {
  std::vector<fs::path> out;
  fs::path dir = testdata() / "ts48";
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".der") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(ProfilePackage, Ts48RoundTrip) {
  auto files = ts48_profiles();
  if (files.empty()) GTEST_SKIP() << "no TS.48 profiles at " << testdata();
  for (const auto& f : files) {
    SCOPED_TRACE(f.filename().string());
    Bytes der = read_file(f);
    ASSERT_FALSE(der.empty());
    auto t0 = std::chrono::steady_clock::now();
    std::size_t n = 0;
    Bytes reencoded;
    ProfileElement_PR first = ProfileElement_PR_NOTHING, last = ProfileElement_PR_NOTHING;
    bool has_mf = false, has_usim = false;
    decode_each<ProfileElement_t>(asn_DEF_ProfileElement, der, [&](Value<ProfileElement_t>&& pe, rsp::ByteView raw) {
      SCOPED_TRACE("element " + std::to_string(n));
      ASSERT_NE(pe->present, ProfileElement_PR_NOTHING) << "unknown profile element (extension)";
      if (n == 0) first = pe->present;
      last = pe->present;
      has_mf |= pe->present == ProfileElement_PR_mf;
      has_usim |= pe->present == ProfileElement_PR_usim;
      Bytes enc = pe.encode_der();
      EXPECT_TRUE(std::equal(enc.begin(), enc.end(), raw.begin(), raw.end()))
          << "element " << n << " (CHOICE " << pe->present << ") re-encodes differently";
      rsp::append(reencoded, enc);
      ++n;
    });
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(reencoded, der);
    EXPECT_GE(n, 5u);
    EXPECT_EQ(first, ProfileElement_PR_header);
    EXPECT_EQ(last, ProfileElement_PR_end);
    EXPECT_TRUE(has_mf);
    EXPECT_TRUE(has_usim);
    RecordProperty(f.filename().string(), std::to_string(n) + " elements, " + std::to_string(ms) + " ms");
  }
}

TEST(ProfilePackage, HeaderFields) {
  auto files = ts48_profiles();
  if (files.empty()) GTEST_SKIP() << "no TS.48 profiles at " << testdata();
  Bytes der = read_file(files.back());
  std::size_t used = 0;
  auto pe = Value<ProfileElement_t>::decode_prefix(asn_DEF_ProfileElement, der, used);
  ASSERT_EQ(pe->present, ProfileElement_PR_header);
  const ProfileHeader_t& h = pe->choice.header;
  EXPECT_GE(h.major_version, 2);  // UInt8: constrained, so a plain long
  EXPECT_EQ(h.iccid.size, 10);
  EXPECT_NE(h.eUICC_Mandatory_services.usim, nullptr);
  // Truncating the package inside its first element is an error, not a crash.
  for (std::size_t n = 1; n < used; n += 3) {
    std::size_t u = 0;
    EXPECT_THROW(Value<ProfileElement_t>::decode_prefix(asn_DEF_ProfileElement, rsp::ByteView(der).first(n), u),
                 Asn1Error);
  }
}

TEST(ProfilePackage, EuiccResponse) {
  // EUICCResponse { peStatus { PEStatus { status ok } }, no abort }
  Bytes der = hex("3007 A005 3003 800100");
  auto r = RSP_ASN1_DECODE(EUICCResponse, der);
  ASSERT_EQ(r->peStatus.list.count, 1);
  EXPECT_EQ(to_int64(r->peStatus.list.array[0]->status), PEStatus__status_ok);
  EXPECT_EQ(r->profileInstallationAborted, nullptr);
  EXPECT_EQ(r.encode_der(), der);
}
