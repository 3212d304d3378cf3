// The compiled profile generator (ProfileGenerator) against the per-element
// re-encoding one (generate_profile), byte for byte: every TS.48 template and
// the built-in minimal one, many subscribers of every shape of optional
// values, the same errors for bad values, the fallback for a template whose
// PIN PE is not DER, and concurrent use.
#include <gtest/gtest.h>

#include <ProfileElement.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include "profile_elements.hpp"
#include "rsp/asn1.hpp"
#include "rsp/log.hpp"
#include "rsp/smdp/profile_generator.hpp"
#include "rsp/smdp/profile_package.hpp"
#include "rsp/smdp/profile_template.hpp"
#include "rsp/tlv.hpp"

using namespace rsp;
using namespace rsp::smdp;
using test_support::decode_pe;
using test_support::elements;

namespace {

Bytes read_file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The templates: every TS.48 test profile present, and the built-in one.
std::vector<std::pair<std::string, Bytes>> templates() {
  std::vector<std::pair<std::string, Bytes>> out{{"builtin", minimal_profile_template()}};
  std::filesystem::path dir = std::filesystem::path(RSP_SHARED_TESTDATA) / "ts48";
  if (std::filesystem::exists(dir))
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".der") out.emplace_back(e.path().filename().string(), read_file_bytes(e.path()));
  std::sort(out.begin(), out.end());
  return out;
}

// Subscriber values drawn from `rng`: every optional value sometimes given,
// sometimes not, ICCIDs of 19 and 20 digits, PINs of 4..8 digits, PIN1
// sometimes the template's 0000 (so that generate_profile copies the PIN PE).
struct Draw {
  std::mt19937 rng;
  explicit Draw(unsigned seed) : rng(seed) {}
  bool coin() { return rng() % 2 == 0; }
  std::string digits(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + rng() % 10));
    return s;
  }
  Bytes bytes(std::size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return b;
  }
  SubscriberValues subscriber() {
    SubscriberValues v;
    v.iccid = luhn_complete("89" + digits(coin() ? 16 : 17));
    std::string mccmnc = coin() ? "00101" : "999700";
    v.imsi = mccmnc + digits(15 - mccmnc.size());
    v.ki = bytes(16);
    v.opc = bytes(16);
    v.pin1 = coin() ? "0000" : digits(4 + rng() % 5);
    v.puk1 = coin() ? "12345678" : digits(8);
    if (coin()) v.pin2 = digits(4 + rng() % 5);
    if (coin()) v.puk2 = digits(8);
    if (coin()) v.adm1 = coin() ? digits(8) : to_hex(bytes(8));
    if (coin()) v.spn = coin() ? "Example" : "Mobile @ Home 42";
    switch (rng() % 4) {
      case 0: break;
      case 1: v.home_plmns = {mccmnc}; break;  // MNC length from it
      case 2: v.home_plmns = {"00101"}; break;
      default: v.home_plmns = {mccmnc, "20815"}; break;
    }
    if (rng() % 4 == 0) v.mnc_length = 2 + rng() % 2;
    switch (rng() % 3) {
      case 0: break;
      case 1: v.milenage_r = from_hex("4000204060"); break;  // the default: omitted
      default: v.milenage_r = bytes(5); break;
    }
    if (coin()) v.milenage_c = rng() % 3 == 0 ? Bytes(80, 0) : bytes(80);
    return v;
  }
};

