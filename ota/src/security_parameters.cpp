#include "rsp/ota/security_parameters.hpp"

#include <stdexcept>

#include "rsp/ota/status.hpp"

namespace rsp::ota {

std::array<std::uint8_t, 2> Spi::encode() const {
  std::uint8_t first = static_cast<std::uint8_t>(static_cast<unsigned>(rc_cc_ds) | (ciphering ? 0x04u : 0u) |
                                                 (static_cast<unsigned>(counter) << 3));
  std::uint8_t second = static_cast<std::uint8_t>(static_cast<unsigned>(por) | (static_cast<unsigned>(por_rc_cc_ds) << 2) |
                                                  (por_ciphered ? 0x10u : 0u) | (por_by_sms_submit ? 0x20u : 0u));
  return {first, second};
}

Spi Spi::decode(std::uint8_t first, std::uint8_t second) {
  // TS 102 225 5.1.1: b8..b6 of the first byte and b8..b7 of the second are
  // reserved (set to zero); a receiving entity cannot know what a sender
  // meant by them.
  if (first & 0xE0) throw PacketError(ResponseStatus::UnidentifiedSecurityError, "SPI first byte has reserved bits set");
  if (second & 0xC0) throw PacketError(ResponseStatus::UnidentifiedSecurityError, "SPI second byte has reserved bits set");
  if ((second & 0x03) == 0x03) throw PacketError(ResponseStatus::UnidentifiedSecurityError, "SPI PoR request 11 is reserved");
  Spi s;
  s.rc_cc_ds = static_cast<RcCcDs>(first & 0x03);
  s.ciphering = first & 0x04;
  s.counter = static_cast<CounterMode>((first >> 3) & 0x03);
  s.por = static_cast<PorRequest>(second & 0x03);
  s.por_rc_cc_ds = static_cast<RcCcDs>((second >> 2) & 0x03);
  s.por_ciphered = second & 0x10;
  s.por_by_sms_submit = second & 0x20;
  return s;
}

std::string_view algorithm_name(Algorithm a) {
  switch (a) {
    case Algorithm::Implicit: return "implicit";
    case Algorithm::Des: return "DES";
    case Algorithm::TripleDes2: return "3DES-2KEY";
    case Algorithm::TripleDes3: return "3DES-3KEY";
    case Algorithm::DesEcb: return "DES-ECB";
    case Algorithm::Aes: return "AES";
    case Algorithm::Crc16: return "CRC16";
    case Algorithm::Crc32: return "CRC32";
    case Algorithm::Proprietary: return "proprietary";
    case Algorithm::Reserved: return "reserved";
  }
  return "?";
}

Algorithm algorithm_from_name(std::string_view name) {
  std::string n;
  for (char c : name) n.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  for (Algorithm a : {Algorithm::Implicit, Algorithm::Des, Algorithm::TripleDes2, Algorithm::TripleDes3, Algorithm::DesEcb,
                      Algorithm::Aes, Algorithm::Crc16, Algorithm::Crc32}) {
    std::string m;
    for (char c : algorithm_name(a)) m.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    if (n == m) return a;
  }
  throw std::invalid_argument("unknown algorithm '" + std::string(name) +
                              "' (implicit, DES, 3DES-2KEY, 3DES-3KEY, DES-ECB, AES, CRC16, CRC32)");
}

namespace {

// 5.1.2 / 5.1.3.1: b2b1 00 implicit, 01 DES family, 10 AES, 11 proprietary;
// for DES, b4b3 00 DES-CBC, 01 3DES 2 keys, 10 3DES 3 keys, 11 DES-ECB
// (KIc only: reserved in a KID for CC); for AES, b4b3 00 (others reserved).
KeyIdentifier decode_cipher_or_cc(std::uint8_t v, bool kic) {
  KeyIdentifier k;
  k.key_version = v >> 4;
  unsigned b21 = v & 0x03, b43 = (v >> 2) & 0x03;
  switch (b21) {
    case 0: k.algorithm = Algorithm::Implicit; break;
    case 1:
      k.algorithm = b43 == 0   ? Algorithm::Des
                    : b43 == 1 ? Algorithm::TripleDes2
                    : b43 == 2 ? Algorithm::TripleDes3
                    : kic      ? Algorithm::DesEcb
                               : Algorithm::Reserved;
      break;
    case 2: k.algorithm = b43 == 0 ? Algorithm::Aes : Algorithm::Reserved; break;
    default: k.algorithm = Algorithm::Proprietary; break;
  }
  return k;
}

}  // namespace

KeyIdentifier decode_kic(std::uint8_t kic) { return decode_cipher_or_cc(kic, true); }

KeyIdentifier decode_kid(std::uint8_t kid, RcCcDs mode) {
  if (mode != RcCcDs::Rc) return decode_cipher_or_cc(kid, false);  // CC; DS is proprietary either way
  // 5.1.3.2: b2b1 00 implicit, 01 CRC, 10 reserved, 11 proprietary; for CRC,
  // b4b3 00 CRC16, 01 CRC32 (others reserved).
  KeyIdentifier k;
  k.key_version = kid >> 4;
  unsigned b21 = kid & 0x03, b43 = (kid >> 2) & 0x03;
  k.algorithm = b21 == 0   ? Algorithm::Implicit
                : b21 == 1 ? (b43 == 0 ? Algorithm::Crc16 : b43 == 1 ? Algorithm::Crc32 : Algorithm::Reserved)
                : b21 == 2 ? Algorithm::Reserved
                           : Algorithm::Proprietary;
  return k;
}

namespace {
std::uint8_t with_version(KeyIdentifier k, unsigned low) {
  if (k.key_version > 15) throw std::invalid_argument("key version must be 0..15");
  return static_cast<std::uint8_t>((k.key_version << 4) | low);
}
}  // namespace

std::uint8_t encode_kic(KeyIdentifier k) {
  switch (k.algorithm) {
    case Algorithm::Implicit: return with_version(k, 0x00);
    case Algorithm::Des: return with_version(k, 0x01);
    case Algorithm::TripleDes2: return with_version(k, 0x05);
    case Algorithm::TripleDes3: return with_version(k, 0x09);
    case Algorithm::DesEcb: return with_version(k, 0x0D);
    case Algorithm::Aes: return with_version(k, 0x02);
    default: throw std::invalid_argument("KIc cannot name " + std::string(algorithm_name(k.algorithm)));
  }
}

std::uint8_t encode_kid(KeyIdentifier k, RcCcDs mode) {
  if (mode == RcCcDs::Rc) {
    switch (k.algorithm) {
      case Algorithm::Implicit: return with_version(k, 0x00);
      case Algorithm::Crc16: return with_version(k, 0x01);
      case Algorithm::Crc32: return with_version(k, 0x05);
      default: throw std::invalid_argument("KID for RC cannot name " + std::string(algorithm_name(k.algorithm)));
    }
  }
  if (k.algorithm == Algorithm::DesEcb) throw std::invalid_argument("KID for CC cannot name DES-ECB");
  if (k.algorithm == Algorithm::Crc16 || k.algorithm == Algorithm::Crc32)
    throw std::invalid_argument("a CRC is a redundancy check: the SPI must ask for RC");
  return encode_kic(k);
}

}  // namespace rsp::ota
