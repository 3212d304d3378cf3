#include <gtest/gtest.h>

#include "rsp/eid.hpp"

namespace {

// SGP.26's test eUICC (serialNumber of CERT_EUICC_ECDSA_NIST) and the EID of
// GSMA's examples; both checked independently (Python: int(eid) % 97 == 1).
TEST(Eid, PublishedExamplesAreValid) {
  EXPECT_TRUE(rsp::eid_valid("89049032123451234512345678901235"));
  EXPECT_TRUE(rsp::eid_valid("89001012012341234012345678901224"));
  EXPECT_EQ(rsp::eid_check_digits("890490321234512345123456789012"), "35");
  EXPECT_EQ(rsp::eid_check_digits("890010120123412340123456789012"), "24");
}

TEST(Eid, RejectsWrongCheckDigitsLengthAndCharacters) {
  EXPECT_FALSE(rsp::eid_valid("89049032123451234512345678901234"));  // last digit off by one
  EXPECT_FALSE(rsp::eid_valid("89049032123451234512345678901253"));  // check digits swapped
  EXPECT_FALSE(rsp::eid_valid("8904903212345123451234567890123"));   // 31 digits
  EXPECT_FALSE(rsp::eid_valid("890490321234512345123456789012350"));
  EXPECT_FALSE(rsp::eid_valid("8904903212345123451234567890123A"));
  EXPECT_FALSE(rsp::eid_valid(""));
  EXPECT_THROW(rsp::eid_check_digits("12345"), std::invalid_argument);
}

// Check digits 02..98 all round-trip (a 1-digit check value keeps its zero).
TEST(Eid, CheckDigitsRoundTrip) {
  for (int i = 0; i < 200; ++i) {
    std::string first30 = "8904903200000000000000000" + std::to_string(10000 + i * 37);
    auto cd = rsp::eid_check_digits(first30);
    ASSERT_EQ(cd.size(), 2u);
    EXPECT_TRUE(rsp::eid_valid(first30 + cd)) << first30 + cd;
  }
}

}  // namespace
