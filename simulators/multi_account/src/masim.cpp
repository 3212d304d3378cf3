// The multi-account UICC (see masim.hpp): the default image, the applet
// wired to the USIM, Milenage AUTHENTICATE, the OTA card side, the state.
#include "rsp/masim/masim.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "masim_state.hpp"
#include "rsp/log.hpp"
#include "rsp/ota/envelope.hpp"
#include "rsp/ota/remote_management.hpp"
#include "rsp/ota/sms_pp_handler.hpp"
#include "rsp/tlv.hpp"
#include "rsp/uicc/image_builder.hpp"
#include "rsp/uicc/usim_milenage.hpp"

namespace rsp::masim {
namespace {

constexpr const char* kLog = "masim";
constexpr std::uint8_t kInsAuthenticate = 0x88;
constexpr std::uint16_t kUsimPathFid = 0x7FFF;

apdu::Response sw_only(std::uint16_t s) { return apdu::Response{{}, s}; }

// EF.UST (TS 31.102 4.2.8): service n is bit (n-1) mod 8 of byte (n-1)/8.
Bytes usim_service_table() {
  Bytes ust(14, 0x00);
  // n20 user PLMN selector with AcT, n33 PS domain, n42 operator PLMN
  // selector with AcT, n43 HPLMN selector with AcT, n71 EHPLMN, n85 EPS
  // mobility management information: the files this image has.
  for (int n : {20, 33, 42, 43, 71, 85}) ust[static_cast<std::size_t>(n - 1) / 8] |= static_cast<std::uint8_t>(1 << ((n - 1) % 8));
  return ust;
}

// EF.ACC (TS 31.102 4.2.15): the access class is the IMSI's last digit (TS
// 22.011 4.2); classes 0-7 in byte 2, 8-9 in byte 1.
Bytes access_class(const std::string& imsi) {
  int cls = imsi.empty() ? 0 : imsi.back() - '0';
  Bytes acc(2, 0x00);
  if (cls < 8) acc[1] = static_cast<std::uint8_t>(1 << cls);
  else acc[0] = static_cast<std::uint8_t>(1 << (cls - 8));
  return acc;
}

// EF.DIR record (TS 102 221 13.1): 61 { 4F AID, 50 label }, FF padded.
Bytes dir_record(ByteView aid, std::string_view label, std::size_t len) {
  Bytes r = tlv::make(0x61, concat(tlv::make(0x4F, aid), tlv::make(0x50, to_bytes(label))));
  r.resize(len, 0xFF);
  return r;
}

// An OTA application whose command script runs C-APDU by C-APDU through
// `run` (TS 102 226 5.1.1); RFM gets a fresh selection at the MF per script.
class ScriptApplication : public ota::RemoteApplication {
 public:
  using Runner = std::function<apdu::Response(const apdu::Command&, uicc::Selection&)>;
  explicit ScriptApplication(Runner run) : run_(std::move(run)) {}
  Bytes execute(ByteView secured_data) override {
    uicc::Selection sel;
    auto exec = [&](ByteView capdu) -> Bytes {
      try {
        return run_(apdu::Command::parse(capdu), sel).encode();
      } catch (const DecodeError&) {
        return sw_only(apdu::sw::kWrongLength).encode();
      }
    };
    return ota::encode_response_script(ota::run_command_script(secured_data, exec, ota::CommandSet::Uicc));
  }

 private:
  Runner run_;
};

// The applet as the platform sees it: after a command that switched the
// account, the REFRESH is queued, so that this command's status word
// already announces it ('91 xx').
class AppletFront : public uicc::Applet {
 public:
  AppletFront(std::shared_ptr<MultiAccountApplet> a, std::function<void()> after) : a_(std::move(a)), after_(std::move(after)) {}
  const Bytes& aid() const override { return a_->aid(); }
  apdu::Response select(std::uint8_t ch) override { return a_->select(ch); }
  apdu::Response process(const apdu::Command& c, std::uint8_t ch) override {
    apdu::Response r = a_->process(c, ch);
    after_();
    return r;
  }

