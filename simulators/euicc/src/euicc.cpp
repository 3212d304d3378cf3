// rsp::sim::Euicc: configuration, the public API, and the APDU layer
// (ISO 7816-4 logical channels, SELECT of the ISD-R, GlobalPlatform STORE
// DATA block reassembly, 61xx / GET RESPONSE).
#include <fstream>
#include <iterator>

#include "euicc_impl.hpp"
#include "rsp/log.hpp"
#include "rsp/tlv.hpp"
#include "rsp/uicc/uicc.hpp"

namespace rsp::sim {
namespace {

constexpr const char* kLog = "euicc";
constexpr std::size_t kMaxStoreData = 256 * 1024;

Bytes read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

apdu::Response sw_only(std::uint16_t sw) { return apdu::Response{{}, sw}; }

}  // namespace

// The UICC platform's ATR (rsp/uicc/uicc.hpp: T=1 and T=15, TCK), one for
// every simulated card. T=1, not T=0: the card answers a command's data in
// the same exchange (ISO 7816-3 T=1), as the APDU layer does; T=0 would want
// every case-4 answer as 61xx and GET RESPONSE (issue 15). 61xx stays for
// answers longer than Le.
Bytes default_atr() { return uicc::uicc_atr(); }

std::string iccid_digits(ByteView bcd) {
  // Swapped nibbles, low nibble first; lossless (a non-decimal nibble shows
  // as a hex letter), trailing F padding dropped.
  static const char* hex = "0123456789ABCDEF";
  std::string s;
  for (auto b : bcd) {
    s.push_back(hex[b & 0x0F]);
    s.push_back(hex[b >> 4]);
  }
  while (!s.empty() && s.back() == 'F') s.pop_back();
  return s;
}

Bytes iccid_bcd(std::string_view digits) {
  Bytes out((digits.size() + 1) / 2, 0xFF);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    char c = digits[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) throw DecodeError("ICCID must be hex digits");
    auto& byte = out[i / 2];
    byte = (i % 2 == 0) ? static_cast<std::uint8_t>((byte & 0xF0) | d) : static_cast<std::uint8_t>((byte & 0x0F) | (d << 4));
  }
  if (out.size() < 10) out.resize(10, 0xFF);
  return out;
}

EuiccConfig EuiccConfig::from_files(const std::string& euicc_cert, const std::string& euicc_key, const std::string& eum_cert,
                                    const std::vector<std::string>& ci_certs, const std::string& state_path) {
  EuiccConfig c;
  c.euicc_cert_der = read_whole(euicc_cert);
  c.euicc_key = read_whole(euicc_key);
  c.eum_cert_der = read_whole(eum_cert);
  for (const auto& f : ci_certs) c.ci_certs_der.push_back(read_whole(f));
  c.state_path = state_path;
  return c;
}

Euicc::Impl::Impl(EuiccConfig c) : cfg(std::move(c)) {
  sk_euicc = crypto::EcKey::from_pem_or_der(cfg.euicc_key);
  if (!sk_euicc.has_private()) throw std::runtime_error("eUICC key has no private part");
  euicc_cert = certs::parse(cfg.euicc_cert_der);
  certs::parse(cfg.eum_cert_der);  // must at least parse
  for (const auto& der : cfg.ci_certs_der) cis.push_back(certs::parse(der));
  if (cis.empty()) throw std::runtime_error("eUICC needs at least one trusted CI certificate");
  eid = from_hex(euicc_cert.subject_serial_number);
  if (eid.size() != 16) throw std::runtime_error("eUICC certificate subject serialNumber is not a 32-digit EID");
  if (cfg.extra_channels < 1 || cfg.extra_channels > 19) cfg.extra_channels = 3;
  atr = default_atr();
  state = State::load(cfg.state_path);
  restore_crls();
  if (!state.default_dp_address && !cfg.initial_default_dp_address.empty())
    state.default_dp_address = cfg.initial_default_dp_address;
  // The RAT is set once, as at manufacturing (SGP.22 2.9.2), and kept in the state.
  if (state.rat_der.empty()) state.rat_der = cfg.rat_der.empty() ? default_rat_der() : cfg.rat_der;
  // Created (or rewritten) now: a state file that cannot be written is an
  // error at start, not at the first profile installed.
  state.save(cfg.state_path);
  reset_volatile();
}

