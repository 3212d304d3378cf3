// The UICC platform layer (see uicc.hpp): channels, GET RESPONSE, applets,
// CAT commands and the proactive session around the card core.
#include "rsp/uicc/uicc.hpp"

#include <algorithm>

#include "rsp/log.hpp"
#include "rsp/tlv.hpp"

namespace rsp::uicc {
namespace {

constexpr const char* kLog = "uicc";
constexpr std::uint8_t kInsManageChannel = 0x70, kInsSelect = 0xA4, kInsGetResponse = 0xC0;
constexpr std::uint8_t kInsTerminalProfile = 0x10, kInsEnvelope = 0xC2, kInsFetch = 0x12, kInsTerminalResponse = 0x14;
constexpr std::uint16_t kNoChannelAvailable = 0x6A81;  // TS 102 221 10.2.1.5: function not supported
constexpr std::uint16_t kChainingNotSupported = 0x6884;

apdu::Response sw_only(std::uint16_t s) { return apdu::Response{{}, s}; }

}  // namespace

Bytes uicc_atr() {
  // TS=3B T0=9F (TA1, TD1 follow; 15 historical bytes) TA1=96 (Fi/Di)
  // TD1=81 (T=1, TD2 follows) TD2=1F (T=15, TA3 follows) TA3=C7 (clock stop
  // allowed, classes A, B and C: TS 102 221 6.3.3), the historical bytes
  // (category 80, card service data, card capabilities: logical channels
  // assigned by the card, up to 4 (ISO 7816-4 8.1.1.2.7), status indicator)
  // and TCK, the XOR of T0..the last byte (ISO 7816-3 8.2.5, needed since
  // T=1 is offered).
  Bytes atr = from_hex("3B9F96811FC78031E073FE211B633A204E83009000");
  std::uint8_t tck = 0;
  for (std::size_t i = 1; i < atr.size(); ++i) tck ^= atr[i];
  atr.push_back(tck);
  return atr;
}

Uicc::Uicc(CardImage& image, Options options) : image_(&image), options_(std::move(options)) {
  card_.emplace(*image_, security_);
  if (options_.extra_channels < 1 || options_.extra_channels > static_cast<int>(kMaxChannels) - 1)
    options_.extra_channels = 3;
  channels_[0].open = true;
}

void Uicc::set_image(CardImage& image) {
  image_ = &image;
  card_.emplace(*image_, security_);
  security_ = SecurityStatus{};
  for (auto& ch : channels_) ch.sel = Selection{};  // process_file_system starts them at the MF
}

void Uicc::add_applet(std::shared_ptr<Applet> applet) { applets_.push_back(std::move(applet)); }
void Uicc::add_command_hook(CommandHook hook) { hooks_.push_back(std::move(hook)); }
void Uicc::set_envelope_handler(std::uint8_t tag, EnvelopeHandler handler) { envelope_handlers_[tag] = std::move(handler); }
void Uicc::on_reset(std::function<void()> f) { reset_listeners_.push_back(std::move(f)); }

Selection* Uicc::selection(std::uint8_t channel) {
  if (channel >= channels_.size() || !channels_[channel].open) return nullptr;
  return &channels_[channel].sel;
}

Bytes Uicc::reset() {
  for (std::size_t i = 0; i < channels_.size(); ++i)
    if (channels_[i].open) close(static_cast<std::uint8_t>(i));
  channels_[0].open = true;
  security_ = SecurityStatus{};
  proactive_.reset();
  terminal_profile_.clear();
  for (auto& f : reset_listeners_) f();
  return options_.atr;
}

Bytes Uicc::transmit(ByteView command_apdu) {
  apdu::Command c;
  try {
    c = apdu::Command::parse(command_apdu);
  } catch (const DecodeError& e) {
    log::debug(kLog, std::string("malformed C-APDU: ") + e.what());
    return sw_only(apdu::sw::kWrongLength).encode();
  }
  return process(c).encode();
}

apdu::Response Uicc::process(const apdu::Command& c) {
  if (c.cla == 0xFF) return sw_only(apdu::sw::kClaNotSupported);
  if (!(c.cla & 0x40) && (c.cla & 0x20)) return sw_only(apdu::sw::kClaNotSupported);  // RFU class bits
  if (!(c.cla & 0x40) && (c.cla & 0x10)) return sw_only(kChainingNotSupported);
  std::uint8_t n = c.channel();
  if (n >= channels_.size() || n > options_.extra_channels || !channels_[n].open)
    return sw_only(apdu::sw::kLogicalChannelNotSupported);
  Channel& ch = channels_[n];
  if (c.ins == kInsGetResponse) return get_response(c, ch);
  ch.pending_response.clear();
  return deliver(ch, dispatch(c, n, ch), c.le);
}

apdu::Response Uicc::dispatch(const apdu::Command& c, std::uint8_t n, Channel& ch) {
  bool proprietary = (c.cla & 0x80) != 0;
  switch (c.ins) {
    case kInsManageChannel:
      if (proprietary) return sw_only(apdu::sw::kClaNotSupported);
      return manage_channel(c);
    case kInsSelect:
      return select(c, n, ch);
    // The CAT commands (TS 102 221 10.1.2: CLA '80').
    case kInsTerminalProfile:
      if (!proprietary) break;
      if (c.p1 || c.p2) return sw_only(apdu::sw::kIncorrectP1P2);
      terminal_profile_ = c.data;
      return sw_only(apdu::sw::kOk);
    case kInsEnvelope:
      if (!proprietary) break;
      return envelope(c);
    case kInsFetch:
      if (!proprietary) break;
      return proactive_.fetch(c);
    case kInsTerminalResponse:
      if (!proprietary) break;
      return proactive_.terminal_response(c);
    default:
      break;
  }
  if (ch.applet) return ch.applet->process(c, n);
  return process_file_system(c, ch.sel);
}

apdu::Response Uicc::process_file_system(const apdu::Command& c, Selection& sel) {
  if (sel.image != image_ || !sel.df) {
    sel = Selection{};
    sel.image = image_;
    sel.df = image_->fs.mf.get();
  }
  for (auto& h : hooks_)
    if (auto r = h(c, sel)) return *r;
  return card_->process(c, sel);
}

// TS 102 221 11.1.17: P1 00 open (P2 00: the card assigns the channel and
// returns its number), P1 80 close (P2: the channel, 00 = the one in CLA).
apdu::Response Uicc::manage_channel(const apdu::Command& c) {
  std::uint8_t origin = c.channel();
  if (c.p1 == 0x00) {
    int target = c.p2;
    if (target == 0) {
      for (int i = 1; i <= options_.extra_channels; ++i)
        if (!channels_[static_cast<std::size_t>(i)].open) {
          target = i;
          break;
        }
      if (target == 0) return sw_only(kNoChannelAvailable);
    } else if (target > options_.extra_channels || channels_[static_cast<std::size_t>(target)].open) {
      return sw_only(apdu::sw::kIncorrectP1P2);
    }
    Channel& ch = channels_[static_cast<std::size_t>(target)];
    ch = Channel{};
    ch.open = true;
    // Opened from a channel other than the basic one: the new channel starts
    // with that channel's current DF and application (11.1.17.2); from the
    // basic channel, at the MF.
    if (origin != 0) ch.sel = channels_[origin].sel;
    log::debug(kLog, "opened logical channel " + std::to_string(target));
    if (c.p2 == 0) return apdu::Response{{static_cast<std::uint8_t>(target)}, apdu::sw::kOk};
    return sw_only(apdu::sw::kOk);
  }
  if (c.p1 == 0x80) {
    int target = c.p2 ? c.p2 : origin;
    if (target == 0 || target > options_.extra_channels || !channels_[static_cast<std::size_t>(target)].open)
      return sw_only(apdu::sw::kIncorrectP1P2);
    close(static_cast<std::uint8_t>(target));
    log::debug(kLog, "closed logical channel " + std::to_string(target));
    return sw_only(apdu::sw::kOk);
  }
  return sw_only(apdu::sw::kIncorrectP1P2);
}

void Uicc::deselect(std::uint8_t n, Channel& ch) {
  if (ch.applet) ch.applet->deselect(n);
  ch.applet = nullptr;
}

void Uicc::close(std::uint8_t n) {
  Channel& ch = channels_[n];
  deselect(n, ch);
  ch = Channel{};
}

// SELECT by DF name goes to an applet whose AID starts with the given bytes
// (ISO 7816-4 right truncation), before the file system's ADFs; any other
// SELECT leaves the applet for the file system.
apdu::Response Uicc::select(const apdu::Command& c, std::uint8_t n, Channel& ch) {
  if (c.cla & 0x80) return sw_only(apdu::sw::kClaNotSupported);
  if (c.p1 == 0x04 && !c.data.empty() && (c.p2 & 0x02) == 0) {
    for (const auto& a : applets_) {
      const Bytes& aid = a->aid();
      if (c.data.size() > aid.size() || !std::equal(c.data.begin(), c.data.end(), aid.begin())) continue;
      deselect(n, ch);
      apdu::Response r = a->select(n);
      if (r.sw != apdu::sw::kOk) return r;
      ch.applet = a.get();
      if ((c.p2 & 0x0C) == 0x0C) r.data.clear();  // no data requested
      return r;
    }
  }
  deselect(n, ch);
  return process_file_system(c, ch.sel);
}

// TS 102 221 11.2.2: the data field is one BER-TLV object whose tag names
// the service (TS 102 223 9.1: D1 SMS-PP download, D3 menu selection, D6
// event download ...).
apdu::Response Uicc::envelope(const apdu::Command& c) {
  if (c.p1 || c.p2) return sw_only(apdu::sw::kIncorrectP1P2);
  if (c.data.empty()) return sw_only(apdu::sw::kWrongLength);
  auto it = envelope_handlers_.find(c.data[0]);
  if (it == envelope_handlers_.end()) return sw_only(apdu::sw::kWrongData);
  return it->second(c.data);
}

// Response data go out as far as Le asks: a command without Le (case 1 or
// 3, ISO 7816-3 12.1) gets none directly but '61 xx' and the data by GET
// RESPONSE (as TS 102 221 7.3.1.1.4 has it for T=0; ENVELOPE's PoR, SELECT
// without Le); data longer than Le go as Le bytes with '61 xx' and the rest
// by GET RESPONSE. A normal ending '90 00' becomes '91 xx' while a proactive
// command waits to be fetched (TS 102 221 7.4.2.2, 10.2.1.1); with T=1 the
// response data and '91 xx' come together.
apdu::Response Uicc::deliver(Channel& ch, apdu::Response r, std::optional<std::size_t> le) {
  std::size_t max = le ? (*le == 0 ? 256 : *le) : 0;
  if (r.sw == apdu::sw::kOk && r.data.size() > max) {
    ch.pending_response.assign(r.data.begin() + static_cast<std::ptrdiff_t>(max), r.data.end());
    r.data.resize(max);
    std::size_t left = ch.pending_response.size();
    r.sw = static_cast<std::uint16_t>(0x6100 | (left >= 256 ? 0 : left));
    return r;
  }
  if (r.sw == apdu::sw::kOk)
    if (auto len = proactive_.announce()) r.sw = static_cast<std::uint16_t>(0x9100 | (*len & 0xFF));
  return r;
}

apdu::Response Uicc::get_response(const apdu::Command& c, Channel& ch) {
  if (c.cla & 0x80) return sw_only(apdu::sw::kClaNotSupported);
  if (c.p1 != 0 || c.p2 != 0) return sw_only(apdu::sw::kIncorrectP1P2);
  if (ch.pending_response.empty()) return sw_only(apdu::sw::kConditionsNotSatisfied);
  Bytes rest = std::move(ch.pending_response);
  ch.pending_response.clear();
  return deliver(ch, apdu::Response{std::move(rest), apdu::sw::kOk}, c.le.value_or(256));
}

}  // namespace rsp::uicc