 private:
  std::shared_ptr<MultiAccountApplet> a_;
  std::function<void()> after_;
};

// The card manager as the platform sees it (GP 2.3.1 9.1: the ISD is a
// selectable application). It answers on the basic channel only: its secure
// channel MACs the CLA byte, and the card manager knows one session.
class IsdFront : public uicc::Applet {
 public:
  explicit IsdFront(sim::gp::CardManager& cm) : cm_(cm) {}
  const Bytes& aid() const override { return kIsdAid; }
  apdu::Response select(std::uint8_t ch) override {
    if (ch != 0) return sw_only(apdu::sw::kLogicalChannelNotSupported);
    // The card manager's own SELECT: its FCI, and the session closed.
    return cm_.process(apdu::Command{0x00, 0xA4, 0x04, 0x00, kIsdAid, 256});
  }
  apdu::Response process(const apdu::Command& c, std::uint8_t) override { return cm_.process(c); }
  void deselect(std::uint8_t) override { cm_.reset(); }

 private:
  sim::gp::CardManager& cm_;
};

}  // namespace

struct MultiAccountSim::Impl {
  MasimConfig cfg;
  MasimState state;
  std::unique_ptr<uicc::CardImage> image;
  std::unique_ptr<uicc::Uicc> card;
  uicc::File* usim = nullptr;
  std::shared_ptr<MultiAccountApplet> applet;
  std::unique_ptr<sim::gp::CardManager> isd;
  ota::ReceivingEntity entity;
  std::unique_ptr<ota::SmsPpHandler> sms;
  bool refresh_due = false;
  std::uint8_t next_command_number = 1;

  explicit Impl(MasimConfig c) : cfg(std::move(c)) {
    state = MasimState::load(cfg.state_path, cfg.state_key, cfg.iccid);
    build_image();
    card = std::make_unique<uicc::Uicc>(*image, uicc::Uicc::Options{cfg.extra_channels, uicc::uicc_atr()});
    MultiAccountApplet::Hooks hooks;
    hooks.on_change = [this] { save(); };
    hooks.on_switch = [this](const Account& a) {
      apply(a);
      refresh_due = true;
    };
    applet = std::make_shared<MultiAccountApplet>(state.table, hooks, cfg.capacity);
    card->add_applet(std::make_shared<AppletFront>(applet, [this] { queue_refresh_if_due(); }));
    setup_card_manager();
    card->add_applet(std::make_shared<IsdFront>(*isd));
    card->add_command_hook([this](const apdu::Command& cmd, uicc::Selection& sel) { return authenticate(cmd, sel); });
    setup_ota();
    card->set_envelope_handler(ota::kTagSmsPpDownload, [this](ByteView d) { return sms_pp_download(d); });
    if (state.table.active)
      if (const Account* a = state.table.find(*state.table.active)) apply(*a);
    save();  // a state file that cannot be written is an error at start
  }

  void save() { state.save(cfg.state_path, cfg.state_key); }

  Bytes usim_aid = kUsimAid;

  void build_image() {
    if (!cfg.profile_package.empty()) {
      // The package's own file system (rsp::uicc::build_card_image); its
      // first USIM takes the accounts. Without a USIM there is nothing to
      // switch.
      image = uicc::build_card_image(cfg.profile_package);
      if (image->first_usim_aid.empty()) throw std::runtime_error("the profile package has no USIM");
      usim_aid = image->first_usim_aid;
      usim = image->fs.adf_by_aid(usim_aid);
      return;
    }
    uicc::ImageBuilder b;
    b.add_ef(b.mf(), "mf", "ef-iccid", iccid_to_bcd(cfg.iccid));
    b.add_ef(b.mf(), "mf", "ef-dir", dir_record(kUsimAid, "USIM", 38), 1, 38);
    b.add_ef(b.mf(), "mf", "ef-pl", to_bytes("en"));
    uicc::File& adf = b.add_adf(kUsimAid, true);
    b.add_ef(adf, "usim", "ef-imsi", imsi_to_ef(cfg.factory_imsi));
    b.add_ef(adf, "usim", "ef-ad", from_hex("00000002"));
    b.add_ef(adf, "usim", "ef-ust", usim_service_table());
    b.add_ef(adf, "usim", "ef-est", Bytes{0x00});
    b.add_ef(adf, "usim", "ef-acc", access_class(cfg.factory_imsi));
    b.add_ef(adf, "usim", "ef-spn");
    b.add_ef(adf, "usim", "ef-loci");
    b.add_ef(adf, "usim", "ef-psloci");
    b.add_ef(adf, "usim", "ef-epsloci");
    b.add_ef(adf, "usim", "ef-fplmn");
    b.add_ef(adf, "usim", "ef-keys");
    b.add_ef(adf, "usim", "ef-keysPS");
    b.add_ef(adf, "usim", "ef-hpplmn");
    b.add_ef(adf, "usim", "ef-start-hfn");
    b.add_ef(adf, "usim", "ef-threshold");
    b.add_ef(adf, "opt-usim", "ef-plmnwact");
    b.add_ef(adf, "opt-usim", "ef-oplmnwact");
    b.add_ef(adf, "opt-usim", "ef-hplmnwact");
    b.add_ef(adf, "opt-usim", "ef-ehplmn");
    image = b.take();
    usim = image->fs.adf_by_aid(kUsimAid);
  }