void Euicc::Impl::save() {
  try {
    state.save(cfg.state_path);
  } catch (const std::runtime_error& e) {
    if (cfg.on_state_write_error) cfg.on_state_write_error(e.what());
    throw;
  }
}

void Euicc::Impl::reset_volatile() {
  for (auto& ch : channels) ch = ChannelState{};
  channels[0].open = true;
  uicc_security = uicc::SecurityStatus{};
  session = RspSession{};
}

// ---- dispatcher --------------------------------------------------------------

apdu::Response Euicc::Impl::dispatch(const apdu::Command& c) {
  if (c.cla == 0xFF) return sw_only(apdu::sw::kClaNotSupported);
  if (!(c.cla & 0x40) && (c.cla & 0x20)) return sw_only(apdu::sw::kClaNotSupported);  // RFU class bits
  if (c.cla & 0x10) return sw_only(0x6884);  // command chaining not supported
  std::uint8_t n = c.channel();
  if (n >= channels.size() || !channels[n].open) return sw_only(apdu::sw::kLogicalChannelNotSupported);
  ChannelState& ch = channels[n];
  if (c.ins != 0xC0) ch.pending_response.clear();
  bool proprietary = (c.cla & 0x80) != 0;
  switch (c.ins) {
    case 0x70:
      if (proprietary) return sw_only(apdu::sw::kClaNotSupported);
      return manage_channel(c);
    case 0xA4:
      return select(c, ch);
    case 0xC0:
      return get_response(c, ch);
    case 0xE2:
      if (!proprietary) return sw_only(apdu::sw::kClaNotSupported);
      if (!ch.isdr_selected) return sw_only(apdu::sw::kConditionsNotSatisfied);
      return store_data(c, ch);
    default:
      break;
  }
  if (ch.isdr_selected) return sw_only(apdu::sw::kInsNotSupported);
  return uicc_command(c, n, ch);
}

apdu::Response Euicc::Impl::manage_channel(const apdu::Command& c) {
  std::uint8_t origin = c.channel();
  if (c.p1 == 0x00) {  // open
    int target = c.p2;
    if (target == 0) {
      for (int i = 1; i <= cfg.extra_channels; ++i)
        if (!channels[static_cast<std::size_t>(i)].open) {
          target = i;
          break;
        }
      if (target == 0) return sw_only(0x6A81);  // no channel available
    } else if (target > cfg.extra_channels || channels[static_cast<std::size_t>(target)].open) {
      return sw_only(apdu::sw::kIncorrectP1P2);
    }
    ChannelState& ch = channels[static_cast<std::size_t>(target)];
    ch = ChannelState{};
    ch.open = true;
    // Opened from a channel other than the basic one: inherit its selection.
    if (origin != 0) {
      ch.isdr_selected = channels[origin].isdr_selected;
      ch.fs = channels[origin].fs;
    }
    log::debug(kLog, "opened logical channel " + std::to_string(target));
    if (c.p2 == 0) return apdu::Response{{static_cast<std::uint8_t>(target)}, apdu::sw::kOk};
    return sw_only(apdu::sw::kOk);
  }
  if (c.p1 == 0x80) {  // close
    int target = c.p2 ? c.p2 : origin;
    if (target == 0 || target >= static_cast<int>(channels.size()) || !channels[static_cast<std::size_t>(target)].open)
      return sw_only(apdu::sw::kIncorrectP1P2);
    channels[static_cast<std::size_t>(target)] = ChannelState{};
    log::debug(kLog, "closed logical channel " + std::to_string(target));
    return sw_only(apdu::sw::kOk);
  }
  return sw_only(apdu::sw::kIncorrectP1P2);
}

