// USIM AUTHENTICATE (TS 31.102 7.1.2) with Milenage (TS 35.206), as a UICC
// command hook; see rsp/sim/usim_authenticate.hpp.
#include "rsp/sim/usim_authenticate.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "rsp/asn1.hpp"
#include "rsp/log.hpp"

#include <PE-AKAParameter.h>
#include <ProfileElement.h>

namespace rsp::sim {
namespace {

constexpr std::string_view kLog = "usim-auth";
constexpr std::uint8_t kInsAuthenticate = 0x88;
// RID A000000087 (3GPP) + application code 1002 (USIM), TS 101 220 Annex E.
const Bytes kUsimAidPrefix = {0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02};

apdu::Response sw_only(std::uint16_t sw) { return apdu::Response{{}, sw}; }

bool is_usim(ByteView aid) {
  return aid.size() >= kUsimAidPrefix.size() && std::equal(kUsimAidPrefix.begin(), kUsimAidPrefix.end(), aid.begin());
}

std::optional<UsimMilenageParams> from_struct(const PE_AKAParameter_t& aka) {
  if (aka.algoConfiguration.present != PE_AKAParameter__algoConfiguration_PR_algoParameter) return std::nullopt;
  const AlgoParameter_t& ap = aka.algoConfiguration.choice.algoParameter;
  if (asn1::to_int64(ap.algorithmID) != AlgoParameter__algorithmID_milenage) return std::nullopt;
  UsimMilenageParams p;
  p.k = asn1::to_bytes(ap.key);
  p.opc = asn1::to_bytes(ap.opc);
  if (p.k.size() != milenage::kKeyLen || p.opc.size() != 16) return std::nullopt;
  p.constants = milenage::Constants::from_profile(asn1::to_bytes(ap.rotationConstants), asn1::to_bytes(ap.xoringConstants));
  if (aka.sqnInit) {
    for (int i = 0; i < aka.sqnInit->list.count; ++i) {
      const OCTET_STRING_t* s = aka.sqnInit->list.array[i];
      if (s && s->size == static_cast<int>(milenage::kSqnLen))
        p.sqn_init = std::max(p.sqn_init, milenage::sqn_to_u64(asn1::view(*s)));
    }
  }
  return p;
}

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

struct HookState {
  std::mutex mu;
  std::map<std::string, std::uint64_t> sqn_ms;  // per ICCID
};

}  // namespace

std::optional<UsimMilenageParams> usim_milenage_params(ByteView der) {
  try {
    if (!der.empty() && der[0] == 0x30) {
      auto aka = RSP_ASN1_DECODE(PE_AKAParameter, der);
      return from_struct(*aka);
    }
    auto pe = RSP_ASN1_DECODE(ProfileElement, der);
    if (pe->present != ProfileElement_PR_akaParameter) return std::nullopt;
    return from_struct(pe->choice.akaParameter);
  } catch (const std::exception& e) {
    log::warn(kLog, std::string("PE-AKAParameter unusable: ") + e.what());
    return std::nullopt;
  }
}

namespace {

std::optional<apdu::Response> authenticate(HookState& state, const UsimAuthenticateOptions& options,
                                           const apdu::Command& c, const UiccContext& ctx) {
  if (c.ins != kInsAuthenticate || (c.cla & 0x80) != 0) return std::nullopt;
  if (!is_usim(ctx.selected_adf_aid)) return std::nullopt;
  if (ctx.iccid.empty() || !ctx.aka_parameters) return sw_only(apdu::sw::kConditionsNotSatisfied);
  if (c.p1 != 0x00) return sw_only(apdu::sw::kIncorrectP1P2);
  bool umts = c.p2 == 0x81;
  if (!umts && !(c.p2 == 0x80 && options.gsm_context)) return sw_only(apdu::sw::kIncorrectP1P2);

  std::optional<UsimMilenageParams> params;
  for (const Bytes& der : *ctx.aka_parameters)
    if ((params = usim_milenage_params(der))) break;
  if (!params && ctx.aka_parameters->empty()) return sw_only(apdu::sw::kConditionsNotSatisfied);
  // Another algorithm (the TS 34.108 test algorithm of the TS.48 profiles):
  // the card core answers it.
  if (!params) return std::nullopt;

  ByteView d(c.data);
  auto rand = take_lv(d);
  if (!rand || rand->size() != milenage::kRandLen) return sw_only(apdu::sw::kWrongData);
  milenage::Milenage m(params->k, params->opc, params->constants);

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

  std::lock_guard<std::mutex> lock(state.mu);
  auto it = state.sqn_ms.try_emplace(ctx.iccid, params->sqn_init).first;
  auto r = milenage::usim_check(m, *rand, *autn, it->second);
  switch (r.status) {
    case milenage::UsimAuthStatus::MacFailure:
      log::info(kLog, "AUTHENTICATE: MAC failure (ICCID " + ctx.iccid + ")");
      return sw_only(0x9862);  // TS 31.102 7.3.1: authentication error, incorrect MAC
    case milenage::UsimAuthStatus::SyncFailure: {
      log::info(kLog, "AUTHENTICATE: synchronisation failure, SQN " + to_hex(r.sqn) + " (ICCID " + ctx.iccid + ")");
      Bytes out{0xDC};
      put_lv(out, r.auts);
      return apdu::Response{std::move(out), apdu::sw::kOk};
    }
    case milenage::UsimAuthStatus::Ok:
      break;
  }
  it->second = milenage::sqn_to_u64(r.sqn);
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

}  // namespace

UiccCommandHook make_usim_authenticate_hook(UsimAuthenticateOptions options) {
  auto state = std::make_shared<HookState>();
  return [state, options](const apdu::Command& c, const UiccContext& ctx) -> std::optional<apdu::Response> {
    try {
      return authenticate(*state, options, c, ctx);
    } catch (const std::exception& e) {
      log::error(kLog, std::string("AUTHENTICATE failed: ") + e.what());
      return sw_only(apdu::sw::kNoInfo);
    }
  };
}

}  // namespace rsp::sim