  // Rewrites an EF of ADF.USIM: `content` from the start, the rest back to
  // the template default (the file's own default pattern).
  void rewrite(std::uint16_t fid, ByteView content, std::string_view pe, std::string_view member) {
    uicc::File* f = usim->child(fid);
    if (!f) return;
    uicc::ImageBuilder scratch;
    uicc::File& fresh = scratch.add_ef(scratch.mf(), pe, member, content);
    // The file keeps its size (a package may have sized it otherwise).
    Bytes body = *fresh.content;
    body.resize(f->size(), 0xFF);
    *f->content = std::move(body);
  }

  // The account becomes the USIM's. The files a handset reads at USIM
  // initialisation (TS 31.102 5.1.1) change; the location and key files of
  // the previous subscription go back to "nothing stored" (TS 31.102 4.2.17
  // EF.LOCI: TMSI FF.., status "not updated"; 4.2.9 EF.Keys KSI 07) so the
  // handset does not present the old TMSI / GUTI with the new IMSI.
  void apply(const Account& a) {
    std::string imsi = imsi_from_ef(a.imsi);
    rewrite(0x6F07, a.imsi, "usim", "ef-imsi");
    if (a.home_plmn.size() == 3) {
      // EF.AD byte 4: length of the MNC in the IMSI (2 or 3 digits).
      if (uicc::File* ef_ad = usim->child(0x6FAD); ef_ad && ef_ad->size() >= 4) {
        Bytes ad = *ef_ad->content;
        ad[3] = (a.home_plmn[1] >> 4) == 0x0F ? 2 : 3;
        rewrite(0x6FAD, ad, "usim", "ef-ad");
      }
      // EF.HPLMNwAcT (4.2.54): the home PLMN with UTRAN, E-UTRAN and GSM.
      rewrite(0x6F62, concat(a.home_plmn, from_hex("C080")), "opt-usim", "ef-hplmnwact");
      rewrite(0x6FD9, a.home_plmn, "opt-usim", "ef-ehplmn");
    } else {
      rewrite(0x6F62, {}, "opt-usim", "ef-hplmnwact");
      rewrite(0x6FD9, {}, "opt-usim", "ef-ehplmn");
    }
    rewrite(0x6F46, a.spn, "usim", "ef-spn");
    rewrite(0x6F60, a.plmn_wact, "opt-usim", "ef-plmnwact");
    rewrite(0x6F61, a.oplmn_wact, "opt-usim", "ef-oplmnwact");
    rewrite(0x6F78, access_class(imsi), "usim", "ef-acc");
    for (auto [fid, member] : {std::pair{std::uint16_t{0x6F7E}, "ef-loci"}, {std::uint16_t{0x6F73}, "ef-psloci"},
                               {std::uint16_t{0x6FE3}, "ef-epsloci"}, {std::uint16_t{0x6F08}, "ef-keys"},
                               {std::uint16_t{0x6F09}, "ef-keysPS"}, {std::uint16_t{0x6F7B}, "ef-fplmn"}})
      rewrite(fid, {}, "usim", member);
  }

