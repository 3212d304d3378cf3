// Test helpers: a profile package's elements, decoded one by one.
#pragma once
#include <ProfileElement.h>

#include <vector>

#include "rsp/asn1.hpp"

namespace rsp::smdp::test_support {

struct Element {
  Bytes raw;
  ProfileElement_PR kind;
};

inline std::vector<Element> elements(ByteView upp) {
  std::vector<Element> out;
  asn1::decode_each<ProfileElement_t>(asn_DEF_ProfileElement, upp, [&](asn1::Value<ProfileElement_t> pe, ByteView raw) {
    out.push_back({Bytes(raw.begin(), raw.end()), pe->present});
  });
  return out;
}

inline asn1::Value<ProfileElement_t> decode_pe(ByteView raw) { return RSP_ASN1_DECODE(ProfileElement, raw); }

}  // namespace rsp::smdp::test_support