// generate_profile's package or its error message.
std::string reference(ByteView tmpl, const SubscriberValues& v, Bytes& out) {
  try {
    out = generate_profile(tmpl, v);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

// The issue-12 acceptance: the compiled generator's packages are byte for
// byte the previous generator's, decode with asn1c's PEDefinitions decoder,
// and are patched (not made by the fallback) for every template we have.
TEST(CompiledGenerator, SamePackagesAsReencodingForEveryTemplateAndShape) {
  log::set_level(log::Level::Error);
  auto all = templates();
  ASSERT_GE(all.size(), 1u);
  Draw draw(12);
  int compared = 0, errors = 0;
  for (const auto& [name, tmpl] : all) {
    SCOPED_TRACE(name);
    const std::size_t n_elements = elements(tmpl).size();
    ProfileGenerator gen(tmpl);
    for (int i = 0; i < 150; ++i) {
      SubscriberValues v = draw.subscriber();
      Bytes want;
      std::string err = reference(tmpl, v, want);
      if (!err.empty()) {
        // E.g. two home PLMNs where the template's EF HPLMNwAcT holds one.
        try {
          gen.generate(v);
          ADD_FAILURE() << "generate_profile failed (" << err << "), the compiled generator did not";
        } catch (const std::invalid_argument& e) {
          EXPECT_EQ(e.what(), err);
        }
        ++errors;
        continue;
      }
      Bytes got = gen.generate(v);
      ASSERT_EQ(to_hex(got), to_hex(want)) << "subscriber #" << i << " ICCID " << v.iccid;
      EXPECT_TRUE(gen.patches(v));
      if (i % 10 == 0) {
        auto pes = elements(got);  // asn1c's decoder, PE by PE
        EXPECT_EQ(pes.size(), n_elements);
        EXPECT_EQ(inspect_upp(got).iccid, v.iccid);
      }
      ++compared;
    }
  }
  EXPECT_GT(compared, 100 * static_cast<int>(all.size()));
  EXPECT_GT(errors, 0);  // the builtin template's one-PLMN EF HPLMNwAcT
}

TEST(CompiledGenerator, SameErrorsForBadValuesAndTemplates) {
  Bytes tmpl = minimal_profile_template();
  ProfileGenerator gen(tmpl);
  Draw draw(7);
  auto same_error = [&](const SubscriberValues& v, const ProfileGenerator& g, ByteView t) {
    Bytes unused;
    std::string want = reference(t, v, unused);
    ASSERT_FALSE(want.empty());
    try {
      g.generate(v);
      ADD_FAILURE() << "no error, expected: " << want;
    } catch (const std::exception& e) {
      EXPECT_EQ(e.what(), want);
    }
  };
  SubscriberValues v = draw.subscriber();
  v.iccid.back() = static_cast<char>('0' + (v.iccid.back() - '0' + 1) % 10);
  same_error(v, gen, tmpl);
  v = draw.subscriber();
  v.imsi.pop_back();
  same_error(v, gen, tmpl);
  v = draw.subscriber();
  v.ki = SecretBytes(Bytes(15, 1));
  same_error(v, gen, tmpl);
  v = draw.subscriber();
  v.spn = "[bracket]";
  same_error(v, gen, tmpl);
  v = draw.subscriber();
  v.milenage_c = Bytes(79, 0);
  same_error(v, gen, tmpl);

  // Templates: no USIM PE; not a profile package at all (DecodeError).
  Bytes no_usim;
  for (const auto& e : elements(tmpl))
    if (e.kind != ProfileElement_PR_usim) append(no_usim, e.raw);
  same_error(draw.subscriber(), ProfileGenerator(no_usim), no_usim);
  Bytes garbage = from_hex("A003800102");
  EXPECT_THROW(ProfileGenerator(garbage).generate(draw.subscriber()), DecodeError);
  // A failed compilation is not kept: the next call fails the same way.
  ProfileGenerator bad(no_usim);
  EXPECT_THROW(bad.generate(draw.subscriber()), std::invalid_argument);
  EXPECT_THROW(bad.generate(draw.subscriber()), std::invalid_argument);
}

// A template whose PIN PE is BER, not DER (a long-form length): while PIN1
// is the template's, generate_profile copies that PE as it is; once PIN1
// differs it re-encodes it in DER. No single image serves both, so the
// compiled generator falls back to re-encoding, and still matches.
TEST(CompiledGenerator, NonDerPinElementFallsBackToReencoding) {
  log::set_level(log::Level::Error);
  Bytes tmpl, ber;
  bool rewritten = false;
  for (const auto& e : elements(minimal_profile_template())) {
    if (e.kind == ProfileElement_PR_pinCodes && !rewritten) {
      // The same tag and value, the length in the long form 82 xx xx.
      auto t = tlv::parse_one(e.raw);
      ber = concat(tlv::encode_tag(t.tag),
                   Bytes{0x82, static_cast<std::uint8_t>(t.value.size() >> 8), static_cast<std::uint8_t>(t.value.size())},
                   t.value);
      ASSERT_NE(ber, e.raw);
      ASSERT_EQ(decode_pe(ber).encode_der(), e.raw);  // the same value
      append(tmpl, ber);
      rewritten = true;
    } else {
      append(tmpl, e.raw);
    }
  }
  ASSERT_TRUE(rewritten);
  Draw draw(3);
  SubscriberValues changed = draw.subscriber();
  changed.home_plmns.clear();
  changed.pin2 = std::nullopt;
  changed.adm1 = "";
  changed.pin1 = "1234";  // first: the PE re-encoded, which alone a patched image would match
  SubscriberValues kept = changed;  // the same shape, so the first compilation serves it
  kept.pin1 = "0000";               // the template's PIN1: the PE copied in its BER form
  ProfileGenerator gen(tmpl);
  EXPECT_EQ(gen.generate(changed), generate_profile(tmpl, changed));
  EXPECT_EQ(gen.generate(kept), generate_profile(tmpl, kept));
  EXPECT_FALSE(gen.patches(kept));
  Bytes want = generate_profile(tmpl, kept);  // holds the BER form, as the template has it
  EXPECT_NE(std::search(want.begin(), want.end(), ber.begin(), ber.end()), want.end());
  // The unmodified template is patched.
  EXPECT_TRUE(ProfileGenerator(minimal_profile_template()).patches(kept));
}

// One generator shared by threads (an SM-DP+ serving several operators'
// orders): every package as generate_profile makes it.
TEST(CompiledGenerator, SharedAcrossThreads) {
  Bytes tmpl = minimal_profile_template();
  const ProfileGenerator gen(tmpl);
  std::vector<std::vector<SubscriberValues>> work(4);
  Draw draw(99);
  for (auto& w : work)
    for (int i = 0; i < 50; ++i) {
      auto v = draw.subscriber();
      v.home_plmns.resize(std::min<std::size_t>(v.home_plmns.size(), 1));
      w.push_back(v);
    }
  std::vector<int> bad(work.size(), 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < work.size(); ++t)
    threads.emplace_back([&, t] {
      for (const auto& v : work[t])
        if (gen.generate(v) != generate_profile(tmpl, v)) ++bad[t];
    });
  for (auto& th : threads) th.join();
  for (int b : bad) EXPECT_EQ(b, 0);
}
