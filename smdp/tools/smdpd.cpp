// smdpd: the SM-DP+ daemon (ES9+ over HTTPS) and its profile staging command.
#include <CLI/CLI.hpp>
#include "rsp/cli.hpp"
#include "rsp/config_path.hpp"
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include <unistd.h>

#include <map>

#include "rsp/activation_code.hpp"
#include "rsp/crypto.hpp"
#include "rsp/file.hpp"
#include "rsp/time_text.hpp"
#include "rsp/smdp/batch_import.hpp"
#include "rsp/smdp/cli_audit.hpp"
#include "rsp/smdp/lab_staging.hpp"
#include "rsp/smdp/profile_generator.hpp"
#include "rsp/smdp/eligibility.hpp"
#include "rsp/smdp/profile_template.hpp"
#include "rsp/smdp/es2plus.hpp"
#include "rsp/smdp/init_config.hpp"
#include "rsp/smdp/qr_code.hpp"
#include "rsp/log.hpp"
#include "rsp/smdp/profile_package.hpp"
#include "rsp/smdp/server.hpp"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

// Writes a whole file or throws naming it (a full disk or a missing folder
// is an error, not a silent exit 0).
void write_output(const std::string& path, std::string_view data) {
  errno = 0;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (f) f.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (f) f.close();
  if (!f) throw std::runtime_error("cannot write " + path + (errno ? std::string(": ") + std::strerror(errno) : ""));
}

// Fails before any work when `path` cannot be created: its folder must exist
// and be writable. `order` checks its --png/--svg with it so a bad path does
// not leave a confirmed order behind an exit 1 (issue 13).
void check_output_path(const std::string& path) {
  if (path.empty()) return;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw std::runtime_error("cannot write " + path + ": " + dir.string() + " is not a folder");
  if (::access(dir.c_str(), W_OK) != 0)
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
}

// Eligibility and policy options shared by `stage` and `import` (docs/smdp.md).
struct RequirementOptions {
  std::vector<unsigned> ppr;
  std::string owner_plmn, min_pp_version;
  std::uint64_t nvm = 0;
  std::vector<std::string> requires_capability;

