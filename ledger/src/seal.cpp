#include "rsp/ledger/seal.hpp"

namespace rsp::ledger {

namespace {
constexpr std::string_view kLabel = "RSP-SEAL-v2";
constexpr std::size_t kPoint = 65, kTag = 16;

ByteView view(std::string_view s) { return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }

void put_lv(Bytes& out, ByteView field) {
  auto n = static_cast<std::uint32_t>(field.size());
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  append(out, field);
}

SecretBytes derive(ByteView z, ByteView context, ByteView eph, ByteView recipient) {
  Bytes info;
  append(info, view(kLabel));
  put_lv(info, context);
  append(info, eph);
  append(info, recipient);
  return SecretBytes(crypto::x963_kdf_sha256(z, info, 44));
}
}  // namespace

Bytes SealContext::encode() const {
  Bytes out;
  put_lv(out, view(purpose == Purpose::Target ? "target" : "accept"));
  put_lv(out, ledger);
  put_lv(out, view(request_id));
  put_lv(out, view(offer_id));
  put_lv(out, view(home));
  put_lv(out, view(provider));
  put_lv(out, seal_key);
  put_lv(out, reply_key);
  put_lv(out, package_hash);
  return out;
}

SealContext target_context(ByteView ledger, const Offer& offer, const std::string& home, const RequestTerms& request) {
  SealContext c;
  c.purpose = SealContext::Purpose::Target;
  c.ledger.assign(ledger.begin(), ledger.end());
  c.request_id = request.request_id;
  c.offer_id = offer.offer_id;
  c.home = home;
  c.provider = offer.provider;
  c.seal_key = offer.seal_key;
  c.reply_key = request.reply_key;
  return c;
}

SealContext target_context(ByteView ledger, const Request& request, ByteView seal_key) {
  SealContext c;
  c.purpose = SealContext::Purpose::Target;
  c.ledger.assign(ledger.begin(), ledger.end());
  c.request_id = request.request_id;
  c.offer_id = request.offer_id;
  c.home = request.home;
  c.provider = request.provider;
  c.seal_key.assign(seal_key.begin(), seal_key.end());
  c.reply_key = request.reply_key;
  return c;
}

SealContext accept_context(ByteView ledger, const Request& request, ByteView seal_key, ByteView package_hash) {
  SealContext c = target_context(ledger, request, seal_key);
  c.purpose = SealContext::Purpose::Accept;
  c.package_hash.assign(package_hash.begin(), package_hash.end());
  return c;
}

Bytes seal(ByteView recipient_point, const SealContext& context, ByteView plaintext) {
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
  Bytes c = context.encode();
  SecretBytes k = derive(z, c, e, recipient_point);
  Bytes out{kSealVersion};
  append(out, e);
  append(out, crypto::aes_gcm_encrypt(ByteView(k.data(), 32), ByteView(k.data() + 32, 12), c, plaintext));
  return out;
}

Bytes open_sealed(const crypto::EcKey& recipient, const SealContext& context, ByteView sealed) {
  if (sealed.size() < 1 + kPoint + kTag) throw SealError("sealed data too short");
  if (sealed[0] != kSealVersion) throw SealError("unknown sealed-data version " + std::to_string(sealed[0]));
  ByteView e = sealed.subspan(1, kPoint);
  SecretBytes z;
  try {
    z = recipient.ecdh(e);
  } catch (const std::exception& ex) {
    throw SealError(std::string("ephemeral key invalid: ") + ex.what());
  }
  Bytes c = context.encode();
  SecretBytes k = derive(z, c, e, recipient.public_point());
  try {
    return crypto::aes_gcm_decrypt(ByteView(k.data(), 32), ByteView(k.data() + 32, 12), c, sealed.subspan(1 + kPoint));
  } catch (const crypto::CryptoError&) {
    throw SealError(
        "sealed data does not open with this key and context (wrong recipient, another ledger, Request, party or "
        "package hash, or altered ciphertext)");
  }
}

}  // namespace rsp::ledger
