// SGP.22 v2.2.2 section 4.1 activation codes.
#include <gtest/gtest.h>

#include "rsp/activation_code.hpp"

using rsp::ActivationCode;
using rsp::ActivationCodeError;

TEST(ActivationCode, Sgp22ExampleMinimal) {
  // SGP.22 4.1 example without optional fields.
  auto ac = ActivationCode::parse("1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815");
  EXPECT_EQ(ac.smdp_address, "SMDP.GSMA.COM");
  EXPECT_EQ(ac.matching_id, "04386-AGYFT-A74Y8-3F815");
  EXPECT_FALSE(ac.smdp_oid);
  EXPECT_FALSE(ac.confirmation_code_required);
  EXPECT_EQ(ac.to_string(false), "1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815");
  EXPECT_EQ(ac.to_string(), "LPA:1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815");
}

TEST(ActivationCode, Sgp22ExampleCcRequiredWithoutOid) {
  auto ac = ActivationCode::parse("1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815$$1");
  EXPECT_FALSE(ac.smdp_oid);
  EXPECT_TRUE(ac.confirmation_code_required);
  EXPECT_EQ(ac.to_string(false), "1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815$$1");
}

TEST(ActivationCode, Sgp22ExampleOidAndCc) {
  auto ac = ActivationCode::parse("1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815$1.3.6.1.4.1.31746$1");
  ASSERT_TRUE(ac.smdp_oid);
  EXPECT_EQ(*ac.smdp_oid, "1.3.6.1.4.1.31746");
  EXPECT_TRUE(ac.confirmation_code_required);
  EXPECT_EQ(ActivationCode::parse(ac.to_string()), ac);
}

TEST(ActivationCode, Sgp22ExampleOidOnly) {
  auto ac = ActivationCode::parse("1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815$1.3.6.1.4.1.31746");
  ASSERT_TRUE(ac.smdp_oid);
  EXPECT_FALSE(ac.confirmation_code_required);
  EXPECT_EQ(ac.to_string(false), "1$SMDP.GSMA.COM$04386-AGYFT-A74Y8-3F815$1.3.6.1.4.1.31746");
}

TEST(ActivationCode, LpaPrefixAnyCaseAndWhitespace) {
  for (const char* text : {"LPA:1$smdp.example.com$ABC", "lpa:1$smdp.example.com$ABC", "Lpa:1$smdp.example.com$ABC",
                           "  LPA:1$smdp.example.com$ABC\r\n"}) {
    auto ac = ActivationCode::parse(text);
    EXPECT_EQ(ac.smdp_address, "smdp.example.com") << text;
    EXPECT_EQ(ac.matching_id, "ABC") << text;
  }
}

TEST(ActivationCode, AddressWithPort) {
  auto ac = ActivationCode::parse("LPA:1$127.0.0.1:8443$TOKEN");
  EXPECT_EQ(ac.smdp_address, "127.0.0.1:8443");
  auto ac2 = ActivationCode::parse("LPA:1$testsmdpplus1.example.com:443$T-1");
  EXPECT_EQ(ac2.smdp_address, "testsmdpplus1.example.com:443");
}

TEST(ActivationCode, TokenKeepsItsCharacters) {
  auto ac = ActivationCode::parse("LPA:1$a.example$QR-G-5C-KR-1LFSDWJ:extra/+=");
  EXPECT_EQ(ac.matching_id, "QR-G-5C-KR-1LFSDWJ:extra/+=");
}

TEST(ActivationCode, Rejects) {
  const char* bad[] = {
      "",                                      // nothing
      "LPA:",                                  // prefix only
      "2$SMDP.GSMA.COM$TOKEN",                 // unknown AC_Format
      "LPA:$SMDP.GSMA.COM$TOKEN",              // empty AC_Format
      "1$SMDP.GSMA.COM",                       // no AC_Token field
      "1$SMDP.GSMA.COM$",                      // empty AC_Token
      "1$$TOKEN",                              // empty address
      "1$SMDP GSMA.COM$TOKEN",                 // space in address
      "1$SMDP..GSMA.COM$TOKEN",                // empty label
      "1$-SMDP.GSMA.COM$TOKEN",                // label starts with '-'
      "1$SMDP.GSMA.COM:0$TOKEN",               // port 0
      "1$SMDP.GSMA.COM:70000$TOKEN",           // port too large
      "1$SMDP.GSMA.COM:$TOKEN",                // empty port
      "1$SMDP.GSMA.COM$TOKEN$",                // trailing empty field
      "1$SMDP.GSMA.COM$TOKEN$$",               // trailing empty fields
      "1$SMDP.GSMA.COM$TOKEN$1.3.6.1$",        // trailing empty flag
      "1$SMDP.GSMA.COM$TOKEN$1.3.6.1$0",       // flag other than "1"
      "1$SMDP.GSMA.COM$TOKEN$$2",              // flag other than "1"
      "1$SMDP.GSMA.COM$TOKEN$abc",             // OID not dotted decimal
      "1$SMDP.GSMA.COM$TOKEN$1",               // OID with one arc
      "1$SMDP.GSMA.COM$TOKEN$1..3",            // empty arc
      "1$SMDP.GSMA.COM$TOKEN$1.3.6.1$1$extra", // six fields
      "1$SMDP.GSMA.COM$TO\tKEN",               // control character in token
      "LPA1$SMDP.GSMA.COM$TOKEN",              // malformed prefix
  };
  for (const char* text : bad) EXPECT_THROW(ActivationCode::parse(text), ActivationCodeError) << "'" << text << "'";
}