  void add_to(CLI::App* cmd) {
    cmd->add_option("--ppr", ppr, "Profile Policy Rule to set (1: disabling not allowed, 2: deletion not allowed); repeat")
        ->check(CLI::Range(1, 2));
    cmd->add_option("--owner-plmn", owner_plmn, "profileOwner MCC+MNC (5 or 6 digits), for the eUICC's RAT check of the PPRs");
    cmd->add_option("--min-pp-version", min_pp_version, "lowest eUICC Protection Profile version (EUICCInfo2 ppVersion), e.g. 1.0.0");
    cmd->add_option("--nvm", nvm, "free eUICC memory the profile needs, bytes (default: the package's size)");
    cmd->add_option("--requires", requires_capability,
                    "device capability the profile needs, NAME=RELEASE (e.g. eutranEpcSupportedRelease=15.0.0); repeat");
  }
  rsp::smdp::ProfileRequirements requirements() const {
    rsp::smdp::ProfileRequirements r;
    r.ppr = ppr;
    if (!owner_plmn.empty()) r.profile_owner_mcc_mnc = rsp::smdp::mcc_mnc_from_digits(owner_plmn);
    if (!min_pp_version.empty()) r.min_pp_version = rsp::smdp::parse_version(min_pp_version);
    r.nvm_bytes = nvm;
    for (const auto& item : requires_capability) {
      auto eq = item.find('=');
      if (eq == std::string::npos) throw std::invalid_argument("--requires wants NAME=RELEASE, got '" + item + "'");
      r.device_capabilities.emplace_back(item.substr(0, eq), rsp::smdp::parse_version(item.substr(eq + 1)));
    }
    return r;
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SM-DP+ (GSMA SGP.22): ES9+ server and profile staging"};
  app.require_subcommand(1);
  // Where an installed smdpd finds its configuration (docs/operations.md):
  // --config, else $RSP_SMDPD_CONFIG, else /etc/rsp/smdpd.json.
  std::string config_path;
  app.add_option("-c,--config", config_path,
                 "configuration file (docs/smdp.md); default: $RSP_SMDPD_CONFIG, else /etc/rsp/smdpd.json");

  auto* init = app.add_subcommand("init", "write a working configuration (smdpd.json) and a fresh storage key from an "
                                          "rsp-certs folder (docs/smdp.md, docs/quickstart.md)");
  rsp::smdp::InitOptions init_opt;
  std::vector<std::string> init_operators;
  std::string init_certs, init_out, init_operator_ca;
  init->add_option("--certs", init_certs, "rsp-certs generate folder (CI, DPauth, DPpb, DP TLS)")->required();
  init->add_option("--out", init_out, "folder for smdpd.json, storage.key and the store (created if missing)")->required();
  init->add_option("--hostname", init_opt.hostname, "SM-DP+ host name in activation codes (default: the TLS certificate's)");
  init->add_option("--listen", init_opt.listen, "ES9+ and ES2+ listen address");
  init->add_option("--store", init_opt.store, "store: a postgresql:// URI (default: smdp.db in --out, SQLite)");
  init->add_option("--port", init_opt.port, "ES9+ port");
  init->add_option("--es2plus-port", init_opt.es2plus_port, "ES2+ port (0: no ES2+)");
  init->add_option("--admin-port", init_opt.admin_port, "admin port on 127.0.0.1 (/health, /metrics; 0: off)")
      ;
  init->add_option("--operator-ca", init_operator_ca,
                   "CA of the operators' ES2+ client certificates (default: operators-ca.pem in --certs, if any)");
  init->add_option("--operator", init_operators, "ES2+ operator ID=CERT.pem[,NOTIFICATION_URL]; repeat")
      ->check(CLI::Validator(
          [](std::string& spec) {
            try {
              rsp::smdp::parse_init_operator(spec);
              return std::string();
            } catch (const std::invalid_argument& e) {
              return std::string(e.what());
            }
          },
          "ID=CERT[,URL]"));
  init->add_flag("--force", init_opt.force, "replace an existing smdpd.json (an existing storage.key is kept)");

  auto* serve = app.add_subcommand("serve", "run the ES9+ HTTPS server until SIGINT/SIGTERM");
  std::string port_file;
  serve->add_option("--port-file", port_file, "write the bound port here once listening");

  auto* stage = app.add_subcommand("stage", "stage one profile for download under --matching-id, in the state a test "
                                              "needs, or as available for ES2+ orders with --owner (docs/smdp.md)");
  std::string upp_path, stage_template, stage_iccid, stage_imsi, matching_id, eid, cc, spn = "rsp-marketplace",
                                                                                  name = "Profile";
  auto* upp_opt = stage->add_option("--upp", upp_path, "profile package (DER, PEDefinitions), staged as is");
  stage->add_option("--template", stage_template,
                    "template name (see `template add`), package file (DER) or `builtin`, personalized with --iccid")
      ->excludes(upp_opt);
  stage->add_option("--iccid", stage_iccid, "ICCID (19-20 digits with its Luhn check digit), with --template");
  stage->add_option("--imsi", stage_imsi, "IMSI (15 digits), with --template (default: 00101 and ICCID digits)");
  std::string stage_owner, stage_type = "default", stage_state = "released", stage_class = "operational", icon_path;
  std::int64_t expires_in = 0;
  std::vector<std::string> notify;
  stage->add_option("--matching-id", matching_id, "activation code token the order is under");
  stage->add_option("--state", stage_state,
                    "released (default), not-released, expired (order lapsed), retry-limit (download attempts used "
                    "up), available (no order; needs --owner)");
  stage->add_option("--expires-in", expires_in, "seconds until the order lapses (default: never)");
  stage->add_option("--owner", stage_owner, "operator id that owns the profile (gets its progress notifications)");
  stage->add_option("--type", stage_type, "profile type (with --owner)");
  stage->add_option("--eid", eid, "bind the profile to this EID");
  stage->add_option("--cc", cc, "confirmation code the end user must give");
  stage->add_option("--spn", spn, "service provider name");
  stage->add_option("--name", name, "profile name");
  stage->add_option("--class", stage_class, "profile class: test, provisioning, operational (default)");
  stage->add_option("--icon", icon_path, "icon: a PNG or JPEG file of at most 1,024 bytes (its iconType follows)");
  stage->add_option("--notify", notify,
                    "notification configuration: EVENT[=ADDRESS] (install, enable, disable, delete; address: this "
                    "SM-DP+), repeatable, or `none` (default: enable, disable, delete to this SM-DP+)");
  bool ppk = false;
  stage->add_flag("--ppk", ppk, "protect now with profile protection keys (bound later with ReplaceSessionKeys)");
  RequirementOptions stage_req, import_req;
  stage_req.add_to(stage);

  // --json on the read and report commands: one JSON document on stdout and
  // nothing else there (progress and errors go to stderr), for scripts.
  bool json_out = false;
  auto add_json = [&](CLI::App* cmd) { cmd->add_flag("--json", json_out, "print one JSON document on stdout"); };

  auto* show = app.add_subcommand("show", "show a profile's state");
  std::string show_iccid;
  show->add_option("--iccid", show_iccid)->required();
  add_json(show);

  auto* tmpl_cmd = app.add_subcommand("template", "operators' profile templates")->require_subcommand(1);
  auto* tmpl_add = tmpl_cmd->add_subcommand("add", "store a profile package as a named template (checked by decoding it)");
  std::string tmpl_name, tmpl_file, tmpl_owner;
  tmpl_add->add_option("--name", tmpl_name)->required();
  tmpl_add->add_option("--upp", tmpl_file, "profile package (DER)")->required();
  tmpl_add->add_option("--owner", tmpl_owner, "operator id");
  bool tmpl_replace = false;
  tmpl_add->add_flag("--replace,--force", tmpl_replace, "replace a stored template of that name (default: refuse, exit 1)");
  auto* tmpl_list = tmpl_cmd->add_subcommand("list", "list templates");
  add_json(tmpl_list);

  auto* import = app.add_subcommand("import", "import a subscription batch (CSV) as profiles from a template");
  std::string owner, type = "default", template_path, batch_path;
  bool progress = false;
  import->add_option("--owner", owner, "operator id that will own the profiles")->required();
  import->add_option("--type", type, "profile type DownloadOrder asks for");
  import->add_option("--template", template_path, "template name (see `template add`), package file (DER), or `builtin` (the minimal USIM profile)")->required();
  import->add_option("--batch", batch_path, "CSV (iccid,imsi,ki,opc[,pin1,puk1,pin2,puk2,adm1,spn]) or a .json array of such objects")->required();
  import->add_option("--spn", spn, "service provider name shown to the user");
  import->add_option("--name", name, "profile name shown to the user");
  import->add_flag("--ppk", ppk, "protect with profile protection keys now");
  import->add_flag("--progress", progress, "progress bar on stderr");
  import_req.add_to(import);
  add_json(import);

  auto* list = app.add_subcommand("list", "list profiles");
  std::string list_state, list_owner, list_iccid, list_eid;
  list->add_option("--state", list_state, "available|allocated|linked|confirmed|released|downloaded|installed|error|unavailable");
  list->add_option("--owner", list_owner);
  list->add_option("--iccid", list_iccid, "ICCID or its prefix");
  list->add_option("--eid", list_eid);
  add_json(list);

  auto* stats = app.add_subcommand("stats", "profiles per operator, type and state");
  add_json(stats);

  auto* order = app.add_subcommand("order", "DownloadOrder + ConfirmOrder for an operator; prints the activation code "
                                            "(and its QR code in the terminal when no file is asked for)");
  std::string order_eid, order_cc, qr_png_path, qr_svg_path, order_csv, order_qr_dir;
  bool release = true, caption = false;
  std::size_t order_count = 1;
  order->add_option("--owner", owner, "operator id")->required();
  order->add_option("--type", type, "profile type");
  order->add_option("--eid", order_eid, "bind to this EID");
  order->add_option("--cc", order_cc, "confirmation code");
  order->add_flag("--release,!--no-release", release, "release now (default) or later with ReleaseProfile (`release`)");
  auto* count_opt = order->add_option("--count", order_count, "number of orders in this run (all or none)")
                        ->check(CLI::Range(std::size_t{1}, std::size_t{100000}))
                        ;
  order->add_option("--png", qr_png_path, "write the activation code's QR code as PNG")->excludes(count_opt);
  order->add_option("--svg", qr_svg_path, "write the activation code's QR code as SVG (with --caption: captioned)")
      ->excludes(count_opt);
  order->add_option("--csv", order_csv, "write iccid,matching_id,activation_code[,eid] per order to this file");
  order->add_option("--qr-dir", order_qr_dir, "write ICCID.png per order into this existing folder");
  order->add_flag("--caption", caption, "SVG: the activation code and ICCID under the QR code");
  add_json(order);

  auto* release_cmd = app.add_subcommand("release", "ReleaseProfile (SGP.22 5.3.4) for an order confirmed with --no-release");
  std::string release_iccid;
  release_cmd->add_option("--owner", owner, "operator id")->required();
  release_cmd->add_option("--iccid", release_iccid, "ICCID of the confirmed order")->required();

  auto* outbox = app.add_subcommand("outbox", "ES2+ HandleDownloadProgressInfo notifications waiting for operators")
                     ->require_subcommand(1);
  auto* outbox_list = outbox->add_subcommand("list", "undelivered notifications: attempts, next retry, given up");
  add_json(outbox_list);
  auto* outbox_retry = outbox->add_subcommand("retry", "make undelivered notifications due now (a running smdpd sends "
                                                        "them within a second; a given-up one gets one more attempt)");
  std::int64_t outbox_id = 0;
  bool outbox_all = false;
  auto* outbox_id_opt = outbox_retry->add_option("--id", outbox_id, "this notification (see `outbox list`)");
  outbox_retry->add_flag("--all", outbox_all, "every undelivered notification")->excludes(outbox_id_opt);

  auto* cancel = app.add_subcommand("cancel", "CancelOrder for an operator's profile");
  std::string cancel_iccid, final_status = "Available";
  cancel->add_option("--owner", owner, "operator id")->required();
  cancel->add_option("--iccid", cancel_iccid)->required();
  cancel->add_option("--final", final_status, "Available|Unavailable");

  auto* export_pkg = app.add_subcommand(
      "export-package", "write the protected profile package (SGP.22 2.5.3) held for an ICCID, for `market accept --package`");
  std::string export_iccid, export_out;
  export_pkg->add_option("--iccid", export_iccid, "ICCID of a profile staged or imported with --ppk")->required();
  export_pkg->add_option("--out", export_out, "output file")->required();

  auto* qr = app.add_subcommand("qr", "render an activation code as a QR code");
  std::string ac_text;
  qr->add_option("--ac", ac_text, "activation code, e.g. 'LPA:1$smdp.example.com$TOKEN'")->required();
  qr->add_option("--png", qr_png_path, "PNG file");
  qr->add_option("--svg", qr_svg_path, "SVG file");
  qr->add_flag("--caption", caption, "SVG: the activation code under the QR code");

  rsp::smdp::AuditCommand audit_cmd(app);  // `smdpd audit` (docs/smdp.md, audit trail)

  if (auto rc = rsp::cli::parse(app, argc, argv, "smdpd")) return *rc;
  // PNG captions are not drawn: that needs a font rasteriser, which the
  // project does not have; SVG text is rendered by whoever shows the file.
  if (caption && qr_svg_path.empty() && order_qr_dir.empty()) {
    std::cerr << "smdpd: --caption needs --svg (PNG codes are written without a caption)\n";
    return rsp::cli::exit_usage;
  }
  auto write_qr = [&](const std::string& text, const std::string& iccid) {
    std::vector<std::string> lines;
    if (caption) lines = {text};
    if (caption && !iccid.empty()) lines.push_back("ICCID " + iccid);
    if (!qr_png_path.empty()) write_output(qr_png_path, rsp::to_string(rsp::smdp::qr_png(text)));
    if (!qr_svg_path.empty()) write_output(qr_svg_path, rsp::smdp::qr_svg(text, 8, lines));
  };
  try {
    if (*qr) {
      check_output_path(qr_png_path);
      check_output_path(qr_svg_path);
      std::string text = rsp::ActivationCode::parse(ac_text).to_string();
      write_qr(text, "");
      // No file asked for: the code in the terminal (SGP.22 4.1.1 text, byte mode).
      if (qr_png_path.empty() && qr_svg_path.empty()) std::cout << rsp::smdp::qr_terminal(text) << text << "\n";
      return 0;
    }
    if (*init) {
      init_opt.certs_dir = init_certs;
      init_opt.out_dir = init_out;
      init_opt.operator_ca = init_operator_ca;
      for (const auto& spec : init_operators) init_opt.operators.push_back(rsp::smdp::parse_init_operator(spec));
      auto r = rsp::smdp::init_config(init_opt);
      for (const auto& w : r.written) std::cout << "wrote " << w << "\n";
      for (const auto& n : r.notes) std::cout << "note: " << n << "\n";
      std::cout << "next: smdpd --config " << r.config.string() << " serve\n";
      return 0;
    }
    config_path = rsp::config_path(config_path, "RSP_SMDPD_CONFIG", "/etc/rsp/smdpd.json");
    auto config = rsp::smdp::load_config(config_path);
    // log.format / log.level in the configuration win over RSP_LOG_FORMAT / RSP_LOG.
    if (!config.log_format.empty()) rsp::log::set_format(rsp::log::format_from_name(config.log_format));
    if (!config.log_level.empty()) rsp::log::set_level(rsp::log::level_from_name(config.log_level));
    if (*serve) {
      rsp::smdp::Server server(config);
      server.start();
      rsp::log::info("smdpd", "ES9+ listening on https://" + config.listen + ":" + std::to_string(server.port()) +
                                  " as " + config.address);
      if (server.es2plus_port())
        rsp::log::info("smdpd", "ES2+ listening on https://" + config.listen + ":" +
                                    std::to_string(server.es2plus_port()) + " (mutual TLS)");
      if (server.admin_port())
        rsp::log::info("smdpd", "admin (/health/live, /health/ready, /metrics) listening on http://" +
                                    (config.admin.listen.find(':') != std::string::npos ? "[" + config.admin.listen + "]"
                                                                                        : config.admin.listen) +
                                    ":" + std::to_string(server.admin_port()));
      if (!port_file.empty()) write_output(port_file, std::to_string(server.port()) + "\n");
      std::signal(SIGINT, on_signal);
      std::signal(SIGTERM, on_signal);
      while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      server.stop();
      return 0;
    }
    rsp::store::Db db(config.db_path);
    rsp::smdp::ProfileStore profiles(db, config.storage_key);
    // Issue 13: a state-changing command commits its change with its audit row, or neither.
    if (audit_cmd.chosen()) return audit_cmd.run(db, std::cout);
    rsp::smdp::CliAudit cli_audit(db, app, argc, argv);
    if (*stage) {
      rsp::smdp::LabProfile lp;
      if (upp_path.empty() == stage_template.empty()) throw std::invalid_argument("give either --upp or --template");
      if (!upp_path.empty()) {
        lp.upp = rsp::read_file(upp_path);
        if (!stage_iccid.empty() && rsp::smdp::inspect_upp(lp.upp).iccid != stage_iccid)
          throw std::invalid_argument("the package's ICCID is " + rsp::smdp::inspect_upp(lp.upp).iccid +
                                      ": to stage another ICCID, personalize a template (--template)");
      } else {
        if (stage_iccid.empty()) throw std::invalid_argument("--template needs --iccid");
        auto stored = profiles.template_package(stage_template);
        rsp::Bytes tmpl = stored                          ? *stored
                          : stage_template == "builtin" ? rsp::smdp::minimal_profile_template()
                                                          : rsp::read_file(stage_template);
        rsp::smdp::SubscriberValues v;
        v.iccid = stage_iccid;
        // A 15-digit IMSI on the test network 001/01 from the ICCID's digits unless given.
        v.imsi = !stage_imsi.empty() ? stage_imsi
                 : stage_iccid.size() >= 11 ? "00101" + stage_iccid.substr(stage_iccid.size() - 11, 10)
                                            : stage_imsi;
        v.ki = rsp::crypto::random_bytes(16);  // lab profiles: keys nobody needs to know
        v.opc = rsp::crypto::random_bytes(16);
        lp.upp = rsp::smdp::generate_profile(tmpl, v);
      }
      lp.matching_id = matching_id;
      lp.owner = stage_owner;
      lp.profile_type = stage_type;
      lp.eid = eid;
      lp.confirmation_code = cc;
      // --owner alone keeps its meaning: available for ES2+ orders.
      lp.state = rsp::smdp::lab_state_from(matching_id.empty() && !stage_owner.empty() && stage_state == "released"
                                               ? "available"
                                               : stage_state);
      lp.expires_in_seconds = expires_in;
      lp.service_provider_name = spn;
      lp.profile_name = name;
      lp.profile_class = rsp::smdp::profile_class_from(stage_class);
      if (!icon_path.empty()) lp.icon = rsp::read_file(icon_path);
      if (!notify.empty()) lp.notification_configuration = rsp::smdp::parse_notification_options(notify);
      lp.protect_with_ppk = ppk;
      lp.requirements = stage_req.requirements();
      auto p = rsp::smdp::stage_lab_profile(profiles, config, lp, std::time(nullptr));
      std::cout << "staged ICCID " << p.iccid << " (" << rsp::smdp::inspect_upp(lp.upp).elements
                << " profile elements) "
                << (matching_id.empty() ? "available to " + stage_owner
                                        : "for matching id " + matching_id + ", " +
                                              (lp.state == rsp::smdp::LabState::Expired ? std::string("order expired")
                                                                                         : stage_state))
                << "\n";
      return 0;
    }
    if (*tmpl_add) {
      rsp::Bytes upp = rsp::read_file(tmpl_file);
      auto summary = rsp::smdp::inspect_upp(upp);
      // Profiles are generated from it later: replacing one silently would
      // change what every next import or order installs (issue 13).
      if (!tmpl_replace && profiles.template_package(tmpl_name))
        throw std::runtime_error("template " + tmpl_name + " exists; not replacing it (--replace to replace)");
      profiles.put_template(tmpl_name, tmpl_owner, upp);
      std::cout << "template " << tmpl_name << ": " << summary.elements << " profile elements\n";
      return 0;
    }
    if (*tmpl_list) {
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      for (const auto& t : profiles.templates()) {
        if (json_out) out.push_back({{"name", t.first}, {"owner", t.second.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(t.second)}});
        else std::cout << t.first << "  " << (t.second.empty() ? "-" : t.second) << "\n";
      }
      if (json_out) std::cout << out.dump() << "\n";
      return 0;
    }
    if (*import) {
      auto stored = profiles.template_package(template_path);
      rsp::Bytes tmpl = stored                        ? *stored
                        : template_path == "builtin" ? rsp::smdp::minimal_profile_template()
                                                      : rsp::read_file(template_path);
      rsp::Bytes csv = rsp::read_file(batch_path, rsp::smdp::kMaxBatchBytes);
      bool json = batch_path.size() > 5 && batch_path.substr(batch_path.size() - 5) == ".json";
      auto rows = json ? rsp::smdp::parse_batch_json(rsp::to_string(csv)) : rsp::smdp::parse_batch_csv(rsp::to_string(csv));
      rsp::smdp::ImportOptions io;
      io.owner = owner;
      io.profile_type = type;
      io.service_provider_name = spn;
      io.profile_name = name;
      io.protect_with_ppk = ppk || config.use_ppk;
      io.requirements = import_req.requirements();
      if (progress || isatty(STDERR_FILENO))
        io.progress = [](std::size_t done, std::size_t total) {
          if (done % 64 && done != total) return;
          int bar = static_cast<int>(40 * done / total);
          // Two passes per row (generate, then store): the bar covers both.
          std::fprintf(stderr, "\r[%-40s] %3zu%%", std::string(static_cast<std::size_t>(bar), '#').c_str(),
                       100 * done / total);
          if (done == total) std::fprintf(stderr, "\n");
        };
      std::size_t n = rsp::smdp::import_batch(profiles, tmpl, rows, io);
      if (json_out)
        std::cout << nlohmann::ordered_json{{"imported", n}, {"owner", owner}, {"profileType", type}}.dump() << "\n";
      else
        std::cout << "imported " << n << " profiles of type " << type << " for " << owner << "\n";
      return 0;
    }
    if (*list) {
      std::string sql = "SELECT iccid, state, owner, profile_type, eid, COALESCE(matching_id, '') FROM profiles WHERE 1=1";
      std::vector<rsp::store::Value> params;
      if (!list_state.empty()) sql += " AND state = ?", params.emplace_back(list_state);
      if (!list_owner.empty()) sql += " AND owner = ?", params.emplace_back(list_owner);
      if (!list_iccid.empty()) sql += " AND iccid LIKE ?", params.emplace_back(list_iccid + "%");
      if (!list_eid.empty()) sql += " AND eid = ?", params.emplace_back(list_eid);
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      auto or_null = [](const std::string& v) { return v.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(v); };
      db.query(sql + " ORDER BY iccid", params, [&](const rsp::store::Row& r) {
        if (json_out)
          out.push_back({{"iccid", r.text(0)}, {"state", r.text(1)}, {"owner", or_null(r.text(2))},
                         {"profileType", or_null(r.text(3))}, {"eid", or_null(r.text(4))}, {"matchingId", or_null(r.text(5))}});
        else
          std::cout << r.text(0) << "  " << r.text(1) << "  " << r.text(2) << "  " << r.text(3) << "  "
                    << (r.text(4).empty() ? "-" : r.text(4)) << "  " << (r.text(5).empty() ? "-" : r.text(5)) << "\n";
      });
      if (json_out) std::cout << out.dump() << "\n";
      return 0;
    }
    if (*stats) {
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      db.query("SELECT owner, profile_type, state, COUNT(*) FROM profiles GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", {},
               [&](const rsp::store::Row& r) {
                 if (json_out)
                   out.push_back({{"owner", r.text(0)}, {"profileType", r.text(1)}, {"state", r.text(2)}, {"count", r.i64(3)}});
                 else
                   std::cout << (r.text(0).empty() ? "-" : r.text(0)) << "  " << (r.text(1).empty() ? "-" : r.text(1))
                             << "  " << r.text(2) << "  " << r.i64(3) << "\n";
               });
      if (json_out) std::cout << out.dump() << "\n";
      return 0;
    }
    if (*export_pkg) {
      // Only the segments, protected under the profile protection keys: the
      // PPKs stay in the store and reach the eUICC in ReplaceSessionKeys of
      // the BPP (SGP.22 2.5.3, 5.5), so the file can travel on the ledger.
      if (!profiles.by_iccid(export_iccid)) throw std::runtime_error("no profile with ICCID " + export_iccid);
      auto pkg = profiles.protected_package(export_iccid);
      if (!pkg)
        throw std::runtime_error("ICCID " + export_iccid +
                                 " has no protected package (stage or import it with --ppk, or set use_ppk)");
      write_output(export_out, rsp::to_string(pkg->segments));
      std::cout << "wrote " << export_out << ": protected package of ICCID " << export_iccid << ", "
                << pkg->segments.size() << " bytes, SHA-256 " << rsp::to_hex(rsp::crypto::sha256(pkg->segments)) << "\n";
      return 0;
    }
    if (*outbox_list || *outbox_retry) {
      // The table is made by the server's notifier (progress_notifier.cpp); a
      // store no server has opened has none, so nothing is waiting.
      bool have = false;
      db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'es2_outbox'", {},
               [&](const rsp::store::Row&) { have = true; });
      if (*outbox_retry) {
        if (outbox_id == 0 && !outbox_all) throw std::invalid_argument("give --id N or --all");
        std::int64_t n = 0;
        if (have) {
          // next_at = now makes them due; failed = 0 takes a given-up one back.
          std::string where = " WHERE delivered_at IS NULL" + std::string(outbox_all ? "" : " AND id = ?");
          std::vector<rsp::store::Value> params;
          if (!outbox_all) params.emplace_back(outbox_id);
          db.query("SELECT COUNT(*) FROM es2_outbox" + where, params, [&](const rsp::store::Row& r) { n = r.i64(0); });
          db.run("UPDATE es2_outbox SET next_at = 0, failed = 0" + where, params);
        }
        if (!outbox_all && n == 0)
          throw std::runtime_error("no undelivered notification with id " + std::to_string(outbox_id));
        std::cout << n << " notification(s) due now\n";
        return 0;
      }
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      auto iso = [](std::int64_t ms) { return rsp::time_text::iso8601_utc(ms / 1000); };
      if (have)
        db.query("SELECT id, owner, attempts, next_at, failed, body FROM es2_outbox WHERE delivered_at IS NULL ORDER BY id",
                 {}, [&](const rsp::store::Row& r) {
                   auto body = nlohmann::json::parse(r.text(5), nullptr, false);
                   std::string iccid = body.is_object() ? body.value("iccid", "") : "";
                   int point = body.is_object() ? body.value("notificationPointId", 0) : 0;
                   bool given_up = r.i64(4) != 0;
                   // next_at 0: due at once (never tried, or retried by hand).
                   std::string next = given_up ? "given up" : r.i64(3) == 0 ? "now" : iso(r.i64(3));
                   if (json_out)
                     out.push_back({{"id", r.i64(0)}, {"operator", r.text(1)}, {"iccid", iccid},
                                    {"notificationPointId", point}, {"attempts", r.i64(2)},
                                    {"nextAttempt", given_up ? nlohmann::ordered_json() : nlohmann::ordered_json(next)},
                                    {"givenUp", given_up}});
                   else
                     std::cout << r.i64(0) << "  " << r.text(1) << "  " << iccid << "  point " << point << "  attempts "
                               << r.i64(2) << "  next " << next << "\n";
                 });
      if (json_out) std::cout << out.dump() << "\n";
      return 0;
    }
    if (*order || *cancel || *release_cmd) {
      rsp::smdp::Es2Plus es2(config, profiles);
      if (*cancel) {
        es2.cancel_order(owner, {{"iccid", cancel_iccid}, {"finalProfileStatusIndicator", final_status}});
        std::cout << "cancelled the order of " << cancel_iccid << "\n";
        return 0;
      }
      if (*release_cmd) {
        es2.release_profile(owner, {{"iccid", release_iccid}});
        std::cout << "released the order of " << release_iccid << " for download\n";
        return 0;
      }
      // Every output is checked before the first order, so a bad path uses up
      // no profile (issue 13); a write that still fails later (a full disk)
      // cancels this run's orders: all N or none.
      check_output_path(qr_png_path);
      check_output_path(qr_svg_path);
      check_output_path(order_csv);
      if (!order_qr_dir.empty()) check_output_path((std::filesystem::path(order_qr_dir) / "ICCID.png").string());
      struct Made {
        std::string iccid, matching_id, ac, png, svg;
      };
      std::vector<Made> made;
      std::vector<std::string> written;
      try {
        for (std::size_t i = 0; i < order_count; ++i) {
          nlohmann::json req = {{"profileType", type}};
          if (!order_eid.empty()) req["eid"] = order_eid;
          std::string iccid = es2.download_order(owner, req)["iccid"];
          made.push_back({iccid, "", "", "", ""});
          nlohmann::json confirm = {{"iccid", iccid}, {"releaseFlag", release}};
          if (!order_eid.empty()) confirm["eid"] = order_eid;
          if (!order_cc.empty()) confirm["confirmationCode"] = order_cc;
          auto r = es2.confirm_order(owner, confirm);
          rsp::ActivationCode ac;
          ac.smdp_address = config.address;
          ac.matching_id = r["matchingId"];
          ac.confirmation_code_required = !order_cc.empty();
          made.back().matching_id = ac.matching_id;
          made.back().ac = ac.to_string();
        }
        if (!order_qr_dir.empty())
          for (auto& m : made) {
            m.png = (std::filesystem::path(order_qr_dir) / (m.iccid + ".png")).string();
            write_output(m.png, rsp::to_string(rsp::smdp::qr_png(m.ac)));
            written.push_back(m.png);
          }
        if (!order_csv.empty()) {
          std::string csv = "iccid,matching_id,activation_code" + std::string(order_eid.empty() ? "" : ",eid") + "\n";
          for (const auto& m : made)
            csv += m.iccid + "," + m.matching_id + "," + m.ac + (order_eid.empty() ? "" : "," + order_eid) + "\n";
          write_output(order_csv, csv);
          written.push_back(order_csv);
        }
        if (!made.empty()) {
          made.front().png = order_qr_dir.empty() ? qr_png_path : made.front().png;
          made.front().svg = qr_svg_path;
          write_qr(made.front().ac, made.front().iccid);
        }
      } catch (const std::exception& e) {
        for (const auto& f : written) {
          std::error_code ec;
          std::filesystem::remove(f, ec);
        }
        std::string undone;
        for (const auto& m : made) {
          try {
            es2.cancel_order(owner, {{"iccid", m.iccid}, {"finalProfileStatusIndicator", "Available"}});
            undone += (undone.empty() ? "" : ", ") + m.iccid;
          } catch (const std::exception& c) {
            std::cerr << "smdpd: could not cancel the order of " << m.iccid << ": " << c.what() << "\n";
          }
        }
        if (!undone.empty()) std::cerr << "smdpd: cancelled this run's orders (back to available): " << undone << "\n";
        throw;
      }
      if (json_out) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        auto or_null = [](const std::string& v) { return v.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(v); };
        for (const auto& m : made)
          out.push_back({{"iccid", m.iccid}, {"matchingId", m.matching_id}, {"activationCode", m.ac},
                         {"eid", or_null(order_eid)}, {"released", release}, {"png", or_null(m.png)}, {"svg", or_null(m.svg)}});
        std::cout << nlohmann::ordered_json{{"orders", out}, {"csv", or_null(order_csv)}}.dump() << "\n";
        return 0;
      }
      for (const auto& m : made) std::cout << "ICCID " << m.iccid << "\nactivation code " << m.ac << "\n";
      // One code and no file asked for: show it in the terminal to scan.
      if (order_count == 1 && qr_png_path.empty() && qr_svg_path.empty() && order_qr_dir.empty() && order_csv.empty() &&
          isatty(STDOUT_FILENO))
        std::cout << rsp::smdp::qr_terminal(made.front().ac);
      return 0;
    }
    if (*show) {
      auto p = profiles.by_iccid(show_iccid);
      if (!p) {
        std::cerr << "no profile with ICCID " << show_iccid << "\n";
        return 1;
      }
      if (json_out) {
        using oj = nlohmann::ordered_json;
        auto or_null = [](const std::string& v) { return v.empty() ? oj() : oj(v); };
        oj notifications = "default";
        if (p->notification_configuration) {
          notifications = oj::array();
          for (const auto& c : *p->notification_configuration)
            notifications.push_back({{"event", rsp::smdp::to_string(c.event)},
                                     {"address", c.address.empty() ? config.address : c.address}});
        }
        auto r = profiles.requirements(p->iccid);
        oj caps = oj::object();
        for (const auto& cap : r.device_capabilities) caps[cap.first] = rsp::smdp::version_string(cap.second);
        oj out = {{"iccid", p->iccid},
                  {"state", rsp::smdp::to_string(p->state)},
                  {"matchingId", or_null(p->matching_id)},
                  {"eid", or_null(p->eid)},
                  {"owner", or_null(p->owner)},
                  {"profileType", or_null(p->profile_type)},
                  {"downloadAttempts", p->download_attempts},
                  {"profileClass", p->profile_class},
                  {"icon", p->icon.empty() ? oj()
                                           : oj{{"type", p->icon_type == rsp::smdp::kIconTypePng ? "png" : "jpg"},
                                                {"bytes", p->icon.size()}}},
                  {"notifications", notifications},
                  {"requirements",
                   {{"profileVersion", r.profile_version.empty() ? oj() : oj(rsp::smdp::version_string(r.profile_version))},
                    {"nvmBytes", r.nvm_bytes},
                    {"minPpVersion", r.min_pp_version.empty() ? oj() : oj(rsp::smdp::version_string(r.min_pp_version))},
                    {"deviceCapabilities", caps},
                    {"ppr", r.ppr}}}};
        std::cout << out.dump() << "\n";
        return 0;
      }
      std::cout << "ICCID " << p->iccid << " state " << rsp::smdp::to_string(p->state) << " matching id "
                << p->matching_id << " downloads " << p->download_attempts << "\n";
      std::cout << "class " << p->profile_class << " icon "
                << (p->icon.empty() ? std::string("none")
                                    : std::string(p->icon_type == rsp::smdp::kIconTypePng ? "png " : "jpg ") +
                                          std::to_string(p->icon.size()) + " bytes")
                << " notifications ";
      if (!p->notification_configuration) std::cout << "default";
      else if (p->notification_configuration->empty()) std::cout << "none";
      for (const auto& c : p->notification_configuration.value_or(std::vector<rsp::smdp::NotificationConfiguration>{}))
        std::cout << rsp::smdp::to_string(c.event) << "=" << (c.address.empty() ? config.address : c.address) << " ";
      std::cout << "\n";
      auto r = profiles.requirements(p->iccid);
      std::cout << "requires package version " << (r.profile_version.empty() ? "-" : rsp::smdp::version_string(r.profile_version))
                << ", " << r.nvm_bytes << " bytes free, ppVersion "
                << (r.min_pp_version.empty() ? "any" : rsp::smdp::version_string(r.min_pp_version));
      for (const auto& cap : r.device_capabilities)
        std::cout << ", " << cap.first << " " << rsp::smdp::version_string(cap.second);
      std::cout << "; PPRs";
      if (r.ppr.empty()) std::cout << " none";
      for (unsigned bit : r.ppr) std::cout << " PPR" << bit;
      std::cout << "\n";
      return 0;
    }
  } catch (const rsp::smdp::DuplicateProfile& e) {
    std::cerr << "smdpd: " << e.what() << "\n";
    return 3;  // distinct, so lab scripts can tell "already staged" from other failures
  } catch (const rsp::smdp::FunctionError& e) {
    std::cerr << "smdpd: " << e.subject_code << "/" << e.reason_code << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "smdpd: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
