// lpa: a command-line LPA (SGP.22 v2.2.2 LPAd) in the spirit of lpac.
//
//   lpa [--reader NAME | --pcsc-index N | --tcp HOST:PORT] [--json] [--ca FILE]
//       chip info | chip default-smdp ADDRESS | chip purge --yes
//       reader list
//       profile list | enable ID [1|0] | disable ID [1|0] | delete ID | nickname ICCID NAME
//       profile download [--ac 'LPA:1$...' | -s ADDRESS [-m ID]] [--cc CODE] [--imei IMEI] [--yes | -p]
//       notification list | process [--remove] [SEQ | -a] | remove SEQ | remove -a
//
// lpac's spellings are accepted too (chip defaultsmdp, driver apdu list, the
// positional refresh flag and SEQ, -a, -p): docs/interop.md has the table.
//
// ID is an ICCID (18-20 digits) or an ISD-P AID (hex, starting A0). See
// lpa/README.md.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include "rsp/cli.hpp"
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "rsp/log.hpp"
#include "rsp/activation_code.hpp"
#include "rsp/lpa/download.hpp"
#include "rsp/lpa/es10.hpp"
#include "rsp/lpa/es9p.hpp"
#include "rsp/lpa/pcsc.hpp"
#include "rsp/lpa/tcp_transport.hpp"

namespace {

using json = nlohmann::json;
using namespace rsp::lpa;

struct Globals {
  std::string reader;
  std::optional<std::size_t> pcsc_index;
  std::string tcp;
  bool json_out = false;
  std::string ca_file;
  bool insecure = false;
  std::size_t block_size = 120;
  bool no_logical_channel = false;
  std::string log_level = "warn";
  long timeout_s = 30;
};

// --- output ------------------------------------------------------------------

json hex_or_null(const rsp::Bytes& b) { return b.empty() ? json(nullptr) : json(rsp::to_hex(b, true)); }

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json to_json(const ProfileInfo& p) {
  json j;
  j["iccid"] = opt(p.iccid);
  j["isdpAid"] = hex_or_null(p.isdp_aid);
  j["profileState"] = p.state ? json(std::string(profile_state_name(*p.state))) : json(nullptr);
  j["profileNickname"] = opt(p.nickname);
  j["serviceProviderName"] = opt(p.service_provider_name);
  j["profileName"] = opt(p.profile_name);
  j["iconType"] = p.icon_type ? json(*p.icon_type == 0 ? "jpg" : *p.icon_type == 1 ? "png" : "unknown") : json(nullptr);
  j["icon"] = p.icon.empty() ? json(nullptr) : json(rsp::to_base64(p.icon));
  j["profileClass"] = std::string(profile_class_name(p.profile_class));
  j["profileOwnerMccMnc"] = p.owner_mcc_mnc ? json(rsp::to_hex(*p.owner_mcc_mnc, true)) : json(nullptr);
  j["profilePolicyRules"] = p.policy_rules;
  return j;
}

json to_json(const NotificationMetadata& m) {
  return json{{"seqNumber", m.seq_number},
              {"profileManagementOperation", std::string(to_string(m.operation))},
              {"notificationAddress", m.address},
              {"iccid", opt(m.iccid)}};
}

json ski_list(const std::vector<rsp::Bytes>& l) {
  json a = json::array();
  for (const auto& b : l) a.push_back(rsp::to_hex(b, true));
  return a;
}

json to_json(const EuiccInfo2& i) {
  json j;
  j["profileVersion"] = version_to_string(i.profile_version);
  j["svn"] = version_to_string(i.svn);
  j["euiccFirmwareVer"] = version_to_string(i.firmware_version);
  j["extCardResource"] = {{"installedApplication", opt(i.installed_applications)},
                          {"freeNonVolatileMemory", opt(i.free_nvm)},
                          {"freeVolatileMemory", opt(i.free_volatile)}};
  j["uiccCapability"] = i.uicc_capability;
  j["javacardVersion"] = i.javacard_version ? json(version_to_string(*i.javacard_version)) : json(nullptr);
  j["globalplatformVersion"] = i.globalplatform_version ? json(version_to_string(*i.globalplatform_version)) : json(nullptr);
  j["rspCapability"] = i.rsp_capability;
  j["euiccCiPKIdListForVerification"] = ski_list(i.ci_pkids_verification);
  j["euiccCiPKIdListForSigning"] = ski_list(i.ci_pkids_signing);
  j["euiccCategory"] = opt(i.euicc_category);
  j["forbiddenProfilePolicyRules"] = i.forbidden_profile_policy_rules;
  j["ppVersion"] = version_to_string(i.pp_version);
  j["sasAcreditationNumber"] = i.sas_accreditation_number;
  j["platformLabel"] = opt(i.platform_label);
  j["discoveryBaseURL"] = opt(i.discovery_base_url);
  return j;
}

class Output {
 public:
  explicit Output(bool as_json) : json_(as_json) {}
  bool json_mode() const { return json_; }
  // Final success: JSON envelope or nothing more (text was printed already).
  void success(json data) {
    if (json_) std::cout << json{{"ok", true}, {"data", std::move(data)}}.dump(2) << std::endl;
  }
  int failure(const std::string& message, json details = json::object()) {
    if (json_) {
      details["message"] = message;
      std::cout << json{{"ok", false}, {"error", details}}.dump(2) << std::endl;
    } else {
      std::cerr << "lpa: error: " << message << std::endl;
    }
    return 1;
  }
  // A usage error the parser cannot see (docs/operations.md: exit 2).
  int usage_error(const std::string& message) {
    failure(message);
    return 2;
  }
  // Progress and human-readable text (stderr in JSON mode).
  std::ostream& text() { return json_ ? std::cerr : std::cout; }

