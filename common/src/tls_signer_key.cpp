// A private key for OpenSSL whose ECDSA is done by a crypto::Signer.
//
// Why an EC_KEY_METHOD: OpenSSL 3.0 still runs "foreign" legacy keys (an
// EC_KEY whose method is not OpenSSL's) through their method, so a method
// whose sign callbacks call our signer is all it takes, about sixty lines.
// The alternatives: a provider with its own key manager and signature
// implementation (several hundred lines for the same effect), or
// libengine-pkcs11-openssl (libp11's ENGINE "pkcs11"), which would open its
// own sessions and log in to the token with a second copy of the PIN,
// beside rsp::pkcs11's sessions (a session per signature, which SoftHSM2
// needs under concurrency). The EC_KEY_METHOD API is deprecated in OpenSSL
// 3.0 but present through 3.x; this file alone uses it.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "tls_signer_key.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <mutex>

#include "rsp/http_server.hpp"

namespace rsp::tls {

namespace {

using SignerRef = std::shared_ptr<const crypto::Signer>;

// ex_data slot of the EC_KEY holding a heap SignerRef (freed and duplicated
// with the key).
void free_signer(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<SignerRef*>(ptr); }
int dup_signer(CRYPTO_EX_DATA*, const CRYPTO_EX_DATA*, void** from_d, int, long, void*) {
  auto* const* from = reinterpret_cast<SignerRef* const*>(from_d);
  if (*from) *from_d = new SignerRef(**from);
  return 1;
}

int signer_index() {
  static const int index = EC_KEY_get_ex_new_index(0, nullptr, nullptr, dup_signer, free_signer);
  return index;
}

ECDSA_SIG* sign_sig(const unsigned char* digest, int digest_len, const BIGNUM*, const BIGNUM*, EC_KEY* key) {
  auto* signer = static_cast<SignerRef*>(EC_KEY_get_ex_data(key, signer_index()));
  if (signer == nullptr || *signer == nullptr || digest_len <= 0) return nullptr;
  Bytes rs;
  try {
    rs = (*signer)->sign_digest(ByteView(digest, static_cast<std::size_t>(digest_len)));
  } catch (const std::exception&) {
    return nullptr;  // the handshake fails with an internal error alert
  }
  if (rs.empty() || rs.size() % 2 != 0) return nullptr;
  const int n = static_cast<int>(rs.size() / 2);
  BIGNUM* r = BN_bin2bn(rs.data(), n, nullptr);
  BIGNUM* s = BN_bin2bn(rs.data() + n, n, nullptr);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (r == nullptr || s == nullptr || sig == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return nullptr;
  }
  return sig;
}

int sign(int, const unsigned char* digest, int digest_len, unsigned char* out, unsigned int* out_len,
         const BIGNUM* kinv, const BIGNUM* r, EC_KEY* key) {
  ECDSA_SIG* sig = sign_sig(digest, digest_len, kinv, r, key);
  if (sig == nullptr) return 0;
  unsigned char* p = out;  // OpenSSL sized `out` with ECDSA_size()
  int n = i2d_ECDSA_SIG(sig, &p);
  ECDSA_SIG_free(sig);
  if (n <= 0) return 0;
  *out_len = static_cast<unsigned int>(n);
  return 1;
}

const EC_KEY_METHOD* signer_method() {
  static const EC_KEY_METHOD* method = [] {
    EC_KEY_METHOD* m = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
    int (*default_setup)(EC_KEY*, BN_CTX*, BIGNUM**, BIGNUM**) = nullptr;
    EC_KEY_METHOD_get_sign(EC_KEY_OpenSSL(), nullptr, &default_setup, nullptr);
    EC_KEY_METHOD_set_sign(m, sign, default_setup, sign_sig);
    return m;
  }();
  return method;
}

}  // namespace

evp_pkey_st* signer_private_key(std::shared_ptr<const crypto::Signer> signer, x509_st* certificate) {
  if (!signer) throw http::TlsConfigError("no signer for the TLS key");
  EVP_PKEY* pub = X509_get0_pubkey(certificate);
  const EC_KEY* from = pub != nullptr ? EVP_PKEY_get0_EC_KEY(pub) : nullptr;
  if (from == nullptr) throw http::TlsConfigError("the TLS certificate's key is not an EC key");
  EC_KEY* key = EC_KEY_new();
  EVP_PKEY* out = EVP_PKEY_new();
  bool ok = key != nullptr && out != nullptr && EC_KEY_set_method(key, signer_method()) == 1 &&
            EC_KEY_set_group(key, EC_KEY_get0_group(from)) == 1 &&
            EC_KEY_set_public_key(key, EC_KEY_get0_public_key(from)) == 1 &&
            EC_KEY_set_ex_data(key, signer_index(), new SignerRef(std::move(signer))) == 1;
  if (ok && EVP_PKEY_assign_EC_KEY(out, key) == 1) return out;
  EC_KEY_free(key);
  EVP_PKEY_free(out);
  throw http::TlsConfigError("cannot make an OpenSSL key for the TLS signer");
}

}  // namespace rsp::tls
