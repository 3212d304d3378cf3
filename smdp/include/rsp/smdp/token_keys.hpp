// SK.DPauth and SK.DPpb in a PKCS#11 token (docs/smdp.md, "Keys in an HSM"):
// the configuration names the key by an RFC 7512 URI instead of a file.
#pragma once
#include <filesystem>
#include <memory>
#include <string>

#include "rsp/bytes.hpp"
#include "rsp/signer.hpp"

namespace rsp::smdp {

// Opens the key `uri` names for the certificate `certificate_der` (its
// curve). The PIN comes from the URI's pin-source: `file:PATH` (relative to
// `base`; the file must be mode 0600 or stricter; one trailing newline is
// ignored) or `env:NAME` (an environment variable); no pin-source: no login.
// Refused, with `field` named: a bad URI, a missing token or key, a wrong
// PIN, a key that could leave the token, and a key that is not the one of
// the certificate (checked by signing once and verifying with it). The PIN
// is never part of a message.
std::shared_ptr<const crypto::Signer> open_token_key(const std::string& uri, const std::filesystem::path& base,
                                                     ByteView certificate_der, const std::string& field);

}  // namespace rsp::smdp
