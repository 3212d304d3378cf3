// The multi-account UICC (see masim.hpp): the default image, the applet
// wired to the USIM, Milenage AUTHENTICATE, the OTA card side, the state.
#include "rsp/masim/masim.hpp"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "masim_state.hpp"
#include "rsp/admin_agent/admin_agent.hpp"
#include "rsp/log.hpp"
#include "rsp/ota/envelope.hpp"
#include "rsp/ota/remote_management.hpp"
#include "rsp/ota/scp81_trigger.hpp"
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
// already announces it ('91 xx'). `refusal` is the card manager's word on
// the instance (0: SELECTABLE and not locked): without an instance SELECT
// answers '6A 82' as for any AID the card lacks; INSTALLED or LOCKED '69 99'
// (GP 2.3.1 11.1.1.2: only a SELECTABLE, unlocked application is selected).
class AppletFront : public uicc::Applet {
 public:
  AppletFront(std::shared_ptr<MultiAccountApplet> a, std::function<void()> after, std::function<std::uint16_t()> refusal)
      : a_(std::move(a)), after_(std::move(after)), refusal_(std::move(refusal)) {}
  const Bytes& aid() const override { return a_->aid(); }
  apdu::Response select(std::uint8_t ch) override {
    if (std::uint16_t r = refusal_()) return sw_only(r);
    return a_->select(ch);
  }
  apdu::Response process(const apdu::Command& c, std::uint8_t ch) override {
    // Deleted or locked while selected on this channel.
    if (refusal_()) return sw_only(apdu::sw::kConditionsNotSatisfied);
    apdu::Response r = a_->process(c, ch);
    after_();
    return r;
  }

 private:
  std::shared_ptr<MultiAccountApplet> a_;
  std::function<void()> after_;
  std::function<std::uint16_t()> refusal_;
};

// The applet's instance as the card manager holds it (its registry entry's
// code): made by INSTALL [for install] of module F05253504D4101 or at
// start, destroyed by DELETE. `gone` closes the instance's TAR.
class AppletInstance : public sim::gp::Applet {
 public:
  AppletInstance(std::function<apdu::Response(const apdu::Command&)> run, std::function<void()> gone)
      : run_(std::move(run)), gone_(std::move(gone)) {}
  ~AppletInstance() override { gone_(); }
  apdu::Response process(const apdu::Command& c) override { return run_(c); }

 private:
  std::function<apdu::Response(const apdu::Command&)> run_;
  std::function<void()> gone_;
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

// The ISD's TAR takes two kinds of secured data: a RAM command script (TS
// 102 226 8) and the SCP81 push (GlobalPlatform Amendment B 3.6: the
// administration session triggering parameters, tag '81'). They are told
// apart by the first byte: an expanded script starts with its Command
// Scripting template 'AA'/'AE', a compact one with the CLA of its first
// C-APDU, which for RAM is '80' or '84' (GP 2.3.1 11.1.4); '81' would be a
// proprietary CLA on logical channel 1, which a script over SMS has no use
// for. docs/ota.md lists this among the things not certain.
class IsdTarApplication : public ota::RemoteApplication {
 public:
  IsdTarApplication(std::shared_ptr<ota::RemoteApplication> ram, std::function<Bytes(ByteView)> trigger)
      : ram_(std::move(ram)), trigger_(std::move(trigger)) {}
  Bytes execute(ByteView d) override {
    if (!d.empty() && d[0] == ota::scp81::kTagTriggeringParameters) return trigger_(d);
    return ram_->execute(d);
  }

