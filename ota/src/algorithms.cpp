#include "rsp/ota/algorithms.hpp"

#include <string>

#include "rsp/crypto.hpp"
#include "rsp/ota/status.hpp"

namespace rsp::ota {

namespace {
const std::uint8_t kZero16[16] = {};

[[noreturn]] void unsupported(Algorithm a, const char* role) {
  throw PacketError(ResponseStatus::UnidentifiedSecurityError,
                    std::string(role) + " algorithm " + std::string(algorithm_name(a)) + " is not supported");
}
}  // namespace

std::size_t cipher_block_size(Algorithm a) {
  switch (a) {
    case Algorithm::Des:
    case Algorithm::TripleDes2:
    case Algorithm::TripleDes3:
    case Algorithm::DesEcb: return 8;
    case Algorithm::Aes: return 16;
    default: unsupported(a, "ciphering");
  }
}

void require_cipher_key(Algorithm a, ByteView key) {
  std::size_t n = key.size();
  bool ok = false;
  switch (a) {
    case Algorithm::Des:
    case Algorithm::DesEcb: ok = n == 8; break;
    case Algorithm::TripleDes2: ok = n == 16; break;
    case Algorithm::TripleDes3: ok = n == 24; break;
    case Algorithm::Aes: ok = n == 16 || n == 24 || n == 32; break;
    default: unsupported(a, "key");
  }
  if (!ok)
    throw PacketError(ResponseStatus::UnidentifiedSecurityError,
                      std::string(algorithm_name(a)) + " needs a key of " +
                          (a == Algorithm::Aes ? std::string("16, 24 or 32") : std::to_string(a == Algorithm::TripleDes2 ? 16 : a == Algorithm::TripleDes3 ? 24 : 8)) +
                          " bytes, got " + std::to_string(n));
}

namespace {
Bytes run_cipher(bool enc, Algorithm a, ByteView key, ByteView data) {
  require_cipher_key(a, key);
  std::size_t bs = cipher_block_size(a);
  if (data.size() % bs != 0)
    throw PacketError(ResponseStatus::CipheringError, "ciphered data (" + std::to_string(data.size()) +
                                                          " bytes) is not a multiple of the " + std::to_string(bs) +
                                                          "-byte block");
  ByteView iv(kZero16, bs);
  if (a == Algorithm::Aes) return enc ? crypto::aes_cbc_encrypt(key, iv, data) : crypto::aes_cbc_decrypt(key, iv, data);
  if (a == Algorithm::DesEcb) {  // ECB: every block on its own, i.e. CBC with a zero IV one block at a time
    Bytes out;
    for (std::size_t off = 0; off < data.size(); off += 8)
      append(out, enc ? crypto::des_cbc_encrypt(key, iv, data.subspan(off, 8)) : crypto::des_cbc_decrypt(key, iv, data.subspan(off, 8)));
    return out;
  }
  return enc ? crypto::des_cbc_encrypt(key, iv, data) : crypto::des_cbc_decrypt(key, iv, data);
}
}  // namespace

Bytes encipher(Algorithm a, ByteView key, ByteView data) { return run_cipher(true, a, key, data); }
Bytes decipher(Algorithm a, ByteView key, ByteView data) { return run_cipher(false, a, key, data); }

std::size_t checksum_length(RcCcDs mode, Algorithm a, std::size_t requested) {
  if (mode == RcCcDs::None) return 0;
  if (mode == RcCcDs::Ds)
    throw PacketError(ResponseStatus::UnidentifiedSecurityError, "digital signatures (DS) are not supported");
  std::size_t n = 0;
  switch (a) {
    case Algorithm::Crc16: n = 2; break;
    case Algorithm::Crc32: n = 4; break;
    case Algorithm::Des:
    case Algorithm::TripleDes2:
    case Algorithm::TripleDes3: n = 8; break;
    case Algorithm::Aes:
      // TS 102 225 5.1.3.1: the AES-CMAC is 4 or 8 bytes (the CHL says which).
      if (requested == 4 || requested == 8) return requested;
      n = 8;
      break;
    default: unsupported(a, mode == RcCcDs::Rc ? "RC" : "CC");
  }
  if (requested != 0 && requested != n)
    throw PacketError(ResponseStatus::UnidentifiedSecurityError, std::string(algorithm_name(a)) + " gives " +
                                                                     std::to_string(n) + " bytes, not " +
                                                                     std::to_string(requested));
  if ((mode == RcCcDs::Rc) != (a == Algorithm::Crc16 || a == Algorithm::Crc32))
    throw PacketError(ResponseStatus::UnidentifiedSecurityError,
                      std::string(algorithm_name(a)) + " is not a " + (mode == RcCcDs::Rc ? "redundancy check" : "cryptographic checksum"));
  return n;
}

Bytes cryptographic_checksum(Algorithm a, ByteView key, ByteView data, std::size_t length) {
  std::size_t n = checksum_length(RcCcDs::Cc, a, length);
  require_cipher_key(a, key);
  if (a == Algorithm::Aes) {
    Bytes mac = crypto::aes_cmac(key, data);
    mac.resize(n);  // the leftmost bytes (SP 800-38B 6.2 truncation)
    return mac;
  }
  // DES CBC-MAC: zero padding to the block (only for the computation; those
  // octets are not sent), the last block of the CBC encryption.
  Bytes padded(data.begin(), data.end());
  padded.resize((padded.size() + 7) / 8 * 8, 0);
  if (padded.empty()) padded.resize(8, 0);
  Bytes c = crypto::des_cbc_encrypt(key, ByteView(kZero16, 8), padded);
  return Bytes(c.end() - 8, c.end());
}

std::uint16_t crc16_iso13239(ByteView data) {
  std::uint16_t crc = 0xFFFF;
  for (std::uint8_t b : data) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0x8408) : static_cast<std::uint16_t>(crc >> 1);
  }
  return static_cast<std::uint16_t>(~crc);
}

std::uint32_t crc32_iso13239(ByteView data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::uint8_t b : data) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
  }
  return ~crc;
}

Bytes redundancy_check(Algorithm a, ByteView data) {
  checksum_length(RcCcDs::Rc, a);
  if (a == Algorithm::Crc16) {
    std::uint16_t c = crc16_iso13239(data);
    return {static_cast<std::uint8_t>(c >> 8), static_cast<std::uint8_t>(c)};
  }
  std::uint32_t c = crc32_iso13239(data);
  return {static_cast<std::uint8_t>(c >> 24), static_cast<std::uint8_t>(c >> 16), static_cast<std::uint8_t>(c >> 8),
          static_cast<std::uint8_t>(c)};
}

}  // namespace rsp::ota
