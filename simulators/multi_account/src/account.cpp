// The account data objects (see account.hpp and docs/multi-account-applet.md).
#include "rsp/masim/account.hpp"

#include <algorithm>

#include "rsp/tlv.hpp"

namespace rsp::masim {
namespace {

constexpr std::size_t kMaxSpn = 17, kMaxLabel = 32, kMaxPlmnList = 250;

bool digits_only(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Bytes imsi_to_ef(std::string_view digits) {
  if (digits.size() < 6 || digits.size() > 15 || !digits_only(digits)) throw DecodeError("IMSI must be 6..15 digits");
  // TS 31.102 4.2.2: byte 1 the number of bytes that follow; then the
  // parity (b4 1 when odd) and '001' in the first nibble, digit 1 in the
  // second, and two digits a byte, low nibble first, F padded.
  Bytes out(9, 0xFF);
  out[0] = static_cast<std::uint8_t>((digits.size() + 2) / 2);
  std::uint8_t parity = digits.size() % 2 ? 0x09 : 0x01;
  out[1] = static_cast<std::uint8_t>(parity | (digits[0] - '0') << 4);
  for (std::size_t i = 1; i < digits.size(); ++i) {
    std::size_t byte = 1 + (i + 1) / 2;
    auto d = static_cast<std::uint8_t>(digits[i] - '0');
    if ((i + 1) % 2 == 0) out[byte] = static_cast<std::uint8_t>((out[byte] & 0xF0) | d);
    else out[byte] = static_cast<std::uint8_t>((out[byte] & 0x0F) | d << 4);
  }
  return out;
}

std::string imsi_from_ef(ByteView ef) {
  if (ef.size() < 2 || ef[0] == 0 || ef[0] > 8 || ef.size() < 1u + ef[0]) throw DecodeError("EF.IMSI: bad length byte");
  std::string s;
  s.push_back(static_cast<char>('0' + (ef[1] >> 4)));
  for (std::size_t i = 2; i <= ef[0]; ++i) {
    std::uint8_t lo = ef[i] & 0x0F, hi = ef[i] >> 4;
    if (lo <= 9) s.push_back(static_cast<char>('0' + lo));
    if (hi <= 9) s.push_back(static_cast<char>('0' + hi));
  }
  if (!digits_only(s)) throw DecodeError("EF.IMSI: not BCD");
  return s;
}

Bytes plmn_bytes(std::string_view mcc, std::string_view mnc) {
  if (mcc.size() != 3 || (mnc.size() != 2 && mnc.size() != 3) || !digits_only(mcc) || !digits_only(mnc))
    throw DecodeError("PLMN: MCC 3 digits, MNC 2 or 3 digits");
  auto d = [](char c) { return static_cast<std::uint8_t>(c - '0'); };
  std::uint8_t mnc3 = mnc.size() == 3 ? d(mnc[2]) : 0x0F;
  return Bytes{static_cast<std::uint8_t>(d(mcc[1]) << 4 | d(mcc[0])), static_cast<std::uint8_t>(mnc3 << 4 | d(mcc[2])),
               static_cast<std::uint8_t>(d(mnc[1]) << 4 | d(mnc[0]))};
}

Bytes encode_account(const Account& a) {
  Bytes body;
  append(body, tlv::make(tag::kId, Bytes{a.id}));
  append(body, tlv::make(tag::kImsi, a.imsi));
  append(body, tlv::make(tag::kKi, a.ki));
  append(body, tlv::make(tag::kOpc, a.opc));
  if (!(a.constants == milenage::Constants{})) {
    append(body, tlv::make(tag::kRotation, Bytes(a.constants.r.begin(), a.constants.r.end())));
    Bytes c;
    for (const auto& ci : a.constants.c) c.insert(c.end(), ci.begin(), ci.end());
    append(body, tlv::make(tag::kXoring, c));
  }
  if (!a.home_plmn.empty()) append(body, tlv::make(tag::kHomePlmn, a.home_plmn));
  if (!a.plmn_wact.empty()) append(body, tlv::make(tag::kPlmnWact, a.plmn_wact));
  if (!a.oplmn_wact.empty()) append(body, tlv::make(tag::kOplmnWact, a.oplmn_wact));
  if (!a.spn.empty()) append(body, tlv::make(tag::kSpn, a.spn));
  if (!a.label.empty()) append(body, tlv::make(tag::kLabel, to_bytes(a.label)));
  return tlv::make(tag::kAccountTemplate, body);
}

Account decode_account(ByteView data) {
  tlv::Tlv t = tlv::parse_one(data);
  if (t.tag != tag::kAccountTemplate) throw DecodeError("not an account template (A0)");
  if (t.raw.size() != data.size()) throw DecodeError("bytes after the account template");
  Account a;
  bool id = false, imsi = false, ki = false, opc = false;
  Bytes rotation, xoring;
  for (const auto& d : tlv::parse_all(t.value)) {
    ByteView v = d.value;
    switch (d.tag) {
      case tag::kId:
        if (v.size() != 1 || v[0] == 0x00 || v[0] == 0xFF) throw DecodeError("account id: one byte 01..FE");
        a.id = v[0];
        id = true;
        break;
      case tag::kImsi:
        if (v.size() != 9) throw DecodeError("IMSI: 9 bytes as EF.IMSI");
        a.imsi.assign(v.begin(), v.end());
        imsi_from_ef(a.imsi);  // must read as digits
        imsi = true;
        break;
      case tag::kKi:
        if (v.size() != milenage::kKeyLen) throw DecodeError("Ki: 16 bytes");
        a.ki = Bytes(v.begin(), v.end());
        ki = true;
        break;
      case tag::kOpc:
        if (v.size() != 16) throw DecodeError("OPc: 16 bytes");
        a.opc = Bytes(v.begin(), v.end());
        opc = true;
        break;
      case tag::kRotation:
        if (v.size() != 5) throw DecodeError("rotation constants: 5 bytes");
        rotation.assign(v.begin(), v.end());
        break;
      case tag::kXoring:
        if (v.size() != 80) throw DecodeError("XOR constants: 80 bytes");
        xoring.assign(v.begin(), v.end());
        break;
      case tag::kHomePlmn:
        if (v.size() != 3) throw DecodeError("home PLMN: 3 bytes");
        a.home_plmn.assign(v.begin(), v.end());
        break;
      case tag::kPlmnWact:
      case tag::kOplmnWact:
        if (v.size() % 5 || v.size() > kMaxPlmnList) throw DecodeError("PLMN list: 5-byte entries, at most 50");
        (d.tag == tag::kPlmnWact ? a.plmn_wact : a.oplmn_wact).assign(v.begin(), v.end());
        break;
      case tag::kSpn:
        if (v.empty() || v.size() > kMaxSpn) throw DecodeError("SPN: 1..17 bytes as EF.SPN");
        a.spn.assign(v.begin(), v.end());
        break;
      case tag::kLabel:
        if (v.size() > kMaxLabel) throw DecodeError("label: at most 32 bytes");
        a.label = to_string(v);
        break;
      default:
        throw DecodeError("unknown data object in the account template");
    }
  }
  if (!id || !imsi || !ki || !opc) throw DecodeError("account template needs 80 id, 81 IMSI, 82 Ki, 83 OPc");
  if (!rotation.empty() || !xoring.empty()) {
    for (auto r : rotation)
      if (r > 127) throw DecodeError("rotation constant above 127");
    a.constants = milenage::Constants::from_profile(rotation, xoring);
  }
  return a;
}

Bytes encode_list_entry(const Account& a, bool active) {
  Bytes body;
  append(body, tlv::make(tag::kId, Bytes{a.id}));
  append(body, tlv::make(tag::kImsi, a.imsi));
  if (!a.home_plmn.empty()) append(body, tlv::make(tag::kHomePlmn, a.home_plmn));
  if (!a.spn.empty()) append(body, tlv::make(tag::kSpn, a.spn));
  if (!a.label.empty()) append(body, tlv::make(tag::kLabel, to_bytes(a.label)));
  append(body, tlv::make(tag::kActive, Bytes{static_cast<std::uint8_t>(active ? 1 : 0)}));
  return tlv::make(tag::kListEntry, body);
}

}  // namespace rsp::masim
