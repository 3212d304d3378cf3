// rsp::sim::Euicc: configuration, the public API, and the ISD-R as an
// application of the UICC platform layer (rsp::uicc::Uicc: logical
// channels, 61xx / GET RESPONSE, CAT commands), with GlobalPlatform STORE
// DATA block reassembly.
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

// Instructions that may change what the state file keeps: EF contents
// (UPDATE BINARY/RECORD, INCREASE, SET DATA), PIN and PUK values and
// counters (VERIFY, CHANGE, DISABLE, ENABLE, UNBLOCK), the file tree and
// life cycles (CREATE/DELETE FILE, (DE)ACTIVATE, TERMINATE DF/EF) and
// SQNms (AUTHENTICATE).
bool changes_card(std::uint8_t ins) {
  switch (ins) {
    case 0xD6: case 0xDC: case 0x32: case 0xDB:
    case 0x20: case 0x24: case 0x26: case 0x28: case 0x2C:
    case 0xE0: case 0xE4: case 0x04: case 0x44: case 0xE6: case 0xE8:
    case 0x88:
      return true;
    default:
      return false;
  }
}

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
  // A key that is not the certificate's would pass every local step and fail
  // only at the SM-DP+'s check of euiccSignature1 (SGP.22 5.6.13): say it at start.
  if (euicc_cert.curve != sk_euicc.curve() || euicc_cert.public_point != sk_euicc.public_point())
    throw std::runtime_error("the eUICC key (--key) is not the key of the eUICC certificate (--cert, " +
                             euicc_cert.subject + ")");
  certs::parse(cfg.eum_cert_der);  // must at least parse
  for (const auto& der : cfg.ci_certs_der) cis.push_back(certs::parse(der));
  if (cis.empty()) throw std::runtime_error("eUICC needs at least one trusted CI certificate");
  eid = from_hex(euicc_cert.subject_serial_number);
  if (eid.size() != 16) throw std::runtime_error("eUICC certificate subject serialNumber is not a 32-digit EID");
  if (cfg.extra_channels < 1 || cfg.extra_channels > 19) cfg.extra_channels = 3;
  atr = default_atr();
  make_platform();
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
  platform->reset();  // channels, applets and verified PINs (the ISD-R's STORE DATA sequences go with them)
  session = RspSession{};
  uicc_refresh();
}

// ---- the ISD-R on the UICC platform ------------------------------------------

// The ISD-R (SGP.22 2.2.1) as an application of the card's platform layer
// (rsp::uicc::Uicc, shared with the multi-account UICC): SELECT by its AID
// on any logical channel, then GlobalPlatform STORE DATA carrying the ES10
// commands (SGP.22 5.7.2). MANAGE CHANNEL, GET RESPONSE (61xx), the CLA
// checks and the CAT commands are the platform's; the file system of the
// enabled profile answers on every channel where the ISD-R is not selected.
class IsdrApplet : public uicc::Applet {
 public:
  explicit IsdrApplet(Euicc::Impl& impl) : impl_(impl) {}
  const Bytes& aid() const override { return kIsdrAid; }

  apdu::Response select(std::uint8_t channel) override {
    seq_[channel] = Sequence{};
    // FCI: 6F { 84 AID, A5 { 9F65 maximum length of data field in command message } }
    Bytes prop = tlv::make(0x9F65, Bytes{0xFF});
    return apdu::Response{tlv::make(0x6F, concat(tlv::make(0x84, kIsdrAid), tlv::make(0xA5, prop))), apdu::sw::kOk};
  }

  apdu::Response process(const apdu::Command& c, std::uint8_t channel) override {
    if (c.ins != 0xE2) return sw_only(apdu::sw::kInsNotSupported);
    if (!(c.cla & 0x80)) return sw_only(apdu::sw::kClaNotSupported);  // STORE DATA is proprietary class
    return store_data(c, seq_[channel]);
  }

  void deselect(std::uint8_t channel) override { seq_[channel] = Sequence{}; }

 private:
  // STORE DATA blocks of one logical channel (GP Card Spec 11.11).
  struct Sequence {
    Bytes data;
    int next_block = 0;
  };

  static apdu::Response drop(Sequence& q, std::uint16_t sw) {
    q = Sequence{};
    return sw_only(sw);
  }

  apdu::Response store_data(const apdu::Command& c, Sequence& q) {
    if (c.p1 != 0x11 && c.p1 != 0x91) return drop(q, apdu::sw::kIncorrectP1P2);
    // STORE DATA always carries data (GP Card Spec 11.11.2: Lc 01..FF): a
    // block without any, intermediate or last, is a wrong length, as a card answers.
    if (c.data.empty()) return drop(q, apdu::sw::kWrongLength);
    if (c.p2 == 0) q.data.clear();  // a new sequence; drop any unfinished one
    else if (c.p2 != q.next_block) return drop(q, apdu::sw::kIncorrectP1P2);
    if (q.data.size() + c.data.size() > kMaxStoreData) return drop(q, apdu::sw::kWrongData);
    append(q.data, c.data);
    if (c.p1 == 0x11) {
      q.next_block = c.p2 + 1;
      if (q.next_block > 0xFF) return drop(q, apdu::sw::kIncorrectP1P2);
      return sw_only(apdu::sw::kOk);
    }
    Bytes request = std::move(q.data);
    q = Sequence{};
    Bytes response;
    try {
      response = impl_.es10(request);
    } catch (const DecodeError& e) {
      log::warn(kLog, std::string("ES10 command does not decode: ") + e.what());
      return sw_only(apdu::sw::kWrongData);
    } catch (const std::exception& e) {
      log::error(kLog, std::string("ES10 command failed: ") + e.what());
      return sw_only(apdu::sw::kNoInfo);
    }
    return apdu::Response{std::move(response), apdu::sw::kOk};
  }

  Euicc::Impl& impl_;
  std::array<Sequence, uicc::Uicc::kMaxChannels> seq_{};
};

void Euicc::Impl::make_platform() {
  no_profile = std::make_unique<uicc::CardImage>();
  no_profile->fs.mf = std::make_unique<uicc::File>();
  no_profile->fs.mf->type = uicc::FileType::Mf;
  no_profile->fs.mf->fid = 0x3F00;
  platform = std::make_unique<uicc::Uicc>(*no_profile, uicc::Uicc::Options{cfg.extra_channels, atr});
  platform->add_applet(std::make_shared<IsdrApplet>(*this));
  platform->add_command_hook(
      [this](const apdu::Command& c, uicc::Selection& sel) { return uicc_hook(c, sel); });
}

// ---- public API ----------------------------------------------------------------

Euicc::Euicc(EuiccConfig cfg) : impl_(std::make_unique<Impl>(std::move(cfg))) {}
Euicc::~Euicc() = default;

Bytes Euicc::transmit(ByteView command_apdu) {
  std::lock_guard lock(impl_->mu);
  apdu::Response r;
  try {
    auto c = apdu::Command::parse(command_apdu);
    r = impl_->platform->process(c);
    // A change the state file keeps (file contents and structure, PIN
    // counters, SQNms): written before the answer goes out.
    if (changes_card(c.ins) && r.sw != apdu::sw::kInsNotSupported && r.sw != apdu::sw::kClaNotSupported &&
        r.sw != apdu::sw::kIncorrectP1P2)
      impl_->save();
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