 private:
  bool json_;
};

// --- transport ------------------------------------------------------------------

std::unique_ptr<rsp::apdu::Transport> open_transport(const Globals& g) {
  int chosen = (!g.reader.empty()) + (g.pcsc_index.has_value()) + (!g.tcp.empty());
  if (chosen > 1) throw CLI::ValidationError("choose one of --reader, --pcsc-index, --tcp");
  if (!g.tcp.empty())
    return std::make_unique<TcpTransport>(TcpTransport::connect(g.tcp, std::chrono::seconds(g.timeout_s)));
  if (!g.reader.empty()) return std::make_unique<rsp::pcsc::Reader>(rsp::pcsc::Reader::connect(g.reader));
  return std::make_unique<rsp::pcsc::Reader>(rsp::pcsc::Reader::connect(g.pcsc_index.value_or(0)));
}

ChannelOptions channel_options(const Globals& g) {
  ChannelOptions c;
  c.block_size = g.block_size;
  c.logical_channel = !g.no_logical_channel;
  return c;
}

Es9Options es9_options(const Globals& g) {
  Es9Options o;
  if (!g.ca_file.empty()) o.http.ca_file = g.ca_file;
  o.insecure = g.insecure;
  o.http.timeout = std::chrono::seconds(g.timeout_s);
  return o;
}

bool stdin_is_tty() { return ::isatty(STDIN_FILENO) == 1; }

std::string result_line(const Es10Result& r) { return r.ok() ? "ok" : r.name + " (" + std::to_string(r.code) + ")"; }

json result_json(const Es10Result& r) { return json{{"result", r.name}, {"code", r.code}}; }

// --- commands ----------------------------------------------------------------------

void chip_info(Es10Client& euicc, Output& out) {
  std::string eid = euicc.get_eid();
  ConfiguredAddresses addr = euicc.get_configured_addresses();
  EuiccInfo2 info = euicc.get_euicc_info2();
  if (out.json_mode()) {
    out.success(json{{"eidValue", eid},
                     {"EuiccConfiguredAddresses",
                      {{"defaultDpAddress", opt(addr.default_dp_address)}, {"rootDsAddress", addr.root_ds_address}}},
                     {"EUICCInfo2", to_json(info)}});
    return;
  }
  auto& o = out.text();
  o << "EID:                   " << eid << "\n"
    << "Default SM-DP+:        " << addr.default_dp_address.value_or("(none)") << "\n"
    << "Root SM-DS:            " << addr.root_ds_address << "\n"
    << "SGP.22 version (SVN):  " << version_to_string(info.svn) << "\n"
    << "Profile version:       " << version_to_string(info.profile_version) << "\n"
    << "Firmware version:      " << version_to_string(info.firmware_version) << "\n";
  if (info.free_nvm) o << "Free NVM:              " << *info.free_nvm << " bytes\n";
  if (info.free_volatile) o << "Free volatile memory:  " << *info.free_volatile << " bytes\n";
  if (info.installed_applications) o << "Installed applications: " << *info.installed_applications << "\n";
  o << "RSP capability:        ";
  for (const auto& c : info.rsp_capability) o << c << " ";
  o << "\nUICC capability:       ";
  for (const auto& c : info.uicc_capability) o << c << " ";
  o << "\nCI PKIDs (verify):     ";
  for (const auto& k : info.ci_pkids_verification) o << rsp::to_hex(k, true) << " ";
  o << "\nCI PKIDs (sign):       ";
  for (const auto& k : info.ci_pkids_signing) o << rsp::to_hex(k, true) << " ";
  o << "\nSAS accreditation:     " << info.sas_accreditation_number << "\n";
}

void profile_list(Es10Client& euicc, Output& out) {
  auto profiles = euicc.get_profiles_info();
  if (out.json_mode()) {
    json a = json::array();
    for (const auto& p : profiles) a.push_back(to_json(p));
    out.success(a);
    return;
  }
  auto& o = out.text();
  if (profiles.empty()) o << "No profiles.\n";
  for (const auto& p : profiles) {
    o << p.iccid.value_or("(no ICCID)") << "  " << (p.state ? profile_state_name(*p.state) : "?") << "  "
      << profile_class_name(p.profile_class) << "  " << p.service_provider_name.value_or("") << " / "
      << p.profile_name.value_or("");
    if (p.nickname && !p.nickname->empty()) o << "  \"" << *p.nickname << "\"";
    o << "  AID " << rsp::to_hex(p.isdp_aid, true) << "\n";
  }
}

int report_result(Output& out, const std::string& what, const Es10Result& r, json extra = json::object()) {
  if (!r.ok()) {
    std::string why = what + ": " + r.name;
    // SGP.22 2.9: the Profile Policy Enabler refuses what the profile's PPRs forbid.
    if (r.name == "disallowedByPolicy")
      why += " (the profile's policy rules forbid it: PPR1 does not allow disabling, PPR2 does not allow deletion)";
    return out.failure(why, json{{"result", r.name}, {"code", r.code}});
  }
  if (out.json_mode()) {
    extra.update(result_json(r));
    out.success(extra);
  } else {
    out.text() << what << ": " << result_line(r) << "\n";
  }
  return 0;
}

// Where the download goes: the activation code; else an SM-DP+ address and
// matching id given apart (lpac's -s/-m); else the default SM-DP+ address the
// eUICC holds (ES10a GetEuiccConfiguredAddresses, SGP.22 5.7.3), with an
// empty MatchingID: the "default SM-DP+" case of SGP.22 3.1.3, where the
// SM-DP+ finds the order by the EID.
ActivationCode download_target(Es10Client& euicc, const std::string& ac_text, const std::string& smdp,
                               const std::string& matching_id) {
  if (!ac_text.empty()) return ActivationCode::parse(ac_text);
  std::string address = smdp;
  if (address.empty()) {
    auto addr = euicc.get_configured_addresses();
    if (!addr.default_dp_address || addr.default_dp_address->empty())
      throw std::runtime_error(
          "no activation code and no default SM-DP+ address on the eUICC (give --ac or --smdp, or set one with "
          "`lpa chip default-smdp ADDRESS`)");
    address = *addr.default_dp_address;
  }
  // The address is checked as in an activation code; the token may be empty here.
  ActivationCode ac = ActivationCode::parse("1$" + address + "$" + (matching_id.empty() ? "-" : matching_id));
  ac.matching_id = matching_id;
  return ac;
}

int profile_download(Es10Client& euicc, Output& out, const Globals& g, const ActivationCode& ac,
                     const std::string& cc, const std::string& imei, bool yes, bool preview,
                     const std::string& notify) {
  DownloadOptions opt;
  opt.es9 = es9_options(g);
  if (!cc.empty()) opt.confirmation_code = cc;
  if (!imei.empty()) opt.device_info.set_imei(imei);
  if (notify == "none") opt.notifications = DownloadOptions::Notifications::None;
  if (notify == "all") opt.notifications = DownloadOptions::Notifications::All;
  // lpac's -p asks on stdin even when it is not a terminal (a front end answers).
  const bool interactive = (stdin_is_tty() && !out.json_mode()) || preview;
  if (interactive) {
    opt.ask_confirmation_code = []() -> std::optional<std::string> {
      std::cerr << "Confirmation code: " << std::flush;
      std::string line;
      if (!std::getline(std::cin, line)) return std::nullopt;
      return line;
    };
    // The profile's metadata is shown before anything is asked (the download
    // calls confirm before it asks for the confirmation code, SGP.22
    // 3.1.3.1); with --yes it is shown and not asked.
    opt.confirm = [yes](const ProfileOffer& p) {
      std::cerr << (yes ? "Installing profile " : "Install profile ") << p.iccid << " (" << p.service_provider_name
                << " / " << p.profile_name;
      if (p.profile_class) std::cerr << ", class " << profile_class_name(*p.profile_class);
      std::cerr << ")";
      for (int ppr : p.policy_rules)
        if (ppr == 1) std::cerr << "; it cannot be disabled once enabled (PPR1)";
        else if (ppr == 2) std::cerr << "; it cannot be deleted (PPR2)";
      if (yes) {
        std::cerr << std::endl;
        return true;
      }
      std::cerr << "? [y/N] " << std::flush;
      std::string line;
      return std::getline(std::cin, line) && (line == "y" || line == "Y" || line == "yes");
    };
  }
  // Progress always goes to stderr (lpa/README.md): text, or with --json one
  // JSON object a line, so stdout keeps its single result object.
  opt.progress = [&](std::string_view stage) {
    if (out.json_mode())
      std::cerr << json{{"progress", std::string(stage)}}.dump() << std::endl;
    else
      std::cerr << "... " << stage << std::endl;
  };
  DownloadResult r = download(euicc, ac, opt);
  const auto& pir = r.installation;
  json data{{"smdpAddress", r.smdp_address},
            {"transactionId", rsp::to_hex(r.transaction_id, true)},
            {"iccid", r.offer.iccid},
            {"serviceProviderName", r.offer.service_provider_name},
            {"profileName", r.offer.profile_name},
            {"success", pir.success},
            {"isdpAid", hex_or_null(pir.isdp_aid)},
            {"seqNumber", pir.notification.seq_number},
            {"notificationSent", r.notification_sent}};
  if (!pir.success) {
    data["bppCommandId"] = pir.bpp_command_name;
    data["errorReason"] = pir.error_reason_name;
    return out.failure("profile installation failed: " + pir.describe(), data);
  }
  if (out.json_mode()) {
    out.success(data);
  } else {
    out.text() << "Installed " << r.offer.iccid << " (" << r.offer.service_provider_name << " / " << r.offer.profile_name
               << "), ISD-P " << rsp::to_hex(pir.isdp_aid, true) << "\n";
    if (!r.notification_sent) out.text() << "Note: installation notification not delivered: " << r.notification_error << "\n";
  }
  return 0;
}

// NotificationSent for every pending notification, without delivering them (lpac's `notification remove -a`).
int notification_remove_all(Es10Client& euicc, Output& out) {
  json a = json::array();
  for (const auto& m : euicc.list_notifications()) {
    auto r = euicc.notification_sent(m.seq_number);
    if (!r.ok())
      return out.failure("NotificationSent " + std::to_string(m.seq_number) + ": " + r.name,
                         json{{"result", r.name}, {"code", r.code}, {"removed", a}});
    a.push_back(m.seq_number);
    if (!out.json_mode()) out.text() << "NotificationSent " << m.seq_number << ": ok\n";
  }
  if (out.json_mode()) out.success(json{{"removed", a}});
  else if (a.empty()) out.text() << "No pending notifications.\n";
  return 0;
}

// refreshFlag (SGP.22 5.7.16/17): lpac's positional 1/0 or our --no-refresh; true by default.
bool refresh(std::optional<int> positional, bool no_refresh) { return positional ? *positional == 1 : !no_refresh; }

int notification_process(Es10Client& euicc, Output& out, const Globals& g, bool remove, std::optional<long long> seq) {
  NotificationOptions no;
  no.es9 = es9_options(g);
  no.remove = remove;
  no.only_seq_number = seq;
  auto outcomes = process_notifications(euicc, no);
  bool all_ok = true;
  json a = json::array();
  for (const auto& o : outcomes) {
    all_ok &= o.delivered;
    json j = to_json(o.metadata);
    j["delivered"] = o.delivered;
    j["removed"] = o.removed;
    j["error"] = o.error.empty() ? json(nullptr) : json(o.error);
    a.push_back(j);
    if (!out.json_mode())
      out.text() << o.metadata.seq_number << " " << to_string(o.metadata.operation) << " -> " << o.metadata.address
                 << ": " << (o.delivered ? (o.removed ? "delivered, removed" : "delivered") : "FAILED: " + o.error)
                 << "\n";
  }
  if (!all_ok) return out.failure("some notifications were not delivered", json{{"notifications", a}});
  if (out.json_mode()) out.success(a);
  else if (outcomes.empty()) out.text() << "No pending notifications.\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lpa: SGP.22 v2.2.2 Local Profile Assistant (ES10 over PC/SC or TCP, ES9+ over HTTPS)"};
  app.require_subcommand(1);
  app.fallthrough();
  Globals g;
  app.add_option("--reader", g.reader, "PC/SC reader name (exact, or a part of it)");
  app.add_option("--pcsc-index", g.pcsc_index, "PC/SC reader index (see `lpa reader list`; default 0)");
  app.add_option("--tcp", g.tcp, "eUICC simulator bridge HOST:PORT (2-byte length + APDU framing)");
  app.add_flag("--json", g.json_out, "JSON output on stdout");
  app.add_option("--ca", g.ca_file, "CA file (PEM) to verify SM-DP+ TLS certificates (default: system store)")
      ->check(CLI::ExistingFile);
  app.add_flag("--insecure", g.insecure, "do NOT verify SM-DP+ TLS certificates (testing only)");
  app.add_option("--block-size", g.block_size, "STORE DATA block size (1..255)")->check(CLI::Range(1, 255));
  app.add_flag("--no-logical-channel", g.no_logical_channel, "select the ISD-R on the basic channel");
  app.add_option("--log-level", g.log_level, "debug|info|warn|error|off (debug shows APDUs)");
  app.add_option("--timeout", g.timeout_s, "network and card timeout, seconds")->check(CLI::Range(1, 3600));

