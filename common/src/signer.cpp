#include "rsp/signer.hpp"

namespace rsp::crypto {

namespace {

class KeySigner final : public Signer {
 public:
  explicit KeySigner(EcKey key) : key_(std::move(key)) {
    if (!key_.has_private()) throw CryptoError("a signer needs a private key");
  }
  Curve curve() const override { return key_.curve(); }
  Bytes sign(ByteView message) const override { return key_.sign(message); }
  Bytes sign_digest(ByteView digest) const override { return key_.sign_digest(digest); }

 private:
  EcKey key_;
};

}  // namespace

std::shared_ptr<const Signer> key_signer(EcKey key) { return std::make_shared<KeySigner>(std::move(key)); }

}  // namespace rsp::crypto
