// Reading what the SM-DP+ needs from an unprotected profile package (UPP, the
// SIMalliance/TCA interoperable format: a sequence of ProfileElement DER).
#pragma once
#include <string>

#include "rsp/bytes.hpp"

namespace rsp::smdp {

struct UppSummary {
  std::string iccid;        // from the ProfileHeader
  std::size_t elements = 0; // number of ProfileElements
};

// Decodes every ProfileElement; throws DecodeError if the package is not a
// well-formed sequence of them or has no ProfileHeader first.
UppSummary inspect_upp(ByteView upp);

// The same package with another ICCID in its ProfileHeader (the other
// elements are kept byte for byte). For tests and benchmarks that need many
// distinct profiles from one template; the ES2+ profile generator will set
// the ICCID in EF ICCID as well.
Bytes with_header_iccid(ByteView upp, const std::string& iccid);

}  // namespace rsp::smdp