  auto* chip = app.add_subcommand("chip", "eUICC information and settings")->require_subcommand(1);
  chip->fallthrough();
  auto* chip_info_cmd = chip->add_subcommand("info", "EID, configured addresses, EUICCInfo2");
  std::string default_dp;
  auto* chip_dp_cmd = chip->add_subcommand("default-smdp", "set the default SM-DP+ address (empty to clear)");
  chip_dp_cmd->alias("defaultsmdp");  // lpac's spelling
  chip_dp_cmd->add_option("address", default_dp, "SM-DP+ address")->required();
  bool purge_yes = false;
  auto* chip_purge_cmd = chip->add_subcommand("purge", "EuiccMemoryReset: delete operational and test profiles");
  chip_purge_cmd->add_flag("--yes", purge_yes, "really do it")->required();

  auto* reader = app.add_subcommand("reader", "PC/SC readers")->require_subcommand(1);
  auto* reader_list_cmd = reader->add_subcommand("list", "list PC/SC readers");
  // lpac lists its PC/SC readers with `driver apdu list`.
  auto* driver = app.add_subcommand("driver", "lpac's form of `reader list`: driver apdu list")->require_subcommand(1);
  auto* driver_apdu_list_cmd =
      driver->add_subcommand("apdu", "APDU driver")->require_subcommand(1)->add_subcommand("list", "list PC/SC readers");

