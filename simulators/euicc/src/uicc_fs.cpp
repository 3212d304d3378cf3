// The UICC side of the eUICC: the enabled profile's file system behind the
// platform layer, and the platform's command hook (the user's hook, e.g.
// Milenage AUTHENTICATE, before the card core rsp::uicc::Card).
#include "euicc_impl.hpp"
#include "rsp/log.hpp"

namespace rsp::sim {
namespace {

apdu::Response sw_only(std::uint16_t sw) { return apdu::Response{{}, sw}; }

}  // namespace

const Profile* Euicc::Impl::enabled_profile() const {
  for (const auto& p : state.profiles)
    if (p.enabled) return &p;
  return nullptr;
}

Profile* Euicc::Impl::enabled_profile() {
  for (auto& p : state.profiles)
    if (p.enabled) return &p;
  return nullptr;
}

void Euicc::Impl::uicc_refresh() {
  Profile* p = enabled_profile();
  platform->set_image(p && p->image ? *p->image : *no_profile);
}

std::optional<apdu::Response> Euicc::Impl::uicc_hook(const apdu::Command& c, uicc::Selection& sel) {
  // STORE DATA on a channel where the ISD-R is not selected (SGP.22 5.7.2:
  // ES10 goes to the ISD-R): a proprietary command without its application.
  if (c.ins == 0xE2) return sw_only((c.cla & 0x80) ? apdu::sw::kConditionsNotSatisfied : apdu::sw::kClaNotSupported);
  Profile* p = enabled_profile();
  if (hook) {
    UiccContext ctx;
    ctx.channel = c.channel();
    if (p) {
      ctx.iccid = p->iccid;
      ctx.aka_parameters = &p->aka_parameters;
      // The application whose ADF (or a DF in it) is the current DF.
      if (const uicc::File* adf = sel.df ? sel.df->application() : nullptr) ctx.selected_adf_aid = adf->aid;
      if (p->image && !ctx.selected_adf_aid.empty())
        for (auto& a : p->image->aka)
          if (a.first == ctx.selected_adf_aid) {
            ctx.sqn_ms = &a.second.sqn_ms;
            break;
          }
      if (sel.ef) ctx.selected_file_id = sel.ef->fid;
      else if (sel.df) ctx.selected_file_id = sel.df->fid;
    }
    if (auto r = hook(c, ctx)) return r;
  }
  if (!p || !p->image) return sw_only(c.ins == 0xA4 ? apdu::sw::kFileNotFound : apdu::sw::kConditionsNotSatisfied);
  return std::nullopt;
}

}  // namespace rsp::sim