  // REFRESH, mode "NAA Initialisation and File Change Notification" (TS 102
  // 223 6.4.7 qualifier 02). The IMSI and the keys AUTHENTICATE uses
  // changed: TS 31.111 6.4.7 (after TS 31.102 5.1.1) has the terminal read
  // EF.IMSI only in the USIM initialisation procedure, so a "file change
  // notification" alone would leave it on the old IMSI; the initialisation
  // re-reads EF.IMSI, EF.AD and the PLMN selectors and makes it register
  // anew. The file list tells it which files changed; UICC reset (04) would
  // also do, but drops every application session and logical channel of
  // the card, which the switch has no reason to disturb.
  void queue_refresh_if_due() {
    if (!refresh_due) return;
    refresh_due = false;
    uicc::Refresh r;
    r.command_number = next_command_number++;
    if (next_command_number == 0xFF) next_command_number = 1;
    r.mode = uicc::RefreshMode::NaaInitialisationAndFileChange;
    for (std::uint16_t fid : {0x6F07, 0x6FAD, 0x6F46, 0x6F60, 0x6F61, 0x6F62, 0x6FD9, 0x6F78, 0x6F7E, 0x6F73, 0x6FE3,
                              0x6F08, 0x6F09, 0x6F7B})
      r.files.push_back({0x3F00, kUsimPathFid, fid});
    r.aid = usim_aid;
    card->proactive().queue(uicc::encode_refresh(r), [](const uicc::TerminalResponse& t) {
      log::info(kLog, "REFRESH terminal response: general result " + to_hex(Bytes{t.general_result}));
    });
  }

  std::optional<apdu::Response> authenticate(const apdu::Command& c, uicc::Selection& sel) {
    if (c.ins != kInsAuthenticate || (c.cla & 0x80)) return std::nullopt;
    uicc::File* adf = sel.df ? sel.df->application() : nullptr;
    if (!adf || !uicc::is_usim_aid(adf->aid)) return std::nullopt;
    const Account* a = state.table.active ? state.table.find(*state.table.active) : nullptr;
    // No account: the card core answers with the image's own AKA parameters
    // (a TS.48 package's test algorithm), or '69 85' when it has none.
    if (!a) return std::nullopt;
    uicc::MilenageKeys keys{a->ki, a->opc, a->constants};
    std::uint64_t& sqn = state.sqn_ms[a->id];
    std::uint64_t before = sqn;
    apdu::Response r = uicc::usim_authenticate_milenage(c, keys, sqn);
    if (sqn != before) save();
    return r;
  }

  // The ISD's registry starts with what the platform holds: the
  // multi-account applet's load file and its instance (SELECTABLE).
  void setup_card_manager() {
    sim::gp::CardManagerConfig c;
    c.isd_aid = kIsdAid;
    c.key_sets = cfg.gp_key_sets;
    if (!cfg.state_path.empty()) c.state_file = cfg.state_path + ".isd.json";
    sim::gp::RegistryEntry elf;
    elf.kind = sim::gp::RegistryEntry::Kind::LoadFile;
    elf.aid = kAppletLoadFileAid;
    elf.life_cycle = 0x01;  // LOADED (GP 2.3.1 11.1.1.1)
    elf.associated_sd = kIsdAid;
    elf.version = {0x01, 0x00};
    elf.modules = {kAppletAid};
    sim::gp::RegistryEntry app;
    app.kind = sim::gp::RegistryEntry::Kind::Application;
    app.aid = kAppletAid;
    app.life_cycle = 0x07;  // SELECTABLE
    app.load_file_aid = kAppletLoadFileAid;
    app.module_aid = kAppletAid;
    app.associated_sd = kIsdAid;
    c.platform_content = {elf, app};
    isd = std::make_unique<sim::gp::CardManager>(std::move(c));
  }

