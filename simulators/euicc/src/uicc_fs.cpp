// The UICC side of the eUICC: commands that are not the ISD-R's go to the
// command hook (e.g. Milenage AUTHENTICATE), then to the card core
// (rsp::uicc::Card) over the enabled profile's file system.
#include "euicc_impl.hpp"
#include "rsp/log.hpp"

namespace rsp::sim {
namespace {

apdu::Response sw_only(std::uint16_t sw) { return apdu::Response{{}, sw}; }

// Instructions that change what the state file keeps (file contents, PIN
// and PUK values and counters).
bool changes_card(std::uint8_t ins) {
  switch (ins) {
    case 0xD6: case 0xDC: case 0x32: case 0xDB:
    case 0x20: case 0x24: case 0x26: case 0x28: case 0x2C:
      return true;
    default:
      return false;
  }
}

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
  for (auto& ch : channels) ch.fs = uicc::Selection{};
  uicc_security = uicc::SecurityStatus{};
}

apdu::Response Euicc::Impl::uicc_command(const apdu::Command& c, std::uint8_t channel, ChannelState& ch) {
  Profile* p = enabled_profile();
  if (hook) {
    UiccContext ctx;
    ctx.channel = channel;
    if (p) {
      ctx.iccid = p->iccid;
      ctx.aka_parameters = &p->aka_parameters;
    }
    if (p && ch.fs.image == p->image.get()) {
      // The application whose ADF (or a DF in it) is the current DF.
      if (const uicc::File* adf = ch.fs.df ? ch.fs.df->application() : nullptr) ctx.selected_adf_aid = adf->aid;
      if (ch.fs.ef) ctx.selected_file_id = ch.fs.ef->fid;
      else if (ch.fs.df) ctx.selected_file_id = ch.fs.df->fid;
    }
    if (auto r = hook(c, ctx)) return *r;
  }
  if (!p || !p->image) return sw_only(c.ins == 0xA4 ? apdu::sw::kFileNotFound : apdu::sw::kConditionsNotSatisfied);
  uicc::Card card(*p->image, uicc_security);
  apdu::Response r = card.process(c, ch.fs);
  if (changes_card(c.ins) && r.sw != apdu::sw::kInsNotSupported && r.sw != apdu::sw::kIncorrectP1P2) save();
  // Longer than Le (or 256): the rest waits for GET RESPONSE (61xx).
  if (r.sw == apdu::sw::kOk && !r.data.empty()) return deliver(ch, std::move(r.data), c.le);
  return r;
}

apdu::Response Euicc::Impl::uicc_select(const apdu::Command& c, ChannelState& ch) {
  return uicc_command(c, c.channel(), ch);
}

}  // namespace rsp::sim
