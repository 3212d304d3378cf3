// USIM AUTHENTICATE (TS 31.102 7.1.2) with Milenage (TS 35.206), as a UICC
// command hook; see rsp/sim/usim_authenticate.hpp.
#include "rsp/sim/usim_authenticate.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "rsp/asn1.hpp"
#include "rsp/log.hpp"
#include "rsp/uicc/usim_milenage.hpp"

#include <PE-AKAParameter.h>
#include <ProfileElement.h>

namespace rsp::sim {
namespace {

constexpr std::string_view kLog = "usim-auth";
constexpr std::uint8_t kInsAuthenticate = 0x88;

apdu::Response sw_only(std::uint16_t sw) { return apdu::Response{{}, sw}; }

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
  if (!uicc::is_usim_aid(ctx.selected_adf_aid)) return std::nullopt;
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

  // The Milenage part is the card core's, shared with the multi-account UICC.
  uicc::MilenageKeys keys{params->k, params->opc, params->constants};
  uicc::UsimAuthenticateOptions o;
  o.include_kc = options.include_kc;
  o.gsm_context = options.gsm_context;
  std::lock_guard<std::mutex> lock(state.mu);
  // SQNms: the card image's when it has one (kept in the eUICC state file),
  // else this hook's own (per ICCID, in memory).
  std::uint64_t& sqn_ms = ctx.sqn_ms ? *ctx.sqn_ms : state.sqn_ms.try_emplace(ctx.iccid, params->sqn_init).first->second;
  apdu::Response r = uicc::usim_authenticate_milenage(c, keys, sqn_ms, o);
  if (r.sw == 0x9862) log::info(kLog, "AUTHENTICATE: MAC failure (ICCID " + ctx.iccid + ")");
  else if (umts && r.sw == apdu::sw::kOk && !r.data.empty() && r.data[0] == 0xDC)
    log::info(kLog, "AUTHENTICATE: synchronisation failure (ICCID " + ctx.iccid + ")");
  return r;
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
