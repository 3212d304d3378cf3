// smdpd: the SM-DP+ daemon (ES9+ over HTTPS) and its profile staging command.
#include <CLI/CLI.hpp>
#include <csignal>
#include <fstream>
#include <iostream>
#include <thread>

#include "rsp/crypto.hpp"
#include "rsp/log.hpp"
#include "rsp/smdp/profile_package.hpp"
#include "rsp/smdp/server.hpp"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

rsp::Bytes read_all(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + p);
  return rsp::Bytes(std::istreambuf_iterator<char>(f), {});
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SM-DP+ (GSMA SGP.22): ES9+ server and profile staging"};
  app.require_subcommand(1);
  std::string config_path = "smdp.json";
  app.add_option("-c,--config", config_path, "configuration file (docs/smdp.md)");

  auto* serve = app.add_subcommand("serve", "run the ES9+ HTTPS server until SIGINT/SIGTERM");
  std::string port_file;
  serve->add_option("--port-file", port_file, "write the bound port here once listening");

  auto* stage = app.add_subcommand("stage", "stage an unprotected profile package for download");
  std::string upp_path, matching_id, eid, cc, spn = "rsp-marketplace", name = "Profile";
  stage->add_option("--upp", upp_path, "profile package (DER, PEDefinitions)")->required();
  stage->add_option("--matching-id", matching_id, "activation code token")->required();
  stage->add_option("--eid", eid, "bind the profile to this EID");
  stage->add_option("--cc", cc, "confirmation code the end user must give");
  stage->add_option("--spn", spn, "service provider name");
  stage->add_option("--name", name, "profile name");
  bool ppk = false;
  stage->add_flag("--ppk", ppk, "protect now with profile protection keys (bound later with ReplaceSessionKeys)");

  auto* show = app.add_subcommand("show", "show a profile's state");
  std::string show_iccid;
  show->add_option("--iccid", show_iccid)->required();

  CLI11_PARSE(app, argc, argv);
  try {
    auto config = rsp::smdp::load_config(config_path);
    if (*serve) {
      rsp::smdp::Server server(config);
      server.start();
      rsp::log::info("smdpd", "ES9+ listening on https://" + config.listen + ":" + std::to_string(server.port()) +
                                  " as " + config.address);
      if (!port_file.empty()) std::ofstream(port_file) << server.port() << "\n";
      std::signal(SIGINT, on_signal);
      std::signal(SIGTERM, on_signal);
      while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      server.stop();
      return 0;
    }
    rsp::store::Db db(config.db_path);
    rsp::smdp::ProfileStore profiles(db, config.storage_key);
    if (*stage) {
      rsp::Bytes upp = read_all(upp_path);
      auto summary = rsp::smdp::inspect_upp(upp);
      rsp::smdp::Profile p;
      p.iccid = summary.iccid;
      p.matching_id = matching_id;
      p.eid = eid;
      p.state = rsp::smdp::ProfileState::Released;
      if (!cc.empty()) p.cc_hash = rsp::crypto::sha256(rsp::to_bytes(cc));
      p.service_provider_name = spn;
      p.profile_name = name;
      profiles.stage(p, upp, ppk || config.use_ppk);
      std::cout << "staged ICCID " << p.iccid << " (" << summary.elements << " profile elements) for matching id "
                << matching_id << "\n";
      return 0;
    }
    if (*show) {
      auto p = profiles.by_iccid(show_iccid);
      if (!p) {
        std::cerr << "no profile with ICCID " << show_iccid << "\n";
        return 1;
      }
      std::cout << "ICCID " << p->iccid << " state " << rsp::smdp::to_string(p->state) << " matching id "
                << p->matching_id << " downloads " << p->download_attempts << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "smdpd: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
