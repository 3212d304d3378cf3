// Inputs on which the unpatched asn1c 0.9.28 runtime has undefined behaviour
// (asn1/cmake/asn1_generate.cmake, step 7, patches it). Each one is what an
// unauthenticated peer can send, e.g. in an ES9+ handleNotification's
// PendingNotification. Under the sanitizer build (scripts/sanitize.sh,
// -fsanitize=undefined -fno-sanitize-recover=all) the unpatched runtime aborts
// on each of them; in any build the tests also check the decoded result.
#include <gtest/gtest.h>

#include <AuthenticateServerResponse.h>
#include <NotificationMetadata.h>
#include <ProfileInfoListResponse.h>
#include <PendingNotification.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <limits>
#include <string_view>

#include "rsp/asn1.hpp"
#include "test_util.hpp"

using namespace rsp::asn1;
using rsp::asn1::test::hex;

namespace {

// NotificationMetadata (SGP.22 BF2F) with the given seqNumber [0] and
// profileManagementOperation [1] contents, notificationAddress "a".
rsp::Bytes notification_metadata(std::string_view seq_hex, std::string_view event_hex) {
  rsp::Bytes seq = hex(seq_hex);
  rsp::Bytes event = hex(event_hex);
  rsp::Bytes body;
  body.push_back(0x80);
  body.push_back(static_cast<std::uint8_t>(seq.size()));
  body.insert(body.end(), seq.begin(), seq.end());
  body.push_back(0x81);
  body.push_back(static_cast<std::uint8_t>(event.size()));
  body.insert(body.end(), event.begin(), event.end());
  for (auto b : hex("0C 01 61")) body.push_back(b);
  rsp::Bytes out = hex("BF 2F");
  out.push_back(static_cast<std::uint8_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

}  // namespace

// The control value: an install notification's metadata as an eUICC sends it.
TEST(AsnRuntime, NotificationMetadataDecodes) {
  auto m = RSP_ASN1_DECODE(NotificationMetadata, notification_metadata("01", "07 80"));
  EXPECT_EQ(to_int64(m->seqNumber), 1);
  EXPECT_EQ(bit_count(m->profileManagementOperation), 1u);
  EXPECT_TRUE(test_bit(m->profileManagementOperation, 0));
}

// ber_fetch_length: length octets 88 80 00 .. 00 (X.690 8.1.3.5 long form,
// 2^63) made `len << 8` overflow the signed length at the eighth octet.
TEST(AsnRuntime, LengthBeyondSsizeMaxIsRefusedWithoutOverflow) {
  EXPECT_THROW(RSP_ASN1_DECODE(PendingNotification, hex("BF 37 88 80 00 00 00 00 00 00 00")), Asn1Error);
  EXPECT_THROW(RSP_ASN1_DECODE(PendingNotification, hex("BF 37 89 00 80 00 00 00 00 00 00 00")), Asn1Error);
  // The largest length that fits is still only "truncated", not an overflow.
  EXPECT_THROW(RSP_ASN1_DECODE(PendingNotification, hex("BF 37 88 00 7F FF FF FF FF FF FF")), Asn1Error);
}

// OCTET_STRING_decode_ber for BIT STRING: an unused-bit count of 0xC8 made
// the runtime shift 0xff by 200. X.690 8.6.2.2: it must be 0..7, and 0 for an
// empty BIT STRING (8.6.2.3); the unpatched runtime accepted both.
TEST(AsnRuntime, BitStringUnusedBitsOutOfRangeIsRefused) {
  EXPECT_THROW(RSP_ASN1_DECODE(NotificationMetadata, notification_metadata("01", "C8 80")), Asn1Error);
  EXPECT_THROW(RSP_ASN1_DECODE(NotificationMetadata, notification_metadata("01", "08 80")), Asn1Error);
  EXPECT_THROW(RSP_ASN1_DECODE(NotificationMetadata, notification_metadata("01", "03")), Asn1Error);
  // 7 unused bits is the maximum and is fine.
  auto m = RSP_ASN1_DECODE(NotificationMetadata, notification_metadata("01", "07 80"));
  EXPECT_TRUE(test_bit(m->profileManagementOperation, 0));
  // Through the whole PendingNotification as handleNotification receives it.
  rsp::Bytes md = notification_metadata("01", "C8 80");
  rsp::Bytes pir = hex("BF 27");
  rsp::Bytes pir_body = hex("80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
  pir_body.insert(pir_body.end(), md.begin(), md.end());
  pir.push_back(static_cast<std::uint8_t>(pir_body.size()));
  pir.insert(pir.end(), pir_body.begin(), pir_body.end());
  rsp::Bytes pn = hex("BF 37");
  pn.push_back(static_cast<std::uint8_t>(pir.size()));
  pn.insert(pn.end(), pir.begin(), pir.end());
  EXPECT_THROW(RSP_ASN1_DECODE(PendingNotification, pn), Asn1Error);
}

// asn_INTEGER2long on a negative INTEGER shifted a negative long left.
// Values are X.690 8.3 two's complement, read independently here.
TEST(AsnRuntime, NegativeIntegerConvertsWithoutShiftingANegativeValue) {
  auto m = RSP_ASN1_DECODE(NotificationMetadata, notification_metadata("FF", "07 80"));
  EXPECT_EQ(to_int64(m->seqNumber), -1);
  m = RSP_ASN1_DECODE(NotificationMetadata, notification_metadata("FE 00", "07 80"));
  EXPECT_EQ(to_int64(m->seqNumber), -512);
  m = RSP_ASN1_DECODE(NotificationMetadata, notification_metadata("80 00 00 00 00 00 00 00", "07 80"));
  EXPECT_EQ(to_int64(m->seqNumber), std::numeric_limits<std::int64_t>::min());
  m = RSP_ASN1_DECODE(NotificationMetadata, notification_metadata("FF 7F FF FF FF FF FF FF FF", "07 80"));
  EXPECT_THROW(to_int64(m->seqNumber), Asn1Error);  // -(2^63) - 1 does not fit
}

namespace {
// Decodes `der` as `td` in a child process: true if the decoder refused it
// (Asn1Error) within 5 s. A decoder that loops is killed, so that a
// regression fails instead of hanging the suite.
bool refused_in_time(const asn_TYPE_descriptor_t& td, const rsp::Bytes& der) {
  pid_t pid = ::fork();
  if (pid == 0) {
    try {
      rsp::asn1::free_struct(td, rsp::asn1::decode_raw(td, der));
    } catch (const Asn1Error&) {
      ::_exit(0);
    }
    ::_exit(1);
  }
  for (int i = 0; i < 500; ++i) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    ::usleep(10'000);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return false;
}
}  // namespace

// CHOICE_decode_ber: a tagged CHOICE with an indefinite length followed by
// `00 32` (not end-of-contents) made the decoder loop forever. The SM-DP+
// decodes AuthenticateServerResponse (a [56] CHOICE) from an ES9+
// authenticateClient request before checking any signature.
TEST(AsnRuntime, IndefiniteLengthChoiceWithBadEndOfContentsFails) {
  EXPECT_TRUE(refused_in_time(asn_DEF_ProfileInfoListResponse, hex("BF 2D 80 A0 00 00 32")));
  // authenticateResponseError [1] { transactionId [0] 01, authenticateErrorCode 1 }
  EXPECT_TRUE(refused_in_time(asn_DEF_AuthenticateServerResponse, hex("BF 38 80 A1 06 80 01 01 02 01 01 00 32")));
  // With a real end-of-contents the same value is BER and decodes.
  auto ok = RSP_ASN1_DECODE(ProfileInfoListResponse, hex("BF 2D 80 A0 00 00 00"));
  EXPECT_EQ(ok->present, ProfileInfoListResponse_PR_profileInfoListOk);
}