  auto* profile = app.add_subcommand("profile", "profiles")->require_subcommand(1);
  profile->fallthrough();
  auto* profile_list_cmd = profile->add_subcommand("list", "list installed profiles");
  std::string pid, nickname;
  bool no_refresh = false;
  std::optional<int> refresh_flag;  // lpac's positional form: `profile enable ID [1|0]`
  auto* profile_enable_cmd = profile->add_subcommand("enable", "enable a profile");
  profile_enable_cmd->add_option("id", pid, "ICCID or ISD-P AID")->required();
  profile_enable_cmd->add_flag("--no-refresh", no_refresh, "refreshFlag false")
      ->excludes(profile_enable_cmd->add_option("refresh", refresh_flag, "refreshFlag, lpac style: 1 (default) or 0")
                     ->check(CLI::IsMember({0, 1})));
  auto* profile_disable_cmd = profile->add_subcommand("disable", "disable a profile");
  profile_disable_cmd->add_option("id", pid, "ICCID or ISD-P AID")->required();
  profile_disable_cmd->add_flag("--no-refresh", no_refresh, "refreshFlag false")
      ->excludes(profile_disable_cmd->add_option("refresh", refresh_flag, "refreshFlag, lpac style: 1 (default) or 0")
                     ->check(CLI::IsMember({0, 1})));
  auto* profile_delete_cmd = profile->add_subcommand("delete", "delete a (disabled) profile");
  profile_delete_cmd->add_option("id", pid, "ICCID or ISD-P AID")->required();
  auto* profile_nick_cmd = profile->add_subcommand("nickname", "set a profile's nickname");
  profile_nick_cmd->add_option("iccid", pid, "ICCID")->required();
  profile_nick_cmd->add_option("nickname", nickname, "nickname (empty clears)")->required();
  std::string ac_text, cc, imei, notify = "install";
  bool yes = false;
  auto* profile_dl_cmd = profile->add_subcommand(
      "download", "download and install a profile (SGP.22 3.1.3); without --ac or --smdp from the eUICC's default SM-DP+");
  std::string dl_smdp, dl_matching_id;
  auto* ac_opt = profile_dl_cmd->add_option("--ac,-a", ac_text, "activation code, e.g. 'LPA:1$smdp.example.com$MATCHING-ID'");
  auto* smdp_opt = profile_dl_cmd->add_option("--smdp,-s", dl_smdp, "SM-DP+ address (instead of --ac)")->excludes(ac_opt);
  profile_dl_cmd->add_option("--matching-id,-m", dl_matching_id, "matching id, with --smdp (default: none)")
      ->excludes(ac_opt)
      ->needs(smdp_opt);
  profile_dl_cmd->add_option("--cc,-c", cc, "confirmation code");
  profile_dl_cmd->add_option("--imei,-i", imei, "device IMEI (15/16 digits) for DeviceInfo");
  profile_dl_cmd->add_flag("--yes,-y", yes, "do not ask for consent");
  bool preview = false;
  profile_dl_cmd->add_flag("--preview,-p", preview,
                           "lpac's interactive preview: show the profile and ask for consent (the default on a terminal)")
      ->excludes("--yes");
  profile_dl_cmd->add_option("--notify", notify, "notifications afterwards: none|install|all")
      ->check(CLI::IsMember({"none", "install", "all"}));

