// Which implementation rsp::crypto (rsp/crypto.hpp) runs on (issue 12;
// docs/architecture.md, "Crypto backends"): OpenSSL 3 for the servers and
// tools (its P-256 is ~10x faster than mbedTLS 2.28's), mbedTLS 2.28 for the
// card side (the eUICC/UICC simulators, the SCP81 admin agent), which is what
// a card OS would carry. The two are tested against each other
// (tests/common/crypto_differential_test.cpp). secp256k1 keys always go
// through libsecp256k1 (their key store is the mbedTLS implementation's).
#pragma once
#include <string_view>

namespace rsp::crypto {

// Process-wide, OpenSsl unless a program says otherwise: the card-side
// simulators call use_backend(Backend::MbedTls) first thing in main(). The
// free functions of rsp/crypto.hpp use the backend of the moment; an EcKey
// keeps the implementation it was made in, so keys made before a switch still
// work, and keys of both implementations mix (ECDH and verify take bytes).
enum class Backend { OpenSsl, MbedTls };
void use_backend(Backend b);
Backend backend();
std::string_view backend_name(Backend b);  // "OpenSSL" / "mbedTLS"

}  // namespace rsp::crypto
