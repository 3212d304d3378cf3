// Private keys in a PKCS#11 token (an HSM; SoftHSM2 in the tests), named by
// an RFC 7512 URI, behind crypto::Signer: the token signs (C_Sign with
// CKM_ECDSA over the SHA-256 hash), the key never leaves it.
//
//   pkcs11:token=smdp;object=dpauth;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:smdp.pin
//
// Path attributes (token, manufacturer, serial, model, object, id, type)
// select the token and the key; the query attributes `module-path` (the
// PKCS#11 library, required) and `pin-source` say how to reach it.
// `pin-value` (a PIN written into the URI) is refused: configuration files
// are read by more people than keys.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "rsp/bytes.hpp"
#include "rsp/signer.hpp"

namespace rsp::pkcs11 {

struct Pkcs11Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool is_uri(std::string_view s);  // starts with "pkcs11:"

struct KeyUri {
  std::string uri;          // as given (no PIN in it)
  std::string module_path;  // query attribute module-path
  std::string pin_source;   // query attribute pin-source, "" if absent
};
// Parses and checks an RFC 7512 URI for a private key; throws Pkcs11Error
// saying what is wrong (never echoing a pin-value).
KeyUri parse_key_uri(const std::string& uri);

// Opens the module (once per process and path), finds the token and the
// private key, logs in with `pin` (empty: no login) and returns a signer for
// that key on `curve`. The key must be sensitive and not extractable (the
// token refuses to export it). Throws Pkcs11Error naming what was not found;
// the PIN is never part of a message.
std::shared_ptr<const crypto::Signer> open_signer(const KeyUri& key, const SecretBytes& pin, crypto::Curve curve);

}  // namespace rsp::pkcs11