  auto* notif = app.add_subcommand("notification", "pending notifications")->require_subcommand(1);
  notif->fallthrough();
  auto* notif_list_cmd = notif->add_subcommand("list", "list pending notifications");
  bool remove = false;
  std::optional<long long> seq;
  auto* notif_process_cmd = notif->add_subcommand("process", "send pending notifications (ES9+ handleNotification)");
  notif_process_cmd->add_flag("--remove,-r", remove, "NotificationSent after delivery");
  auto* seq_opt = notif_process_cmd->add_option("--seq", seq, "only this sequence number");
  std::optional<long long> seq_positional;  // lpac: `notification process SEQ`
  auto* seq_pos = notif_process_cmd->add_option("seq", seq_positional, "only this sequence number (lpac's form)")
      ->excludes(seq_opt);
  bool process_all = false;
  notif_process_cmd->add_flag("--all,-a", process_all, "every pending notification (the default without a SEQ)")
      ->excludes(seq_opt)
      ->excludes(seq_pos);
  std::optional<long long> remove_seq;
  bool remove_all = false;
  auto* notif_remove_cmd = notif->add_subcommand("remove", "delete a pending notification without sending it");
  auto* remove_seq_opt = notif_remove_cmd->add_option("seq", remove_seq, "sequence number");
  notif_remove_cmd->add_flag("--all,-a", remove_all, "every pending notification (lpac's -a)")->excludes(remove_seq_opt);

