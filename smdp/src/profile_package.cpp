#include "rsp/smdp/profile_package.hpp"

#include <ProfileElement.h>

#include "rsp/asn1.hpp"

namespace rsp::smdp {

namespace {
// The ProfileHeader carries the ICCID as plain BCD, digits in reading order
// with an F filler (unlike EF ICCID and SGP.22's Iccid, which swap nibbles);
// the TS.48 packages show both side by side.
std::string header_iccid_digits(ByteView v) {
  std::string hex = to_hex(v, true);
  while (!hex.empty() && hex.back() == 'F') hex.pop_back();
  for (char ch : hex)
    if (ch < '0' || ch > '9') throw DecodeError("ProfileHeader iccid is not BCD");
  return hex;
}
Bytes header_iccid_bytes(const std::string& digits) {
  if (digits.size() > 20) throw DecodeError("an ICCID has at most 20 digits");
  std::string hex = digits;
  hex.resize(20, 'F');  // SIZE(10), F-filled
  return from_hex(hex);
}
}  // namespace

UppSummary inspect_upp(ByteView upp) {
  UppSummary out;
  asn1::decode_each<ProfileElement_t>(asn_DEF_ProfileElement, upp, [&](asn1::Value<ProfileElement_t> pe, ByteView) {
    if (out.elements == 0) {
      if (pe->present != ProfileElement_PR_header) throw DecodeError("profile package does not start with a ProfileHeader");
      out.iccid = header_iccid_digits(asn1::view(pe->choice.header.iccid));
    }
    ++out.elements;
  });
  if (out.elements == 0) throw DecodeError("empty profile package");
  return out;
}

Bytes with_header_iccid(ByteView upp, const std::string& iccid) {
  Bytes out;
  bool first = true;
  asn1::decode_each<ProfileElement_t>(asn_DEF_ProfileElement, upp, [&](asn1::Value<ProfileElement_t> pe, ByteView raw) {
    if (first) {
      if (pe->present != ProfileElement_PR_header) throw DecodeError("profile package does not start with a ProfileHeader");
      asn1::set(pe->choice.header.iccid, header_iccid_bytes(iccid));
      append(out, pe.encode_der());
      first = false;
    } else {
      append(out, raw);
    }
  });
  return out;
}

}  // namespace rsp::smdp
