#include "rsp/gp/diversification.hpp"

#include <array>

#include "rsp/crypto.hpp"

namespace rsp::gp {

Diversification diversification_from_name(std::string_view name) {
  if (name == "none") return Diversification::None;
  if (name == "visa2") return Diversification::Visa2;
  if (name == "emv") return Diversification::EmvCps11;
  if (name == "kdf3") return Diversification::Kdf3;
  throw DecodeError("unknown key diversification '" + std::string(name) + "' (none, visa2, emv, kdf3)");
}

namespace {
SecretBytes derive(ByteView master, ByteView six, std::uint8_t k) {
  if (master.size() != 16) throw SecurityError("key diversification needs 16-byte 3DES master keys");
  Bytes d(six.begin(), six.end());
  d.push_back(0xF0);
  d.push_back(k);
  append(d, six);
  d.push_back(0x0F);
  d.push_back(k);
  // 3DES-ECB of two blocks = two independent CBC blocks with a zero IV.
  Bytes out = crypto::des_cbc_encrypt(master, Bytes(8, 0), ByteView(d).subspan(0, 8));
  append(out, crypto::des_cbc_encrypt(master, Bytes(8, 0), ByteView(d).subspan(8, 8)));
  return out;
}

// KDF3: NIST SP 800-108 counter mode with AES-CMAC as the PRF (the PRF of
// Amd D 4.1.5), the 1-byte counter i first, then the fixed data
// 00 00 00 || k || 00 || KDD[0..9]; as many blocks as the master key is long.
SecretBytes derive_kdf3(ByteView master, ByteView kdd10, std::uint8_t k) {
  if (master.size() != 16 && master.size() != 24 && master.size() != 32)
    throw SecurityError("KDF3 diversification needs AES master keys (16, 24 or 32 bytes)");
  Bytes out;
  for (std::uint8_t i = 1; out.size() < master.size(); ++i) {
    Bytes input{i, 0x00, 0x00, 0x00, k, 0x00};
    append(input, kdd10);
    append(out, crypto::aes_cmac(master, input));
  }
  out.resize(master.size());
  return out;
}
}  // namespace

StaticKeys diversify(const StaticKeys& master, Diversification how, ByteView kdd) {
  if (how == Diversification::None) return master;
  if (kdd.size() < 10) throw SecurityError("key diversification data shorter than 10 bytes");
  if (how == Diversification::Kdf3) {
    StaticKeys out;
    out.version = master.version;
    out.enc = derive_kdf3(master.enc, kdd.subspan(0, 10), 0x01);
    out.mac = derive_kdf3(master.mac, kdd.subspan(0, 10), 0x02);
    out.dek = derive_kdf3(master.dek, kdd.subspan(0, 10), 0x03);
    return out;
  }
  Bytes six;
  if (how == Diversification::EmvCps11) {
    six.assign(kdd.begin() + 4, kdd.begin() + 10);
  } else {
    for (std::size_t i : std::array<std::size_t, 6>{0, 1, 4, 5, 6, 7}) six.push_back(kdd[i]);
  }
  StaticKeys out;
  out.version = master.version;
  out.enc = derive(master.enc, six, 0x01);
  out.mac = derive(master.mac, six, 0x02);
  out.dek = derive(master.dek, six, 0x03);
  return out;
}

}  // namespace rsp::gp
