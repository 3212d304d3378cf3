// USIM AUTHENTICATE with Milenage (see usim_milenage.hpp).
#include "rsp/uicc/usim_milenage.hpp"

#include <algorithm>

namespace rsp::uicc {
namespace {

constexpr std::uint16_t kMacFailure = 0x9862;  // TS 31.102 7.3.1: authentication error, incorrect MAC
const Bytes kUsimAidPrefix = {0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02};

apdu::Response sw_only(std::uint16_t s) { return apdu::Response{{}, s}; }

// ISO 7816 LV: one length byte, then the value.
std::optional<ByteView> take_lv(ByteView& d) {
  if (d.empty() || d[0] + 1u > d.size()) return std::nullopt;
  ByteView v = d.subspan(1, d[0]);
  d = d.subspan(1u + d[0]);
  return v;
}

void put_lv(Bytes& out, ByteView v) {
  out.push_back(static_cast<std::uint8_t>(v.size()));
  append(out, v);
}

}  // namespace

bool is_usim_aid(ByteView aid) {
  return aid.size() >= kUsimAidPrefix.size() && std::equal(kUsimAidPrefix.begin(), kUsimAidPrefix.end(), aid.begin());
}

apdu::Response usim_authenticate_milenage(const apdu::Command& c, const MilenageKeys& keys, std::uint64_t& sqn_ms,
                                          const UsimAuthenticateOptions& options) {
  if (c.p1 != 0x00) return sw_only(apdu::sw::kIncorrectP1P2);
  bool umts = c.p2 == 0x81;
  if (!umts && !(c.p2 == 0x80 && options.gsm_context)) return sw_only(apdu::sw::kIncorrectP1P2);
  ByteView d(c.data);
  auto rand = take_lv(d);
  if (!rand || rand->size() != milenage::kRandLen) return sw_only(apdu::sw::kWrongData);
  milenage::Milenage m(keys.k, keys.opc, keys.constants);

  if (!umts) {  // GSM security context: L SRES L Kc
    if (!d.empty()) return sw_only(apdu::sw::kWrongLength);
    milenage::F2345 f = m.f2345(*rand);
    Bytes out;
    put_lv(out, milenage::c2_sres(f.res));
    SecretBytes kc = milenage::c3_kc(f.ck, f.ik);
    put_lv(out, kc);
    return apdu::Response{std::move(out), apdu::sw::kOk};
  }

  auto autn = take_lv(d);
  if (!autn || autn->size() != milenage::kAutnLen) return sw_only(apdu::sw::kWrongData);
  if (!d.empty()) return sw_only(apdu::sw::kWrongLength);
  auto r = milenage::usim_check(m, *rand, *autn, sqn_ms);
  switch (r.status) {
    case milenage::UsimAuthStatus::MacFailure:
      return sw_only(kMacFailure);
    case milenage::UsimAuthStatus::SyncFailure: {
      Bytes out{0xDC};
      put_lv(out, r.auts);
      return apdu::Response{std::move(out), apdu::sw::kOk};
    }
    case milenage::UsimAuthStatus::Ok:
      break;
  }
  sqn_ms = milenage::sqn_to_u64(r.sqn);
  Bytes out{0xDB};
  put_lv(out, r.res);
  put_lv(out, r.ck);
  put_lv(out, r.ik);
  if (options.include_kc) {
    SecretBytes kc = milenage::c3_kc(r.ck, r.ik);
    put_lv(out, kc);
  }
  return apdu::Response{std::move(out), apdu::sw::kOk};
}

}  // namespace rsp::uicc