  void setup_ota() {
    for (const auto& k : cfg.key_sets) {
      entity.add_key_set(k);
      auto it = state.ota_counters.find(k.version);
      if (it != state.ota_counters.end()) entity.set_counter(k.version, it->second);
    }
    sms = std::make_unique<ota::SmsPpHandler>(entity);
    auto rfm = std::make_shared<ScriptApplication>(
        [this](const apdu::Command& c, uicc::Selection& sel) { return card->process_file_system(c, sel); });
    auto applet_app = std::make_shared<ScriptApplication>([this](const apdu::Command& c, uicc::Selection&) {
      // A script may open with SELECT of the applet itself, by its AID or a
      // right-truncated prefix (otad's account operations do): the TAR
      // already routes to it, so it answers as to the terminal's SELECT.
      if (c.cla == 0x00 && c.ins == 0xA4 && c.p1 == 0x04 && !c.data.empty() && c.data.size() <= kAppletAid.size() &&
          std::equal(c.data.begin(), c.data.end(), kAppletAid.begin()))
        return applet->select(0);
      return applet->process(c, 0);
    });
    sms->add_application(kRfmTar, cfg.rfm_msl, rfm);
    sms->add_application(kAppletTar, cfg.applet_msl, applet_app);
    // RAM (TS 102 226 8): the GlobalPlatform commands of the script run on
    // the ISD as already authenticated by the receiving entity.
    auto ram = std::make_shared<ota::RemoteManagementApplication>(
        [this](ByteView capdu) -> Bytes {
          try {
            return isd->process(apdu::Command::parse(capdu), sim::gp::CardManager::Origin::RemoteManagement).encode();
          } catch (const DecodeError&) {
            return sw_only(apdu::sw::kWrongLength).encode();
          }
        },
        ota::CommandSet::GlobalPlatform);
    sms->add_application(kIsdTar, cfg.ram_msl, ram);
  }

  // ENVELOPE (SMS-PP download), TS 31.111 7.1.1.2: the PoR as response data
  // (sent back in the SMS-DELIVER-REPORT) or as SMS-SUBMITs through SEND
  // SHORT MESSAGE; a REFRESH the script asked for comes after the PoR, so
  // the PoR leaves before the terminal re-initialises the USIM.
  apdu::Response sms_pp_download(ByteView data) {
    ota::SmsPpOutcome out = sms->envelope(data);
    bool counters_moved = false;
    for (const auto& k : cfg.key_sets) {
      std::uint64_t now = entity.counter(k.version);
      auto& kept = state.ota_counters[k.version];
      if (kept != now) counters_moved = true;
      kept = now;
    }
    if (counters_moved) save();
    if (out.verdict)
      log::info(kLog, "OTA packet: PoR status " + to_hex(Bytes{static_cast<std::uint8_t>(out.verdict->status)}) +
                          (out.verdict->reason.empty() ? "" : " (" + out.verdict->reason + ")"));
    if (out.sw != apdu::sw::kOk) return sw_only(out.sw);
    for (auto& t : out.sms_submits) {
      ota::SendShortMessage s;
      s.command_number = next_command_number++;
      if (next_command_number == 0xFF) next_command_number = 1;
      s.tpdu = std::move(t);
      card->proactive().queue(ota::encode_send_short_message(s), [](const uicc::TerminalResponse& tr) {
        log::info(kLog, "SEND SHORT MESSAGE terminal response: general result " + to_hex(Bytes{tr.general_result}));
      });
    }
    queue_refresh_if_due();
    return apdu::Response{std::move(out.response_data), apdu::sw::kOk};
  }
};

MultiAccountSim::MultiAccountSim(MasimConfig cfg) : impl_(std::make_unique<Impl>(std::move(cfg))) {}
MultiAccountSim::~MultiAccountSim() = default;

Bytes MultiAccountSim::transmit(ByteView command_apdu) { return impl_->card->transmit(command_apdu); }
Bytes MultiAccountSim::reset() { return impl_->card->reset(); }
uicc::Uicc& MultiAccountSim::uicc() { return *impl_->card; }
const AccountTable& MultiAccountSim::accounts() const { return impl_->state.table; }
sim::gp::CardManager& MultiAccountSim::card_manager() { return *impl_->isd; }
std::uint64_t MultiAccountSim::ota_counter(std::uint8_t key_version) const { return impl_->entity.counter(key_version); }
std::string MultiAccountSim::dump() const { return uicc::dump(impl_->image->fs); }

}  // namespace rsp::masim
