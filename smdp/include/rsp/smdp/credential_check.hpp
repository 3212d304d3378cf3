// What the SM-DP+ checks about its own PKI material before it serves
// (issue 8 point 8; SGP.22 4.5, 4.6): its CRLs, and its DPauth, DPpb and TLS
// credentials. A deployment error shows at start with the credential named,
// not as the first eUICC's refusal.
#pragma once
#include <ctime>

#include "rsp/certs.hpp"
#include "rsp/smdp/config.hpp"

namespace rsp::smdp {

// Every configured CRL, parsed and verified with the CI that issued it (one
// of the credential sets' CIs, or the TLS CI; SGP.22 4.6). Throws
// std::runtime_error naming the CRL (its configuration key and file).
certs::CrlSet load_crls(const Config& config, std::time_t now);

// Each credential set's CERT.DPauth and CERT.DPpb, and the TLS certificate
// (CERT.DP.TLS, the first of its chain), with certs::check_own_credential:
// the private key is the certificate's, the role (policy, key usage), a chain
// to the set's CI (the TLS one to tls_ci_certificate or any set's CI), each
// CI a valid self-signed CI, validity at `now`, not revoked by `crls`.
// Throws std::runtime_error naming the credential and what is wrong.
void check_own_credentials(const Config& config, const certs::CrlSet& crls, std::time_t now);

}  // namespace rsp::smdp
