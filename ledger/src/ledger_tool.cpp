// ledger-tool: create, extend, check and read an embedded ledger file.
// Keys are read from files and never printed or logged.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include "rsp/cli.hpp"
#include <nlohmann/json.hpp>

#include "rsp/file.hpp"
#include "rsp/json.hpp"
#include "rsp/ledger/embedded.hpp"

using namespace rsp;
using namespace rsp::ledger;

namespace {

// A PEM/DER file, or PEM text given inline.
crypto::EcKey load_key(const std::string& arg) {
  if (arg.rfind("-----BEGIN", 0) == 0) return crypto::EcKey::from_pem_or_der(to_bytes(arg));
  return crypto::EcKey::from_pem_or_der(read_file(arg));
}

EmbeddedLedger open(const std::string& db) {
  struct stat st{};
  if (::stat(db.c_str(), &st) != 0) throw std::runtime_error(db + " does not exist (run ledger-tool init first)");
  return EmbeddedLedger(db);
}

nlohmann::json entry_json(const Entry& e) {
  nlohmann::json j{{"seq", e.seq},         {"type", e.type},
                   {"author", e.author},   {"nonce", e.nonce},
                   {"timestamp", e.timestamp_ms}, {"hash", to_hex(e.hash)},
                   {"prev_hash", to_hex(e.prev_hash)}};
  try {
    j["payload"] = parse_json(rsp::to_string(e.payload), payload_json_limits(e.type));
  } catch (const JsonError&) {
    j["payload_hex"] = to_hex(e.payload);
  }
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ledger-tool: the embedded RSP marketplace ledger"};
  app.require_subcommand(1);
  std::string db, admin_id = "admin", admin_key, curve = "P-256";

  auto* keygen = app.add_subcommand("keygen", "generate an EC key pair (private PEM to --out, mode 0600)");
  std::string out_path, pub_out;
  keygen->add_option("--out", out_path, "private key file (SEC1 PEM)")->required();
  keygen->add_option("--curve", curve, "P-256 | brainpoolP256r1");
  bool force = false;
  keygen->add_flag("--force", force, "replace an existing --out (default: refuse, exit 1)");

  auto* init = app.add_subcommand("init", "create the ledger and its genesis entry (registers the admin)");
  init->add_option("--db", db, "ledger file")->required();
  init->add_option("--admin-id", admin_id, "admin participant id");
  init->add_option("--admin-key", admin_key, "admin private key file (generated if absent)")->required();
  init->add_option("--curve", curve, "curve for a generated admin key");

  auto* reg = app.add_subcommand("register", "register a participant (admin entry)");
  std::string id, role, pubkey, arbiter;
  reg->add_option("--db", db, "ledger file")->required();
  reg->add_option("--id", id, "participant id, e.g. OP-A")->required();
  reg->add_option("--role", role, "visited-operator | home-operator | service-provider | arbiter")->required();
  reg->add_option("--arbiter", arbiter, "the registered arbiter this participant accepts for disputes");
  reg->add_option("--pubkey", pubkey, "participant public (or private) key: PEM file or PEM text")->required();
  reg->add_option("--admin-id", admin_id, "admin participant id");
  reg->add_option("--admin-key", admin_key, "admin private key file")->required();

  auto* app_ = app.add_subcommand("append", "append a signed entry");
  std::string author, key, type, payload, nonce;
  app_->add_option("--db", db, "ledger file")->required();
  app_->add_option("--author", author, "participant id")->required();
  app_->add_option("--key", key, "author's private key file")->required();
  app_->add_option("--type", type, "note | mint | offer | request | accept | activation | usage | refund (market payloads: docs/ledger.md)")->required();
  app_->add_option("--payload", payload, "JSON payload")->required();
  app_->add_option("--nonce", nonce, "client id for replay protection (random if absent)");

  auto* rot = app.add_subcommand("rotate", "move a participant (or the admin) to a new key (entry signed by the old key)");
  std::string new_key;
  rot->add_option("--db", db, "ledger file")->required();
  rot->add_option("--id", id, "participant id (the admin's for the admin)")->required();
  rot->add_option("--key", key, "the participant's current private key file")->required();
  rot->add_option("--new-key", new_key, "the new key: PEM file (public or private; only the public point goes on the ledger)")->required();

  auto* ver = app.add_subcommand("verify", "walk and check the whole chain");
  ver->add_option("--db", db, "ledger file")->required();

  auto* show = app.add_subcommand("show", "print entries as JSON lines");
  std::int64_t from = 0;
  std::size_t limit = 1000000;
  show->add_option("--db", db, "ledger file")->required();
  show->add_option("--from", from, "first seq to print (default: all)");
  show->add_option("--limit", limit, "at most this many entries");

  if (auto rc = rsp::cli::parse(app, argc, argv, "ledger-tool")) return *rc;

  try {
    if (*keygen) {
      auto k = crypto::EcKey::generate(crypto::curve_from_name(curve));
      // A participant's key is its identity on the ledger: never replaced
      // by accident (issue 13).
      try {
        if (force)
          write_private_file(out_path, to_bytes(k.private_pem()));
        else
          create_private_file(out_path, to_bytes(k.private_pem()));
      } catch (const std::runtime_error& e) {
        if (force || !std::filesystem::exists(std::filesystem::symlink_status(out_path))) throw;
        throw std::runtime_error(std::string(e.what()) + "; not overwriting the key (--force to replace)");
      }
      std::cout << "wrote " << out_path << " (" << crypto::curve_name(k.curve()) << ")\n";
    } else if (*init) {
      crypto::EcKey k;
      struct stat st{};
      if (::stat(admin_key.c_str(), &st) == 0) {
        k = load_key(admin_key);
      } else {
        k = crypto::EcKey::generate(crypto::curve_from_name(curve));
        write_private_file(admin_key, to_bytes(k.private_pem()));
        std::cout << "generated admin key " << admin_key << "\n";
      }
      EmbeddedLedger l(db);
      auto r = l.init(admin_id, k);
      std::cout << "genesis seq " << r.seq << " hash " << to_hex(r.hash) << "\n";
    } else if (*reg) {
      auto l = open(db);
      auto r = l.register_participant(admin_id, load_key(admin_key), id, role, load_key(pubkey), arbiter);
      std::cout << "registered " << id << " (" << role << ") at seq " << r.seq << "\n";
    } else if (*app_) {
      auto j = parse_json(payload, payload_json_limits(type));  // must be JSON; stored as given, compact
      auto l = open(db);
      auto r = l.append_signed(author, load_key(key), type, to_bytes(j.dump()), nonce);
      std::cout << "appended seq " << r.seq << " hash " << to_hex(r.hash) << "\n";
    } else if (*rot) {
      auto l = open(db);
      auto r = l.append_signed(id, load_key(key), "rotate", rotate_payload(id, load_key(new_key)));
      std::cout << "rotated the key of " << id << " at seq " << r.seq << ": from seq " << r.seq + 1
                << " on its entries verify with the new key only\n";
    } else if (*ver) {
      struct stat st{};
      if (::stat(db.c_str(), &st) != 0) throw std::runtime_error(db + " does not exist");
      EmbeddedLedger l(db, EmbeddedLedger::Options{true, VerifyMode::None});
      auto rep = l.verify(VerifyMode::Full);
      std::cout << "OK: " << rep.entries_checked << " entries, head seq " << rep.head_seq << " hash "
                << to_hex(rep.head_hash) << ", genesis " << to_hex(l.genesis_hash()) << "\n";
    } else if (*show) {
      struct stat st{};
      if (::stat(db.c_str(), &st) != 0) throw std::runtime_error(db + " does not exist");
      EmbeddedLedger l(db, EmbeddedLedger::Options{true, VerifyMode::None});
      std::int64_t cursor = from > 0 ? from - 1 : 0;
      std::size_t printed = 0;
      while (printed < limit) {
        auto batch = l.entries_after(cursor, std::min<std::size_t>(1000, limit - printed));
        if (batch.empty()) break;
        for (const auto& e : batch) std::cout << entry_json(e).dump() << "\n";
        printed += batch.size();
        cursor = batch.back().seq;
      }
    }
  } catch (const ChainError& e) {
    std::cerr << "CHAIN BROKEN at seq " << e.seq << ": " << e.reason << "\n";
    return 4;  // 2 is the usage error of every program (docs/operations.md)
  } catch (const AppendError& e) {
    std::cerr << "REJECTED (" << reason_name(e.reason) << "): " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
