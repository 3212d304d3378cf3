// visited-network: a test lab's stand-in for the visited network's core
// (simulators/README.md "visited-network"). The code is the simulator the
// tests use in process (rsp::sim::Hss, rsp::sim::VisitedNetwork); this tool
// puts it on the command line so a lab (tests/rig/story_rig.sh) can attach a
// running euicc-sim and meter its traffic into the visited agent's network
// spool (docs/agents.md "The spools").
//
//   visited-network provision --hss DB --hss-key FILE --batch CSV
//   visited-network attach --tcp HOST:PORT --hss DB --hss-key FILE --plmn 20801 --spool DIR
//   visited-network usage --spool DIR --imsi IMSI --data-mb N --voice-minutes N --sms N [--record-id ID]
//
// The network's own memory (who attached when, the end of each subscriber's
// last record, the records written) is the file DIR/.visited-network-meter
// (no .json suffix: the agent does not take it for an event), so that
// `usage` in a later process meters from where the last record ended, and a
// record written again is the same record (same id and period), which the
// ledger applies once.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "rsp/agents/daemon_config.hpp"
#include "rsp/cli.hpp"
#include "rsp/crypto.hpp"
#include "rsp/file.hpp"
#include "rsp/log.hpp"
#include "rsp/sim/visited_network.hpp"
#include "rsp/sim/vpcd.hpp"
#include "rsp/store.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kMeterFile = ".visited-network-meter";

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool all_digits(const std::string& s, std::size_t min, std::size_t max) {
  return s.size() >= min && s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The HSS storage key file: 64 hex digits (as the visited agent's
// hss.storage_key_file), owner-only.
rsp::SecretBytes hss_key(const std::string& path) {
  std::string text = rsp::to_string(rsp::read_private_file(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  rsp::SecretBytes key(rsp::from_hex(text));
  if (key.size() != 32) throw Failure("--hss-key " + path + ": 32 bytes, 64 hex digits");
  return key;
}

// The network's memory beside the spool, under an exclusive lock for the
// whole command (two commands at once would race for the same period).
class Meter {
 public:
  explicit Meter(const fs::path& spool) : path_(spool / kMeterFile) {
    fs::create_directories(spool);
    lock_fd_ = ::open((spool / ".visited-network-lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX) != 0) throw Failure("cannot lock " + (spool / ".visited-network-lock").string());
    if (fs::exists(path_)) data_ = json::parse(rsp::to_string(rsp::read_file(path_.string(), 16u << 20)));
    if (!data_.is_object()) data_ = json::object();
    if (!data_.contains("seq")) data_["seq"] = 0;
    if (!data_.contains("subscribers")) data_["subscribers"] = json::object();
    if (!data_.contains("records")) data_["records"] = json::object();
  }
  ~Meter() {
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }
  Meter(const Meter&) = delete;
  Meter& operator=(const Meter&) = delete;
  json& subscribers() { return data_["subscribers"]; }
  json& records() { return data_["records"]; }
  // A spool file name in the order the events happened (the agent takes
  // files in name order, and usage periods must follow each other).
  std::string next_name(const std::string& kind) {
    std::int64_t seq = data_["seq"].get<std::int64_t>() + 1;
    data_["seq"] = seq;
    char name[64];
    std::snprintf(name, sizeof name, "vn-%08lld-%s.json", static_cast<long long>(seq), kind.c_str());
    return name;
  }
  void save() { rsp::replace_private_file(path_.string(), rsp::to_bytes(data_.dump(1)), "the network's meter"); }

 private:
  fs::path path_;
  int lock_fd_ = -1;
  json data_;
};

int provision(const std::string& hss_db, const std::string& key_file, const std::string& batch) {
  rsp::store::Db db(hss_db);
  rsp::sim::Hss hss(db, hss_key(key_file));
  std::istringstream in(rsp::to_string(rsp::read_file(batch)));
  std::string line;
  int n = 0, line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.rfind("iccid", 0) == 0) continue;  // the header
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
    if (f.size() < 4) throw Failure(batch + " line " + std::to_string(line_no) + ": iccid,imsi,ki,opc expected");
    if (!all_digits(f[0], 18, 20)) throw Failure(batch + " line " + std::to_string(line_no) + ": ICCID is 18 to 20 digits");
    if (!all_digits(f[1], 6, 15)) throw Failure(batch + " line " + std::to_string(line_no) + ": IMSI is 6 to 15 digits");
    rsp::Bytes ki = rsp::from_hex(f[2]), opc = rsp::from_hex(f[3]);
    if (ki.size() != 16 || opc.size() != 16)
      throw Failure(batch + " line " + std::to_string(line_no) + ": Ki and OPc are 16 bytes (32 hex digits)");
    hss.provision(f[1], f[0], ki, opc);
    ++n;
  }
  std::cout << "provisioned " << n << " subscriber" << (n == 1 ? "" : "s") << "\n";
  return rsp::cli::exit_ok;
}

// TS 24.301 5.5.1 attach as VisitedNetwork::attach does it: EF IMSI of the
// enabled profile's USIM, a vector from the HSS, AUTHENTICATE, RES == XRES.
// Only an accepted first attach writes the event (the Activation's cause).
int attach(const std::string& tcp, const std::string& hss_db, const std::string& key_file, const std::string& plmn,
           const fs::path& spool) {
  if (!all_digits(plmn, 5, 6)) throw Failure("--plmn is MCC+MNC, 5 or 6 digits");
  std::string host;
  std::uint16_t port = 0;
  if (!rsp::sim::vpcd::split_host_port(tcp, host, port)) throw Failure("--tcp wants HOST:PORT");
  rsp::store::Db db(hss_db);
  rsp::sim::Hss hss(db, hss_key(key_file));
  rsp::sim::VisitedNetwork network(hss, plmn);
  bool first = false;
  network.on_first_attach = [&](const rsp::sim::AttachResult&) { first = true; };
  rsp::sim::AttachResult a;
  {
    rsp::sim::vpcd::TcpTransport card(host, port);
    card.reset();  // the handset powers the card on
    a = network.attach(card);
  }
  if (!a.accepted) {
    std::cerr << "visited-network: attach refused: " << a.cause << (a.imsi.empty() ? "" : " (IMSI " + a.imsi + ")") << "\n";
    return rsp::cli::exit_failed;
  }
  std::cout << "IMSI " << a.imsi << "\nICCID " << a.iccid << "\n";
  Meter meter(spool);
  json& subs = meter.subscribers();
  if (subs.contains(a.imsi)) {
    // Attached before: metering goes on from its last record; no second first attach.
    std::cout << "attached again (first attach at " << subs[a.imsi]["attached_at"].get<std::int64_t>() << ")\n";
    return rsp::cli::exit_ok;
  }
  if (!first) throw Failure("the network did not report a first attach");
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  rsp::agents::NetworkEvent e;
  e.kind = "attach";
  e.attach = a;
  e.plmn = plmn;
  const std::string name = meter.next_name("attach");
  rsp::agents::spool_write(spool, name, e.to_json());
  subs[a.imsi] = json{{"iccid", a.iccid}, {"plmn", plmn}, {"attached_at", now}, {"metered_until", now}};
  meter.save();
  std::cout << "spooled " << name << "\n";
  return rsp::cli::exit_ok;
}

// One usage record for an attached subscriber: [end of its last record, now).
int usage(const fs::path& spool, const std::string& imsi, std::int64_t data_mb, std::int64_t voice, std::int64_t sms,
          std::string record_id) {
  if (data_mb < 0 || voice < 0 || sms < 0) throw Failure("usage cannot be negative");
  Meter meter(spool);
  json& subs = meter.subscribers();
  if (!subs.contains(imsi)) throw Failure("IMSI " + imsi + " has not attached to this network: nothing to meter");
  const std::string plmn = subs.at(imsi).at("plmn").get<std::string>();
  // Without --record-id the id is derived from what is metered, so running
  // the same command again delivers the same record (charged once): two
  // records with the same figures need their own --record-id.
  if (record_id.empty()) {
    std::ostringstream what;
    what << "visited-network usage|" << plmn << "|" << imsi << "|" << data_mb << "|" << voice << "|" << sms;
    record_id = plmn + "-" + rsp::to_hex(rsp::crypto::sha256(rsp::to_bytes(what.str()))).substr(0, 16);
  }
  if (record_id.empty() || record_id.size() > 32 ||
      !std::all_of(record_id.begin(), record_id.end(), [](char c) { return c > ' ' && c < 0x7F; }))
    throw Failure("--record-id: 1 to 32 printable ASCII characters without spaces");
  rsp::sim::UsageRecord u;
  json& recs = meter.records();
  if (recs.contains(record_id)) {
    const json& r = recs[record_id];
    if (r.at("imsi") != imsi || r.at("data_mb") != data_mb || r.at("voice_minutes") != voice || r.at("sms") != sms)
      throw Failure("record " + record_id + " was written before with other figures");
    u.period_start = r.at("period_start").get<std::int64_t>();
    u.period_end = r.at("period_end").get<std::int64_t>();
    std::cout << "record " << record_id << " written again (same period)\n";
  } else {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    u.period_start = subs[imsi]["metered_until"].get<std::int64_t>();
    u.period_end = std::max(u.period_start, now);
    subs[imsi]["metered_until"] = u.period_end;
    recs[record_id] = json{{"imsi", imsi}, {"data_mb", data_mb}, {"voice_minutes", voice}, {"sms", sms},
                           {"period_start", u.period_start}, {"period_end", u.period_end}};
  }
  u.imsi = imsi;
  u.record_id = record_id;
  u.data_mb = data_mb;
  u.voice_minutes = voice;
  u.sms = sms;
  rsp::agents::NetworkEvent e;
  e.kind = "usage";
  e.usage = u;
  const std::string name = meter.next_name("usage");
  rsp::agents::spool_write(spool, name, e.to_json());
  meter.save();
  std::cout << "record " << record_id << "\nspooled " << name << "\n";
  return rsp::cli::exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"visited-network: the visited network's core for a test lab (HSS, attach with Milenage, usage records "
               "into the visited agent's network spool; simulators/README.md)"};
  app.require_subcommand(1);
  std::string hss_db, key_file, batch, tcp, plmn, spool, imsi, record_id, log_level = "warn";
  std::int64_t data_mb = 0, voice = 0, sms = 0;
  app.add_option("--log-level", log_level, "debug|info|warn|error|off");

  auto* prov = app.add_subcommand("provision", "provision subscribers into the HSS from a CSV (iccid,imsi,ki,opc; "
                                               "the batch format of `smdpd import`)");
  prov->add_option("--hss", hss_db, "HSS database (SQLite; created if missing)")->required();
  prov->add_option("--hss-key", key_file, "HSS storage key file: 64 hex digits, mode 0600")->required();
  prov->add_option("--batch", batch, "CSV: iccid,imsi,ki,opc[,...] with a header line")->required();

  auto* att = app.add_subcommand("attach", "attach the card behind an euicc-sim bridge: EF IMSI, Milenage "
                                           "AUTHENTICATE, RES == XRES; the first attach goes into the spool");
  att->add_option("--tcp", tcp, "the eUICC simulator's bridge HOST:PORT (euicc-sim --tcp)")->required();
  att->add_option("--hss", hss_db, "HSS database")->required();
  att->add_option("--hss-key", key_file, "HSS storage key file: 64 hex digits, mode 0600")->required();
  att->add_option("--plmn", plmn, "this network's MCC+MNC")->required();
  att->add_option("--spool", spool, "the visited agent's network spool (network_spool)")->required();

  auto* use = app.add_subcommand("usage", "one usage record for an attached subscriber into the spool");
  use->add_option("--spool", spool, "the visited agent's network spool")->required();
  use->add_option("--imsi", imsi, "the subscriber (as `attach` printed it)")->required();
  use->add_option("--data-mb", data_mb, "data, MB")->required();
  use->add_option("--voice-minutes", voice, "voice, minutes")->required();
  use->add_option("--sms", sms, "SMS")->required();
  use->add_option("--record-id", record_id, "the record's id (default: derived from the subscriber and the figures)");

  if (auto rc = rsp::cli::parse(app, argc, argv, "visited-network")) return *rc;
  try {
    rsp::log::set_level(rsp::log::level_from_name(log_level));
  } catch (const std::exception&) {
    std::cerr << "--log-level: debug|info|warn|error|off\n";
    return rsp::cli::exit_usage;
  }
  try {
    if (prov->parsed()) return provision(hss_db, key_file, batch);
    if (att->parsed()) return attach(tcp, hss_db, key_file, plmn, spool);
    return usage(spool, imsi, data_mb, voice, sms, record_id);
  } catch (const std::exception& e) {
    std::cerr << "visited-network: " << e.what() << "\n";
    return rsp::cli::exit_failed;
  }
}
