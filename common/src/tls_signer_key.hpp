// An OpenSSL private key whose signatures come from a crypto::Signer (a key
// in a PKCS#11 token): what lets OpenSSL's TLS sign the ServerKeyExchange
// with a key it never sees. Internal to common/src (tls.cpp).
#pragma once
#include <memory>

#include "rsp/signer.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY
struct x509_st;      // OpenSSL's X509

namespace rsp::tls {

// An EVP_PKEY (the caller owns one reference) with the public key of
// `certificate` and whose ECDSA signing calls signer->sign_digest. Throws
// http::TlsConfigError when the certificate's key is not an EC key.
evp_pkey_st* signer_private_key(std::shared_ptr<const crypto::Signer> signer, x509_st* certificate);

}  // namespace rsp::tls