 private:
  std::shared_ptr<ota::RemoteApplication> ram_;
  std::function<Bytes(ByteView)> trigger_;
};

std::string upper(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

// X-Admin-Targeted-Application of an AID: "//aid/<RID>/<PIX>" (Amendment B 3.4.2).
std::string targeted_name(ByteView aid) {
  return "//AID/" + upper(to_hex(aid.first(5))) + "/" + upper(to_hex(aid.subspan(5)));
}

// The CLA of a command on logical channel `ch` (TS 102 221 10.1.1): 1-3 in
// b2b1 of the first interindustry / proprietary coding, 4-19 in the
// further coding (b7 set, channel - 4 in b4..b1).
std::uint8_t on_channel(std::uint8_t cla, std::uint8_t ch) {
  if (ch < 4) return static_cast<std::uint8_t>((cla & 0xBC) | ch);
  return static_cast<std::uint8_t>((cla & 0x80) | 0x40 | ((cla & 0x10)) | (ch - 4));
}

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

  // One APDU at a time: the terminal's (transmit) and the admin agent's.
  std::mutex card_mu;
  // The admin agent: one session at a time, on its own thread.
  mutable std::mutex agent_mu;
  mutable std::condition_variable agent_cv;
  bool agent_running = false;
  AdminSessions agent_stats;
  std::thread agent_thread;

  // The applet's TAR is open (an instance exists); the card is going away
  // (the instance's destruction then is no DELETE).
  bool applet_wired = false;
  bool closing = false;
  std::shared_ptr<ota::RemoteApplication> applet_tar_app;

  ~Impl() {
    if (agent_thread.joinable()) agent_thread.join();
    closing = true;
    isd.reset();
  }

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
    card->add_applet(std::make_shared<AppletFront>(applet, [this] { queue_refresh_if_due(); },
                                                   [this] { return applet_refusal(); }));
    setup_card_manager();
    card->add_applet(std::make_shared<IsdFront>(*isd));
    card->add_command_hook([this](const apdu::Command& cmd, uicc::Selection& sel) { return authenticate(cmd, sel); });
    setup_ota();
    register_applet_module();
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
  // multi-account applet's load file and (unless `applet_instance` is
  // false) its instance, SELECTABLE.
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
    c.platform_content = {elf};
    if (cfg.applet_instance) c.platform_content.push_back(app);
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
          std::equal(c.data.begin(), c.data.end(), kAppletAid.begin())) {
        if (std::uint16_t r = applet_refusal()) return sw_only(r);  // INSTALLED or LOCKED: 69 99
        return applet->select(0);
      }
      if (applet_refusal()) return sw_only(apdu::sw::kConditionsNotSatisfied);
      return applet->process(c, 0);
    });
    sms->add_application(kRfmTar, cfg.rfm_msl, rfm);
    applet_tar_app = applet_app;  // TAR 4D4153 opens with the instance (register_applet_module)
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
    sms->add_application(kIsdTar, cfg.ram_msl, std::make_shared<IsdTarApplication>(ram, [this](ByteView d) {
                           return on_trigger(d);
                         }));
  }

  // ---- the applet's instance (GP 2.3.1 9.3 / 11.5) -------------------------

  // The card manager's word on the instance for SELECT (see AppletFront).
  std::uint16_t applet_refusal() const {
    const sim::gp::RegistryEntry* e = isd ? isd->find(kAppletAid) : nullptr;
    if (!e || !applet_wired) return apdu::sw::kFileNotFound;
    if ((e->life_cycle & 0x80) || (e->life_cycle & 0x07) != 0x07) return 0x6999;
    return 0;
  }

  // The native code behind module F05253504D4101: the card manager calls
  // this for an INSTALL [for install] of it (and for an instance already in
  // its registry at start). The account table, the USIM hooks and TAR
  // 4D4153 are the card's, bound to the applet's own AID: an instance under
  // another AID is a registry entry only (the card manager's inert
  // application: neither SELECT nor a TAR reach it).
  void register_applet_module() {
    isd->register_native(kAppletAid, [this](ByteView instance_aid, ByteView) -> std::unique_ptr<sim::gp::Applet> {
      if (!std::equal(instance_aid.begin(), instance_aid.end(), kAppletAid.begin(), kAppletAid.end()))
        return std::make_unique<AppletInstance>([](const apdu::Command&) { return sw_only(apdu::sw::kInsNotSupported); },
                                                [] {});
      if (!applet_wired) {
        sms->add_application(kAppletTar, cfg.applet_msl, applet_tar_app);
        applet_wired = true;
        log::info(kLog, "multi-account applet instance made: TAR 4D4153 open");
      }
      return std::make_unique<AppletInstance>([this](const apdu::Command& c) { return applet->process(c, 0); },
                                              [this] { applet_deleted(); });
    });
  }

  // DELETE of the instance (or of its load file with related objects): the
  // TAR is unknown again (PoR 09) and, as for any deleted Java Card applet,
  // its data goes with it (GP 2.3.1 11.2.2.1): the accounts. The USIM's
  // files keep what the last switch wrote.
  void applet_deleted() {
    if (closing || !applet_wired) return;
    sms->remove_application(kAppletTar);
    applet_wired = false;
    state.table = AccountTable{};
    save();
    log::info(kLog, "multi-account applet instance deleted: TAR 4D4153 closed, accounts gone");
  }

  // ---- SCP81 ---------------------------------------------------------------

  admin_agent::AdminAgentConfig stored_agent_config() const {
    const MasimScp81& s = *cfg.scp81;
    admin_agent::AdminAgentConfig c;
    c.server_host = s.server_host;
    c.server_port = s.server_port;
    c.admin_uri = s.admin_uri;
    c.admin_from = s.admin_from.empty() ? "//se-id/iccid/" + cfg.iccid : s.admin_from;
    c.psk_identity = s.psk_identity;
    c.psk = s.psk;
    c.timeout = s.timeout;
    return c;
  }

  // The push SMS's secured data, under card_mu (inside the ENVELOPE): the
  // session starts on a thread of its own so that the ENVELOPE answers at
  // once (its PoR goes back while the session runs). No PoR data: the
  // session's outcome travels over HTTPS.
  Bytes on_trigger(ByteView d) {
    if (!cfg.scp81) {
      log::warn(kLog, "SCP81 trigger ignored: this card has no SCP81 parameters");
      return {};
    }
    admin_agent::AdminAgentConfig ac;
    try {
      ota::scp81::TriggeringParameters t = ota::scp81::decode_triggering_parameters(d);
      // The trigger names the PSK by key version and id (Amendment B
      // 3.8.2); the card has the one it was given.
      if (t.security && (t.security->key_version != cfg.scp81->key_version || t.security->key_id != cfg.scp81->key_id)) {
        log::warn(kLog, "SCP81 trigger refused: it names PSK key version " + to_hex(Bytes{t.security->key_version}) +
                            " id " + to_hex(Bytes{t.security->key_id}) + ", the card has another");
        std::lock_guard l(agent_mu);
        ++agent_stats.refused;
        return {};
      }
      ac = admin_agent::agent_config_from_trigger(t, stored_agent_config());
    } catch (const std::exception& e) {
      log::warn(kLog, std::string("SCP81 trigger not usable: ") + e.what());
      std::lock_guard l(agent_mu);
      ++agent_stats.refused;
      return {};
    }
    if (ac.server_port == 0) {
      log::warn(kLog, "SCP81 trigger refused: no server port in the trigger nor in the card");
      std::lock_guard l(agent_mu);
      ++agent_stats.refused;
      return {};
    }
    {
      std::lock_guard l(agent_mu);
      if (agent_running) {
        log::warn(kLog, "SCP81 trigger refused: an admin session is running (one at a time)");
        ++agent_stats.refused;
        return {};
      }
      agent_running = true;
      ++agent_stats.started;
    }
    // A logical channel of the agent's own (TS 102 221 11.1.17 MANAGE
    // CHANNEL open), opened here, inside the ENVELOPE: the basic channel is
    // the terminal's, and a command on it between the ENVELOPE's '61 xx' and
    // the terminal's GET RESPONSE would lose the PoR.
    Bytes opened = card->transmit(from_hex("0070000001"));
    if (opened.size() != 3 || (opened[1] != 0x90 && opened[1] != 0x91)) {
      log::warn(kLog, "SCP81 trigger refused: no logical channel free for the admin agent");
      std::lock_guard l(agent_mu);
      agent_running = false;
      --agent_stats.started;
      ++agent_stats.refused;
      return {};
    }
    if (agent_thread.joinable()) agent_thread.join();  // the previous session's thread, ended
    log::info(kLog, "SCP81 trigger: admin session to " + ac.server_host + ":" + std::to_string(ac.server_port));
    agent_thread = std::thread([this, ac, ch = opened[0]] { run_agent(ac, ch); });
    return {};
  }

  // Closed on the channel itself, not from the basic channel (see above).
  void close_channel(std::uint8_t ch) {
    std::lock_guard l(card_mu);
    card->transmit(Bytes{on_channel(0x00, ch), 0x70, 0x80, ch});
  }

  // One C-APDU of an admin session's script. RFM and the applet: through
  // the card's own processing on the agent's channel, with the GET RESPONSE
  // a terminal would send after '61 xx'; '91 xx' (the REFRESH a switch
  // queued) is the terminal interface's business, the command itself ended
  // '90 00'. The ISD answers on the basic channel only (its secure channel):
  // its scripts run as RAM does from an SMS (the PSK-TLS session stands in
  // for the secure channel, Amendment B 2.2).
  Bytes agent_apdu(ByteView capdu, const std::string& target, std::uint8_t ch) {
    std::lock_guard l(card_mu);
    if (target == targeted_name(kIsdAid)) {
      try {
        return isd->process(apdu::Command::parse(capdu), sim::gp::CardManager::Origin::RemoteManagement).encode();
      } catch (const DecodeError&) {
        return sw_only(apdu::sw::kWrongLength).encode();
      }
    }
    if (capdu.size() < 4) return sw_only(apdu::sw::kWrongLength).encode();
    Bytes c(capdu.begin(), capdu.end());
    c[0] = on_channel(c[0], ch);
    Bytes r = card->transmit(c);
    if (r.size() >= 2 && r[r.size() - 2] == 0x61) {
      Bytes data(r.begin(), r.end() - 2);
      Bytes more = card->transmit(Bytes{on_channel(0x00, ch), 0xC0, 0x00, 0x00, r.back()});
      r = concat(data, more);
    }
    if (r.size() >= 2 && r[r.size() - 2] == 0x91) {
      r[r.size() - 2] = 0x90;
      r.back() = 0x00;
    }
    // The switch queued its REFRESH (AppletFront): the terminal fetches it
    // at its next command or status poll.
    return r;
  }

  void run_agent(admin_agent::AdminAgentConfig ac, std::uint8_t channel) {
    std::string target;
    const std::string applet_target = targeted_name(kAppletAid), isd_target = targeted_name(kIsdAid);
    ac.check_target = [&](const std::string& t) -> std::optional<ota::scp81::ScriptStatus> {
      std::string u = upper(t);
      if (u == applet_target) {
        // Amendment B 3.4.2: an application the card does not hold (no
        // instance yet, or deleted) is an unknown application.
        std::lock_guard l(card_mu);
        if (!applet_wired) return ota::scp81::ScriptStatus::UnknownApplication;
        return std::nullopt;
      }
      if (u == isd_target) return std::nullopt;
      return ota::scp81::ScriptStatus::UnknownApplication;
    };
    ac.on_script = [&](const std::string& t) { target = upper(t); };
    bool completed = false;
    try {
      admin_agent::AgentResult r =
          admin_agent::AdminAgent(ac).run([&](ByteView capdu) { return agent_apdu(capdu, target, channel); });
      completed = r.completed;
      log::info(kLog, "SCP81 admin session ended: " + std::to_string(r.rounds) + " script(s) run (" + r.suite + ")");
    } catch (const std::exception& e) {
      log::warn(kLog, std::string("SCP81 admin session failed: ") + e.what());
    }
    close_channel(channel);
    {
      std::lock_guard l(agent_mu);
      agent_running = false;
      ++(completed ? agent_stats.completed : agent_stats.failed);
    }
    agent_cv.notify_all();
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

Bytes MultiAccountSim::transmit(ByteView command_apdu) {
  std::lock_guard l(impl_->card_mu);
  return impl_->card->transmit(command_apdu);
}
Bytes MultiAccountSim::reset() {
  std::lock_guard l(impl_->card_mu);
  return impl_->card->reset();
}
MultiAccountSim::AdminSessions MultiAccountSim::admin_sessions() const {
  std::lock_guard l(impl_->agent_mu);
  return impl_->agent_stats;
}
bool MultiAccountSim::wait_admin_idle(std::chrono::milliseconds timeout) const {
  std::unique_lock l(impl_->agent_mu);
  return impl_->agent_cv.wait_for(l, timeout, [this] { return !impl_->agent_running; });
}
uicc::Uicc& MultiAccountSim::uicc() { return *impl_->card; }
const AccountTable& MultiAccountSim::accounts() const { return impl_->state.table; }
sim::gp::CardManager& MultiAccountSim::card_manager() { return *impl_->isd; }
std::uint64_t MultiAccountSim::ota_counter(std::uint8_t key_version) const { return impl_->entity.counter(key_version); }
std::string MultiAccountSim::dump() const { return uicc::dump(impl_->image->fs); }

}  // namespace rsp::masim