apdu::Response Euicc::Impl::select(const apdu::Command& c, ChannelState& ch) {
  if (c.p1 == 0x04 && !c.data.empty() && c.data.size() <= kIsdrAid.size() &&
      std::equal(c.data.begin(), c.data.end(), kIsdrAid.begin()) && c.data.size() >= 9) {
    // ISD-R, by full AID or a right-truncated one (ISO 7816-4 partial DF name).
    if ((c.p2 & 0x02) != 0) return sw_only(apdu::sw::kFileNotFound);  // next occurrence: only one ISD-R
    ch.isdr_selected = true;
    ch.store_data.clear();
    ch.next_block = 0;
    if ((c.p2 & 0x0C) == 0x0C) return sw_only(apdu::sw::kOk);
    // FCI: 6F { 84 AID, A5 { 9F65 maximum length of data field in command message } }
    Bytes prop = tlv::make(0x9F65, Bytes{0xFF});
    Bytes fci = tlv::make(0x6F, concat(tlv::make(0x84, kIsdrAid), tlv::make(0xA5, prop)));
    return deliver(ch, fci, c.le);
  }
  if (c.cla & 0x80) return sw_only(apdu::sw::kClaNotSupported);
  ch.isdr_selected = false;
  return uicc_select(c, ch);
}

apdu::Response Euicc::Impl::deliver(ChannelState& ch, Bytes data, std::optional<std::size_t> le) {
  std::size_t max = le.value_or(256);
  if (data.size() <= max) return apdu::Response{std::move(data), apdu::sw::kOk};
  apdu::Response r;
  r.data.assign(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(max));
  ch.pending_response.assign(data.begin() + static_cast<std::ptrdiff_t>(max), data.end());
  std::size_t left = ch.pending_response.size();
  r.sw = static_cast<std::uint16_t>(0x6100 | (left >= 256 ? 0 : left));
  return r;
}

apdu::Response Euicc::Impl::get_response(const apdu::Command& c, ChannelState& ch) {
  if (c.p1 != 0 || c.p2 != 0) return sw_only(apdu::sw::kIncorrectP1P2);
  if (ch.pending_response.empty()) return sw_only(apdu::sw::kConditionsNotSatisfied);
  Bytes rest = std::move(ch.pending_response);
  ch.pending_response.clear();
  return deliver(ch, std::move(rest), c.le);
}

apdu::Response Euicc::Impl::store_data(const apdu::Command& c, ChannelState& ch) {
  if (c.p1 != 0x11 && c.p1 != 0x91) {
    ch.store_data.clear();
    ch.next_block = 0;
    return sw_only(apdu::sw::kIncorrectP1P2);
  }
  // STORE DATA always carries data (GP Card Spec 11.11.2: Lc 01..FF): a block
  // without any, intermediate or last, is a wrong length, as a card answers.
  if (c.data.empty()) {
    ch.store_data.clear();
    ch.next_block = 0;
    return sw_only(apdu::sw::kWrongLength);
  }
  if (c.p2 == 0) {
    ch.store_data.clear();  // a new sequence; drop any unfinished one
  } else if (c.p2 != ch.next_block) {
    ch.store_data.clear();
    ch.next_block = 0;
    return sw_only(apdu::sw::kIncorrectP1P2);
  }
  if (ch.store_data.size() + c.data.size() > kMaxStoreData) {
    ch.store_data.clear();
    ch.next_block = 0;
    return sw_only(apdu::sw::kWrongData);
  }
  append(ch.store_data, c.data);
  if (c.p1 == 0x11) {
    ch.next_block = c.p2 + 1;
    if (ch.next_block > 0xFF) {
      ch.store_data.clear();
      ch.next_block = 0;
      return sw_only(apdu::sw::kIncorrectP1P2);
    }
    return sw_only(apdu::sw::kOk);
  }
  Bytes request = std::move(ch.store_data);
  ch.store_data.clear();
  ch.next_block = 0;
  if (request.empty()) return sw_only(apdu::sw::kWrongData);
  Bytes response;
  try {
    response = es10(request);
  } catch (const DecodeError& e) {
    log::warn(kLog, std::string("ES10 command does not decode: ") + e.what());
    return sw_only(apdu::sw::kWrongData);
  } catch (const std::exception& e) {
    log::error(kLog, std::string("ES10 command failed: ") + e.what());
    return sw_only(apdu::sw::kNoInfo);
  }
  if (response.empty()) return sw_only(apdu::sw::kOk);
  return deliver(ch, std::move(response), c.le);
}