  if (auto rc = rsp::cli::parse(app, argc, argv, "lpa")) return *rc;

  Output out(g.json_out);
  try {
    rsp::log::set_level(rsp::log::level_from_name(g.log_level));
  } catch (const std::exception&) {
    return out.failure("bad --log-level '" + g.log_level + "'");
  }

  try {
    if (*reader_list_cmd || *driver_apdu_list_cmd) {
      auto readers = rsp::pcsc::list_readers();
      if (out.json_mode()) {
        json a = json::array();
        for (std::size_t i = 0; i < readers.size(); ++i) a.push_back(json{{"index", i}, {"name", readers[i]}});
        out.success(a);
      } else {
        if (readers.empty()) out.text() << "No PC/SC readers.\n";
        for (std::size_t i = 0; i < readers.size(); ++i) out.text() << i << ": " << readers[i] << "\n";
      }
      return 0;
    }

    auto transport = open_transport(g);
    Es10Client euicc(*transport, channel_options(g));

    if (*chip_info_cmd) {
      chip_info(euicc, out);
    } else if (*chip_dp_cmd) {
      return report_result(out, "SetDefaultDpAddress", euicc.set_default_dp_address(default_dp));
    } else if (*chip_purge_cmd) {
      (void)purge_yes;
      return report_result(out, "EuiccMemoryReset", euicc.euicc_memory_reset(true, true, false));
    } else if (*profile_list_cmd) {
      profile_list(euicc, out);
    } else if (*profile_enable_cmd) {
      return report_result(out, "EnableProfile", euicc.enable_profile(ProfileId::parse(pid), refresh(refresh_flag, no_refresh)));
    } else if (*profile_disable_cmd) {
      return report_result(out, "DisableProfile",
                           euicc.disable_profile(ProfileId::parse(pid), refresh(refresh_flag, no_refresh)));
    } else if (*profile_delete_cmd) {
      return report_result(out, "DeleteProfile", euicc.delete_profile(ProfileId::parse(pid)));
    } else if (*profile_nick_cmd) {
      return report_result(out, "SetNickname", euicc.set_nickname(pid, nickname));
    } else if (*profile_dl_cmd) {
      return profile_download(euicc, out, g, download_target(euicc, ac_text, dl_smdp, dl_matching_id), cc, imei, yes, preview,
                              notify);
    } else if (*notif_list_cmd) {
      auto list = euicc.list_notifications();
      if (out.json_mode()) {
        json a = json::array();
        for (const auto& m : list) a.push_back(to_json(m));
        out.success(a);
      } else {
        if (list.empty()) out.text() << "No pending notifications.\n";
        for (const auto& m : list)
          out.text() << m.seq_number << "  " << to_string(m.operation) << "  " << m.address << "  "
                     << m.iccid.value_or("") << "\n";
      }
    } else if (*notif_process_cmd) {
      return notification_process(euicc, out, g, remove, seq ? seq : seq_positional);
    } else if (*notif_remove_cmd) {
      if (remove_seq) return report_result(out, "NotificationSent", euicc.notification_sent(*remove_seq));
      if (!remove_all) return out.usage_error("notification remove: give a SEQ, or -a for every pending notification");
      return notification_remove_all(euicc, out);
    }
    return 0;
  } catch (const DownloadError& e) {
    json d{{"stage", e.stage}};
    if (e.cancelled) d["cancelSessionReason"] = std::string(to_string(*e.cancelled));
    try {
      if (e.cause) std::rethrow_exception(e.cause);
    } catch (const Es9Error& c) {
      d["es9Function"] = c.function;
      if (!c.subject_code.empty()) d["subjectCode"] = c.subject_code;
      if (!c.reason_code.empty()) d["reasonCode"] = c.reason_code;
      if (!c.message.empty()) d["es9Message"] = c.message;
      if (c.http_status) d["httpStatus"] = c.http_status;
    } catch (const Es10Error& c) {
      d["es10Function"] = c.function;
      d["es10Code"] = c.code;
      d["es10Result"] = c.code_name;
    } catch (...) {
    }
    return out.failure(e.what(), d);
  } catch (const Es10Error& e) {
    return out.failure(e.what(), json{{"function", e.function}, {"code", e.code}, {"result", e.code_name}});
  } catch (const ApduError& e) {
    return out.failure(e.what(), json{{"command", e.command}, {"sw", sw_to_string(e.sw)}});
  } catch (const Es9Error& e) {
    return out.failure(e.what(), json{{"function", e.function},
                                      {"subjectCode", e.subject_code},
                                      {"reasonCode", e.reason_code},
                                      {"httpStatus", e.http_status}});
  } catch (const std::exception& e) {
    return out.failure(e.what());
  }
}
