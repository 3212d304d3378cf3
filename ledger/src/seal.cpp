#include "rsp/ledger/seal.hpp"

namespace rsp::ledger {

namespace {
constexpr std::string_view kLabel = "RSP-SEAL-v1";
constexpr std::size_t kPoint = 65, kTag = 16;

ByteView view(std::string_view s) { return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }

SecretBytes derive(ByteView z, std::string_view context, ByteView eph, ByteView recipient) {
  Bytes info;
  append(info, view(kLabel));
  auto n = static_cast<std::uint32_t>(context.size());
  for (int i = 3; i >= 0; --i) info.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  append(info, view(context));
  append(info, eph);
  append(info, recipient);
  return SecretBytes(crypto::x963_kdf_sha256(z, info, 44));
}
}  // namespace

Bytes seal(ByteView recipient_point, std::string_view context, ByteView plaintext) {
  if (recipient_point.size() != kPoint || recipient_point[0] != 0x04)
    throw SealError("recipient key is not an uncompressed P-256 point");
  auto eph = crypto::EcKey::generate(crypto::Curve::P256);
  Bytes e = eph.public_point();
  SecretBytes z;
  try {
    z = eph.ecdh(recipient_point);
  } catch (const std::exception& ex) {
    throw SealError(std::string("recipient key rejected: ") + ex.what());
  }
  SecretBytes k = derive(z, context, e, recipient_point);
  Bytes out{kSealVersion};
  append(out, e);
  append(out, crypto::aes_gcm_encrypt(ByteView(k.data(), 32), ByteView(k.data() + 32, 12), view(context), plaintext));
  return out;
}

Bytes open_sealed(const crypto::EcKey& recipient, std::string_view context, ByteView sealed) {
  if (sealed.size() < 1 + kPoint + kTag) throw SealError("sealed data too short");
  if (sealed[0] != kSealVersion) throw SealError("unknown sealed-data version " + std::to_string(sealed[0]));
  ByteView e = sealed.subspan(1, kPoint);
  SecretBytes z;
  try {
    z = recipient.ecdh(e);
  } catch (const std::exception& ex) {
    throw SealError(std::string("ephemeral key invalid: ") + ex.what());
  }
  SecretBytes k = derive(z, context, e, recipient.public_point());
  try {
    return crypto::aes_gcm_decrypt(ByteView(k.data(), 32), ByteView(k.data() + 32, 12), view(context),
                                   sealed.subspan(1 + kPoint));
  } catch (const crypto::CryptoError&) {
    throw SealError("sealed data does not open with this key (wrong recipient, context or altered ciphertext)");
  }
}

}  // namespace rsp::ledger