// ---- public API ----------------------------------------------------------------

Euicc::Euicc(EuiccConfig cfg) : impl_(std::make_unique<Impl>(std::move(cfg))) {}
Euicc::~Euicc() = default;

Bytes Euicc::transmit(ByteView command_apdu) {
  std::lock_guard lock(impl_->mu);
  apdu::Response r;
  try {
    auto c = apdu::Command::parse(command_apdu);
    r = impl_->dispatch(c);
  } catch (const DecodeError&) {
    r = sw_only(command_apdu.size() < 4 ? apdu::sw::kWrongLength : apdu::sw::kWrongLength);
  } catch (const std::exception& e) {
    log::error(kLog, std::string("internal error: ") + e.what());
    r = sw_only(apdu::sw::kNoInfo);
  }
  return r.encode();
}

Bytes Euicc::reset() {
  std::lock_guard lock(impl_->mu);
  impl_->reset_volatile();
  return impl_->atr;
}

Bytes Euicc::eid() const { return impl_->eid; }
std::string Euicc::eid_hex() const { return to_hex(impl_->eid, true); }

std::vector<ProfileSummary> Euicc::profiles() const {
  std::lock_guard lock(impl_->mu);
  std::vector<ProfileSummary> out;
  for (const auto& p : impl_->state.profiles)
    out.push_back({p.iccid, p.isdp_aid, p.enabled, p.nickname, p.service_provider_name, p.profile_name, p.profile_class,
                   p.usim_aid, profile_policy_rules(p)});
  return out;
}

std::vector<NotificationSummary> Euicc::notifications() const {
  std::lock_guard lock(impl_->mu);
  std::vector<NotificationSummary> out;
  for (const auto& n : impl_->state.notifications) out.push_back({n.seq, n.op, n.address, n.iccid});
  return out;
}

std::optional<std::string> Euicc::default_dp_address() const {
  std::lock_guard lock(impl_->mu);
  return impl_->state.default_dp_address;
}

std::optional<Bytes> Euicc::read_file(const std::vector<std::uint16_t>& path) const {
  std::lock_guard lock(impl_->mu);
  const Profile* p = static_cast<const Impl&>(*impl_).enabled_profile();
  if (!p || !p->image || path.empty()) return std::nullopt;
  const uicc::FileSystem& fs = p->image->fs;
  const uicc::File* f = fs.resolve(path, p->usim_aid.empty() ? nullptr : fs.adf_by_aid(p->usim_aid));
  if (!f || f->is_df() || !f->content) return std::nullopt;
  return *f->content;
}

std::string Euicc::dump_file_system() const {
  std::lock_guard lock(impl_->mu);
  const Profile* p = static_cast<const Impl&>(*impl_).enabled_profile();
  return p && p->image ? uicc::dump(p->image->fs) : std::string();
}

std::string dump_profiles(const std::string& state_path, const std::string& iccid) {
  if (state_path.empty()) throw std::runtime_error("no state file");
  State st = State::load(state_path);
  std::string out;
  for (const auto& p : st.profiles) {
    if (!iccid.empty() && p.iccid != iccid) continue;
    out += "profile " + p.iccid + (p.enabled ? " (enabled)" : " (disabled)") + "\n";
    if (p.image) out += uicc::dump(p.image->fs);
  }
  return out;
}

void Euicc::set_uicc_command_hook(UiccCommandHook hook) {
  std::lock_guard lock(impl_->mu);
  impl_->hook = std::move(hook);
}

}  // namespace rsp::sim
