#include "rsp/smdp/token_keys.hpp"

#include <cstdlib>
#include <stdexcept>

#include "rsp/certs.hpp"
#include "rsp/file.hpp"
#include "rsp/pkcs11.hpp"
#include "rsp/pki.hpp"

namespace rsp::smdp {

namespace {

[[noreturn]] void fail(const std::string& field, const std::string& why) { throw std::runtime_error(field + " " + why); }

SecretBytes read_pin(const std::string& source, const std::filesystem::path& base, const std::string& field) {
  if (source.empty()) return {};
  SecretBytes pin;
  if (source.rfind("file:", 0) == 0) {
    std::filesystem::path p = source.substr(5);
    if (p.is_relative()) p = base / p;
    try {
      pin = read_private_file(p.string());
    } catch (const std::runtime_error& e) {
      fail(field, std::string("pin-source: ") + e.what());
    }
    if (!pin.empty() && pin.back() == '\n') pin.pop_back();
    if (!pin.empty() && pin.back() == '\r') pin.pop_back();
  } else if (source.rfind("env:", 0) == 0) {
    const char* v = std::getenv(source.c_str() + 4);
    if (!v) fail(field, "pin-source: the environment variable " + source.substr(4) + " is not set");
    pin = to_bytes(std::string(v));
  } else {
    fail(field, "pin-source must be file:PATH or env:NAME");
  }
  if (pin.empty()) fail(field, "pin-source gives an empty PIN");
  return pin;
}

}  // namespace

std::shared_ptr<const crypto::Signer> open_token_key(const std::string& uri, const std::filesystem::path& base,
                                                     ByteView certificate_der, const std::string& field) {
  certs::Certificate cert;
  try {
    cert = certs::parse(certs::der_from_pem_or_der(Bytes(certificate_der.begin(), certificate_der.end())));
  } catch (const std::exception&) {
    fail(field, "certificate is not a valid X.509 certificate");
  }
  auto public_key = cert.public_key();
  std::shared_ptr<const crypto::Signer> signer;
  try {
    auto key = pkcs11::parse_key_uri(uri);
    signer = pkcs11::open_signer(key, read_pin(key.pin_source, base, field), public_key.curve());
  } catch (const pkcs11::Pkcs11Error& e) {
    fail(field, std::string("(PKCS#11): ") + e.what());
  }
  // A key that is not the certificate's would only show when an eUICC
  // refuses the first signature.
  const Bytes probe = to_bytes("SM-DP+ key check: the token key belongs to this certificate");
  Bytes sig;
  try {
    sig = signer->sign(probe);
  } catch (const pkcs11::Pkcs11Error& e) {
    fail(field, std::string("(PKCS#11): ") + e.what());
  }
  if (!public_key.verify(probe, sig)) fail(field, "key does not match its certificate");
  return signer;
}

}  // namespace rsp::smdp
