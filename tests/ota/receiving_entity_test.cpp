// The card side of TS 102 225: every counter mode of the SPI, and each
// refusal with its PoR status code, with nothing executed (no secured data
// handed to the application) and the counter not moved. The PoRs go back
// through the OTA server's parser.
#include <gtest/gtest.h>

#include "ota_test_util.hpp"
#include "rsp/ota/algorithms.hpp"
#include "rsp/ota/receiving_entity.hpp"
#include "rsp/ota/response_packet.hpp"

using namespace rsp;
using namespace rsp::ota;
using ota_test::header;
using ota_test::key_set;

namespace {

const KeySet kAes = key_set(2, Algorithm::Aes, "200102030405060708090a0b0c0d0e0f", Algorithm::Aes,
                            "201102030405060708090a0b0c0d0e0f");
const KeySet k3des = key_set(3, Algorithm::TripleDes2, "300102030405060708090a0b0c0d0e0f", Algorithm::TripleDes2,
                             "301102030405060708090a0b0c0d0e0f");
const char* kRfm = "b00011";  // MSL 16: CC, ciphering, counter higher
const char* kOpen = "b00010";  // MSL 00
const Bytes kScript = from_hex("00a40004023f00");

struct Card : ::testing::Test {
  ReceivingEntity card;
  void SetUp() override {
    card.add_key_set(kAes);
    card.add_key_set(k3des);
    Bytes t = from_hex(kRfm), o = from_hex(kOpen);
    card.add_application({t[0], t[1], t[2]}, 0x16);
    card.add_application({o[0], o[1], o[2]}, 0x00);
  }
  static Bytes packet(const char* spi, std::uint8_t kic_kid, const char* tar, std::uint64_t cntr,
                      const KeySet& keys = kAes) {
    CommandPacket p;
    p.header = header(spi, kic_kid, kic_kid, tar);
    p.cntr = cntr;
    p.secured_data = kScript;
    return build_command_packet(p, keys);
  }
  // A refusal: the status, no data for the application, the counter unmoved.
  void expect_refused(const Verdict& v, ResponseStatus s, std::uint64_t counter_before, std::uint8_t version = 2) {
    EXPECT_EQ(v.status, s) << v.reason;
    EXPECT_FALSE(v.accepted());
    EXPECT_TRUE(v.secured_data.empty());
    EXPECT_EQ(card.counter(version), counter_before);
  }
};

TEST_F(Card, ProcessIfHigherAcceptsAHigherCounterAndRefusesAReplay) {
  Bytes p = packet("1639", 0x22, kRfm, 1);
  Verdict v = card.receive(p);
  ASSERT_TRUE(v.accepted()) << v.reason;
  EXPECT_EQ(v.secured_data, kScript);
  EXPECT_EQ(card.counter(2), 1u);
  // The same packet again: CNTR low, nothing executed.
  expect_refused(card.receive(p), ResponseStatus::CntrLow, 1);
  // Lower still: CNTR low.
  card.set_counter(2, 7);
  expect_refused(card.receive(packet("1639", 0x22, kRfm, 6)), ResponseStatus::CntrLow, 7);
  // Any higher value will do in this mode.
  EXPECT_TRUE(card.receive(packet("1639", 0x22, kRfm, 100)).accepted());
  EXPECT_EQ(card.counter(2), 100u);
}

TEST_F(Card, ProcessIfExactlyOneHigherRefusesAGap) {
  card.set_counter(2, 1);
  expect_refused(card.receive(packet("1e39", 0x22, kRfm, 3)), ResponseStatus::CntrHigh, 1);
  expect_refused(card.receive(packet("1e39", 0x22, kRfm, 1)), ResponseStatus::CntrLow, 1);
  EXPECT_TRUE(card.receive(packet("1e39", 0x22, kRfm, 2)).accepted());
  EXPECT_EQ(card.counter(2), 2u);
}

TEST_F(Card, CounterAvailableWithoutCheckAndNoCounterLeaveTheCounterAlone) {
  card.set_counter(2, 50);
  // MSL 00 TAR: the SPI may ask for less than "higher".
  Verdict v = card.receive(packet("0e39", 0x22, kOpen, 3));  // counter available, no check
  EXPECT_TRUE(v.accepted()) << v.reason;
  EXPECT_EQ(v.cntr, 3u);
  EXPECT_TRUE(card.receive(packet("0639", 0x22, kOpen, 0)).accepted());  // no counter
  EXPECT_EQ(card.counter(2), 50u);
}

TEST_F(Card, ABlockedCounterRefusesEverything) {
  card.set_counter(2, kMaxCounter);
  expect_refused(card.receive(packet("1639", 0x22, kRfm, kMaxCounter)), ResponseStatus::CntrBlocked, kMaxCounter);
}

TEST_F(Card, AWrongChecksumIsRefusedWith01) {
  // A changed CC in a packet that is not ciphered (SPI 12: CC, counter higher).
  Bytes p = packet("1239", 0x22, kOpen, 1);
  p[16] ^= 0x01;  // CPL(2) header(8) CNTR(5) PCNTR(1): the CC starts at 16
  expect_refused(card.receive(p), ResponseStatus::RcCcDsFailed, 0);
  // A ciphered packet under another KID.
  KeySet wrong = kAes;
  wrong.kid[0] ^= 0x80;
  expect_refused(card.receive(packet("1639", 0x22, kRfm, 1, wrong)), ResponseStatus::RcCcDsFailed, 0);
  // A changed ciphertext byte.
  p = packet("1639", 0x22, kRfm, 1);
  p.back() ^= 0x01;
  expect_refused(card.receive(p), ResponseStatus::RcCcDsFailed, 0);
  // Then the genuine packet still goes through: the refusals did not burn its counter.
  EXPECT_TRUE(card.receive(packet("1639", 0x22, kRfm, 1)).accepted());
}

TEST_F(Card, BadCipheringOrPaddingIsRefusedWith05) {
  // Ciphertext that is not a whole number of blocks (CPL fixed to match).
  Bytes p = packet("1639", 0x22, kRfm, 1);
  p.push_back(0x00);
  p[1] = static_cast<std::uint8_t>(p[1] + 1);
  expect_refused(card.receive(p), ResponseStatus::CipheringError, 0);

  // A PCNTR larger than the data, under a valid CC (hand-assembled).
  Bytes head = from_hex("0028150e392222b00010");  // CPL 40, CHL 21, SPI 0E39, KIc/KID 22, TAR B00010
  Bytes counters = from_hex("000000000114");       // CNTR 1, PCNTR 20
  Bytes data = from_hex("00a40004023f00a0b0c0d0e0f0102030a1a2");  // 18 bytes: 6 + 8 + 18 = 32
  Bytes cc = cryptographic_checksum(Algorithm::Aes, kAes.kid, concat(head, counters, data));
  Bytes bad = concat(head, encipher(Algorithm::Aes, kAes.kic, concat(counters, cc, data)));
  expect_refused(card.receive(bad), ResponseStatus::CipheringError, 0);
  try {
    open_command_packet(bad, kAes);
    FAIL() << "PCNTR larger than the data was accepted";
  } catch (const PacketError& e) {
    EXPECT_NE(std::string(e.what()).find("PCNTR 20 is larger"), std::string::npos) << e.what();
  }
  // Padding on a packet that is not ciphered (SPI 0A: CC, counter no check).
  Bytes plain_head = from_hex("001f150a392222b00010");
  Bytes plain_counters = from_hex("000000000102");
  Bytes plain_data = from_hex("00a40004023f000000");
  Bytes plain_cc = cryptographic_checksum(Algorithm::Aes, kAes.kid, concat(plain_head, plain_counters, plain_data));
  expect_refused(card.receive(concat(plain_head, plain_counters, plain_cc, plain_data)), ResponseStatus::CipheringError, 0);
}

TEST_F(Card, AnUnknownTarIsRefusedWith09) {
  expect_refused(card.receive(packet("1639", 0x22, "b00099", 1)), ResponseStatus::TarUnknown, 0);
}

TEST_F(Card, APacketBelowTheTarsMinimumSecurityLevelIsRefusedWith0A) {
  // TAR B00011 wants CC + ciphering + counter higher (MSL 16).
  expect_refused(card.receive(packet("1239", 0x22, kRfm, 1)), ResponseStatus::InsufficientSecurityLevel, 0);  // no ciphering
  expect_refused(card.receive(packet("0e39", 0x22, kRfm, 1)), ResponseStatus::InsufficientSecurityLevel, 0);  // counter unchecked
  expect_refused(card.receive(packet("0039", 0x22, kRfm, 1)), ResponseStatus::InsufficientSecurityLevel, 0);  // nothing
  // More than the minimum is fine.
  EXPECT_TRUE(card.receive(packet("1e39", 0x22, kRfm, 1)).accepted());
}

TEST_F(Card, UnknownKeyVersionsAndMixedVersionsAreRefusedWith06) {
  KeySet v5 = kAes;
  v5.version = 5;
  expect_refused(card.receive(packet("1639", 0x52, kRfm, 1, v5)), ResponseStatus::UnidentifiedSecurityError, 0);
  // KIc of version 2, KID of version 3.
  CommandPacket p;
  p.header = header("1639", 0x22, 0x35, kRfm);
  p.cntr = 1;
  p.secured_data = kScript;
  KeySet mixed = kAes;
  mixed.checksum = Algorithm::TripleDes2;
  mixed.kid = k3des.kid;
  expect_refused(card.receive(build_command_packet(p, mixed)), ResponseStatus::UnidentifiedSecurityError, 0);
  // KIc naming 3DES for the AES key set.
  p.header = header("1639", 0x25, 0x22, kRfm);
  KeySet des_named = kAes;
  des_named.cipher = Algorithm::TripleDes2;
  des_named.kic = k3des.kic;
  expect_refused(card.receive(build_command_packet(p, des_named)), ResponseStatus::UnidentifiedSecurityError, 0);
}

TEST_F(Card, KeySetsAreChosenByVersionWithTheirOwnCounters) {
  EXPECT_TRUE(card.receive(packet("1639", 0x35, kRfm, 4, k3des)).accepted());
  EXPECT_EQ(card.counter(3), 4u);
  EXPECT_EQ(card.counter(2), 0u);
  EXPECT_TRUE(card.receive(packet("1639", 0x22, kRfm, 1)).accepted());
}

TEST_F(Card, TruncatedOversizedAndInconsistentPacketsAreRefusedWith06) {
  Bytes good = packet("1639", 0x22, kRfm, 1);
  struct {
    const char* name;
    Bytes bytes;
    const char* says;
  } cases[] = {
      {"truncated", Bytes(good.begin(), good.end() - 1), "truncated"},
      {"header cut", Bytes(good.begin(), good.begin() + 6), "truncated"},
      {"oversized", concat(good, Bytes{0x00}), "oversized"},
      {"CHL 13 with a CC", [&] { Bytes b = good; b[2] = 13; return b; }(), "CHL 13"},
      {"CHL past CPL", [&] { Bytes b = good; b[2] = 0xF0; return b; }(), "runs past"},
      {"CHL wrong length", [&] { Bytes b = good; b[2] = 0x12; return b; }(), "CHL 18"},
      {"reserved SPI bit", [&] { Bytes b = good; b[3] |= 0x80; return b; }(), "reserved"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    expect_refused(card.receive(c.bytes), ResponseStatus::UnidentifiedSecurityError, 0);
    try {
      open_command_packet(c.bytes, kAes);
      FAIL() << "accepted";
    } catch (const PacketError& e) {
      EXPECT_EQ(e.status, ResponseStatus::UnidentifiedSecurityError);
      EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
    }
  }
}

TEST_F(Card, PoRsGoBackSecuredAsAskedAndTheServerReadsThem) {
  Bytes p = packet("1639", 0x22, kRfm, 1);  // PoR always, CC, ciphered, by SMS-SUBMIT
  Verdict v = card.receive(p);
  ASSERT_TRUE(v.accepted());
  Bytes por = card.respond(v, from_hex("01019000"));
  OpenedResponsePacket o = open_response_packet(por, v.header.value(), kAes);
  EXPECT_EQ(o.packet.status, 0x00);
  EXPECT_EQ(o.packet.cntr, 1u);
  EXPECT_EQ(to_hex(o.packet.additional_data), "01019000");
  EXPECT_EQ(o.rc_cc_ds.size(), 8u);
  // A refusal comes back secured too, with its code.
  Verdict replay = card.receive(p);
  OpenedResponsePacket r = open_response_packet(card.respond(replay), replay.header.value(), kAes);
  EXPECT_EQ(r.packet.status, static_cast<std::uint8_t>(ResponseStatus::CntrLow));
  EXPECT_EQ(status_name(r.packet.status), "CNTR low");
}

TEST_F(Card, An06PoRGoesUnsecuredAndTheServerStillReadsIt) {
  Bytes p = packet("1639", 0x22, kRfm, 1);
  p.pop_back();  // truncated
  Verdict v = card.receive(p);
  ASSERT_EQ(v.status, ResponseStatus::UnidentifiedSecurityError);
  Bytes por = card.respond(v);
  ASSERT_FALSE(por.empty());
  EXPECT_EQ(por[2], 10);  // RHL: no RC/CC/DS
  OpenedResponsePacket o = open_response_packet(por, header("1639", 0x22, 0x22, kRfm), kAes);
  EXPECT_FALSE(o.secured);
  EXPECT_EQ(o.packet.status, 0x06);
}

TEST_F(Card, PoROnErrorOnlyAnswersRefusals) {
  Verdict ok = card.receive(packet("163a", 0x22, kRfm, 1));  // PoR on error
  ASSERT_TRUE(ok.accepted());
  EXPECT_TRUE(card.respond(ok).empty());
  Verdict low = card.receive(packet("163a", 0x22, kRfm, 1));
  EXPECT_FALSE(card.respond(low).empty());
  Verdict none = card.receive(packet("1638", 0x22, kRfm, 1));  // no PoR
  EXPECT_TRUE(card.respond(none).empty());
}

TEST(OtaCommandPacket, DataBeyondWhatCplCanSayIsRefused) {
  CommandPacket p;
  p.header = header("1639", 0x22, 0x22, "b00011");
  p.secured_data = Bytes(0xFFFF - 22, 0);  // CPL = 1 + 21 + data (+ padding): 0xFFFF at most
  p.secured_data.resize(p.secured_data.size() - 9);  // room for the padding to the block
  EXPECT_LE(build_command_packet(p, kAes).size(), kMaxCommandPacket);
  p.secured_data.resize(0xFFFF);
  try {
    build_command_packet(p, kAes);
    FAIL() << "an oversized packet was built";
  } catch (const PacketError& e) {
    EXPECT_NE(std::string(e.what()).find("too long for CPL"), std::string::npos) << e.what();
  }
}

TEST(OtaStatus, EveryCodeOfTheTableHasItsName) {
  EXPECT_EQ(status_name(0x00), "PoR OK");
  EXPECT_EQ(status_name(0x01), "RC/CC/DS failed");
  EXPECT_EQ(status_name(0x02), "CNTR low");
  EXPECT_EQ(status_name(0x03), "CNTR high");
  EXPECT_EQ(status_name(0x04), "CNTR blocked");
  EXPECT_EQ(status_name(0x05), "Ciphering error");
  EXPECT_EQ(status_name(0x06), "Unidentified security error");
  EXPECT_EQ(status_name(0x07), "Insufficient memory");
  EXPECT_EQ(status_name(0x08), "More time");
  EXPECT_EQ(status_name(0x09), "TAR unknown");
  EXPECT_EQ(status_name(0x0A), "Insufficient security level");
  EXPECT_EQ(status_name(0x0B), "Actual response by SMS-SUBMIT");
  EXPECT_EQ(status_name(0x0C), "Actual response by USSD");
  EXPECT_EQ(status_name(0x0D), "reserved (0D)");
  EXPECT_EQ(status_name(0xC5), "proprietary (C5)");
}

TEST(OtaSpi, EveryFieldRoundTripsThroughItsBits) {
  // SPI 1E 39: CC, ciphering, counter exactly one higher; PoR always, CC, ciphered, SMS-SUBMIT.
  Spi s = Spi::decode(0x1E, 0x39);
  EXPECT_EQ(s.rc_cc_ds, RcCcDs::Cc);
  EXPECT_TRUE(s.ciphering);
  EXPECT_EQ(s.counter, CounterMode::ProcessIfOneHigher);
  EXPECT_EQ(s.por, PorRequest::Always);
  EXPECT_EQ(s.por_rc_cc_ds, RcCcDs::Cc);
  EXPECT_TRUE(s.por_ciphered);
  EXPECT_TRUE(s.por_by_sms_submit);
  EXPECT_EQ(s.encode(), (std::array<std::uint8_t, 2>{0x1E, 0x39}));
  EXPECT_EQ(Spi::decode(0x09, 0x06).counter, CounterMode::AvailableNoCheck);
  EXPECT_EQ(Spi::decode(0x09, 0x06).rc_cc_ds, RcCcDs::Rc);
  EXPECT_EQ(Spi::decode(0x09, 0x06).por, PorRequest::OnError);
  EXPECT_EQ(Spi::decode(0x09, 0x06).por_rc_cc_ds, RcCcDs::Rc);
  EXPECT_THROW(Spi::decode(0x00, 0x03), PacketError);  // PoR request 11 reserved
  // KIc/KID codings of TS 102 225 5.1.2 / 5.1.3.
  EXPECT_EQ(decode_kic(0x35).algorithm, Algorithm::TripleDes2);
  EXPECT_EQ(decode_kic(0x35).key_version, 3);
  EXPECT_EQ(decode_kic(0x19).algorithm, Algorithm::TripleDes3);
  EXPECT_EQ(decode_kic(0x11).algorithm, Algorithm::Des);
  EXPECT_EQ(decode_kic(0x1D).algorithm, Algorithm::DesEcb);
  EXPECT_EQ(decode_kic(0x22).algorithm, Algorithm::Aes);
  EXPECT_EQ(decode_kid(0x1D, RcCcDs::Cc).algorithm, Algorithm::Reserved);
  EXPECT_EQ(decode_kid(0x15, RcCcDs::Rc).algorithm, Algorithm::Crc32);
  EXPECT_EQ(decode_kid(0x11, RcCcDs::Rc).algorithm, Algorithm::Crc16);
  EXPECT_EQ(encode_kid({Algorithm::Crc32, 1}, RcCcDs::Rc), 0x15);
  EXPECT_EQ(encode_kic({Algorithm::Aes, 2}), 0x22);
}

}  // namespace
