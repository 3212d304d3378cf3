// `ota card`: the card store (keys, TARs, counters) and one packet at a time
// from it, with the counter the store reserves, so a lab can script it:
//
//   ota card --store ota.db --storage-key-file key.hex new-storage-key
//   ota card ... add --iccid 89.. [--key-version 1 --cipher AES --kic-key HEX|@FILE
//                                  --checksum AES --kid-key HEX|@FILE [--counter HEX]]
//                                 [--tar B00011 --msl 16]
//   ota card ... add-key-set | add-tar (the same options, one thing more on a card)
//   ota card ... show --iccid 89..   (KCVs, counters, TARs: never a key)
//   ota card ... list | delete --iccid 89..
//   ota card ... build-packet --iccid 89.. --tar B00011 --data HEX [--spi HEX] [--command-id ID]
//   ota card ... send --smpp HOST:PORT --system-id ID --password-file FILE --iccid 89.. --msisdn DIGITS
//                     --tar B00011 --data HEX [--spi HEX] [--command-id ID] [--originator DIGITS] [--timeout S]
//     (the packet over SMPP 3.4 as SMS-PP; waits for the PoR, prints it with its response script)
//
// The storage key file holds 64 hex digits (AES-256) and must be mode 0600,
// as smdpd's storage_key_file.
#include "card_command.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include "rsp/file.hpp"
#include "rsp/crypto.hpp"
#include "rsp/ota/card_store.hpp"
#include "rsp/ota/sms_sender.hpp"
#include "script_command.hpp"

namespace rsp::ota::cli {

namespace {

struct CardOptions {
  std::string store = "ota.db", storage_key_file;
  std::string iccid, tar, msl = "00", spi, data, command_id;
  unsigned key_version = 0;
  std::string cipher = "AES", checksum = "AES", kic_key, kid_key, counter = "0";
  std::size_t cc_length = 0;
  bool verbose = false;
  std::string smpp, system_id, password_file, msisdn, originator = "8800";
  unsigned timeout = 30;
};

// A key file others can read is a key others may have (mode bits, as smdpd):
// the one check in common/file.hpp, with what the file is for in the error.
Bytes read_secret_file(const std::string& path, const char* what) {
  try {
    return read_private_file(path);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(what) + ": " + e.what());
  }
}

std::string trimmed(const Bytes& b) {
  std::string s(b.begin(), b.end());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

SecretBytes storage_key(const CardOptions& o) {
  if (o.storage_key_file.empty()) throw std::invalid_argument("--storage-key-file is required");
  SecretBytes hex = read_secret_file(o.storage_key_file, "storage key file");
  SecretBytes key = from_hex(trimmed(hex));
  if (key.size() != 32) throw std::invalid_argument("storage key file must hold 64 hex digits (an AES-256 key)");
  return key;
}

// A key is hex on the command line, or @FILE (mode 0600) to keep it out of
// the process list and the shell history.
SecretBytes key_value(const std::string& v, const char* what) {
  if (!v.empty() && v[0] == '@') return from_hex(trimmed(read_secret_file(v.substr(1), what)));
  return from_hex(v);
}

Tar tar_of(const std::string& hex) {
  Bytes t = from_hex(hex);
  if (t.size() != 3) throw std::invalid_argument("--tar must be three bytes of hex");
  return {t[0], t[1], t[2]};
}

std::uint8_t byte_of(const std::string& hex, const char* what) {
  Bytes b = from_hex(hex);
  if (b.size() != 1) throw std::invalid_argument(std::string(what) + " must be one byte of hex");
  return b[0];
}

std::string counter_hex(std::uint64_t c) {
  Bytes b;
  for (int s = 32; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(c >> s));
  return to_hex(b, true);
}

std::uint64_t counter_of(const std::string& hex) {
  if (hex.empty() || hex.size() > 10 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    throw std::invalid_argument("--counter must be 1 to 10 hex digits");
  return std::stoull(hex, nullptr, 16);
}

// The SPI when none is given: the TAR's MSL, with at least the counter mode
// "process if higher" (the store reserves a counter for every packet anyway),
// and a PoR always, by SMS-SUBMIT, protected as the command is.
Spi default_spi(std::uint8_t msl) {
  std::uint8_t first = msl;
  if (((first >> 3) & 0x03) < 2) first = static_cast<std::uint8_t>((first & ~0x18) | 0x10);
  Spi s = Spi::decode(first, 0x21);
  if (s.rc_cc_ds != RcCcDs::Ds) s.por_rc_cc_ds = s.rc_cc_ds;
  s.por_ciphered = s.ciphering;
  return s;
}

struct Session {
  std::unique_ptr<store::Db> db;
  std::unique_ptr<CardStore> cards;
  explicit Session(const CardOptions& o) {
    SecretBytes key = storage_key(o);
    db = std::make_unique<store::Db>(o.store);
    cards = std::make_unique<CardStore>(*db, key);
  }
};

KeySet key_set_from(const CardOptions& o) {
  if (o.key_version < 1 || o.key_version > 15) throw std::invalid_argument("--key-version must be 1..15");
  KeySet k;
  k.version = static_cast<std::uint8_t>(o.key_version);
  k.cipher = algorithm_from_name(o.cipher);
  k.checksum = algorithm_from_name(o.checksum);
  k.kic = key_value(o.kic_key, "KIc key file");
  k.kid = key_value(o.kid_key, "KID key file");
  return k;
}

CardTar tar_from(const CardOptions& o) {
  unsigned kv = o.key_version ? o.key_version : 1;
  if (kv > 15) throw std::invalid_argument("--key-version must be 1..15");
  return {tar_of(o.tar), byte_of(o.msl, "--msl"), static_cast<std::uint8_t>(kv)};
}

int add(const CardOptions& o, bool card, bool key_set, bool tar) {
  std::vector<CardStore::NewKeySet> k;
  std::vector<CardTar> t;
  if (key_set) k.push_back({key_set_from(o), counter_of(o.counter)});
  if (tar) t.push_back(tar_from(o));
  Session s(o);
  if (card) {
    s.cards->add_card(o.iccid, k, t);  // all or nothing
    return 0;
  }
  for (const auto& one : k) s.cards->add_key_set(o.iccid, one.keys, one.counter);
  for (const auto& one : t) s.cards->add_tar(o.iccid, one);
  return 0;
}

int show(const CardOptions& o) {
  Session s(o);
  CardInfo c = s.cards->show(o.iccid);
  std::cout << "ICCID: " << c.iccid << "\n";
  for (const auto& k : c.key_sets) {
    std::cout << "key set " << unsigned{k.version} << ":\n"
              << "  KIc: " << algorithm_name(k.cipher) << ", " << k.kic_length << " bytes, KCV "
              << (k.kic_kcv.empty() ? "-" : k.kic_kcv) << "\n"
              << "  KID: " << algorithm_name(k.checksum) << ", " << k.kid_length << " bytes, KCV "
              << (k.kid_kcv.empty() ? "-" : k.kid_kcv) << "\n"
              << "  CNTR: " << counter_hex(k.counter) << " (last used)\n";
  }
  for (const auto& t : c.tars)
    std::cout << "TAR " << to_hex(ByteView(t.tar.data(), 3), true) << ": MSL " << to_hex(Bytes{t.msl}, true)
              << ", key set " << unsigned{t.key_version} << "\n";
  return 0;
}

int list(const CardOptions& o) {
  Session s(o);
  for (const auto& iccid : s.cards->list()) std::cout << iccid << "\n";
  return 0;
}

int remove(const CardOptions& o) {
  Session s(o);
  s.cards->delete_card(o.iccid);
  return 0;
}

CommandRequest request_from(const CardOptions& o, Session& s) {
  CommandRequest r;
  r.iccid = o.iccid;
  r.tar = tar_of(o.tar);
  r.secured_data = from_hex(o.data);
  r.checksum_length = o.cc_length;
  r.command_id = o.command_id;
  if (!o.spi.empty()) {
    Bytes spi = from_hex(o.spi);
    if (spi.size() != 2) throw std::invalid_argument("--spi must be two bytes of hex");
    r.spi = Spi::decode(spi[0], spi[1]);
  } else {
    CardInfo c = s.cards->show(o.iccid);
    std::optional<std::uint8_t> msl;
    for (const auto& t : c.tars)
      if (t.tar == r.tar) msl = t.msl;
    if (!msl) throw CardStoreError("card " + o.iccid + " has no TAR " + o.tar + " (the card would answer 09)");
    r.spi = default_spi(*msl);
  }
  return r;
}

int build_packet(const CardOptions& o) {
  Session s(o);
  ReservedPacket p = s.cards->reserve_command_packet(request_from(o, s));
  if (o.verbose)
    std::cerr << "key set " << unsigned{p.key_version} << ", CNTR " << counter_hex(p.cntr)
              << (p.retry ? " (reserved before: the same packet)" : "") << "\n";
  std::cout << to_hex(p.packet, true) << "\n";
  return 0;
}

int send(const CardOptions& o) {
  auto colon = o.smpp.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("--smpp must be HOST:PORT");
  smpp::EsmeConfig ec;
  ec.host = o.smpp.substr(0, colon);
  ec.port = static_cast<std::uint16_t>(std::stoul(o.smpp.substr(colon + 1)));
  ec.bind.system_id = o.system_id;
  if (!o.password_file.empty()) ec.bind.password = trimmed(read_secret_file(o.password_file, "SMPP password file"));
  SmsSenderConfig sc;
  sc.originator = o.originator;
  Session s(o);
  CommandRequest r = request_from(o, s);
  SmsCommandSender sender(*s.cards, ec, sc);
  sender.start();
  auto timeout = std::chrono::seconds(o.timeout);
  if (!sender.esme().wait_bound(timeout))
    throw std::runtime_error("no SMPP bind with " + o.smpp + " within " + std::to_string(o.timeout) + " s");
  ReservedPacket p = sender.send(o.msisdn, r);  // the counter is durable before this returns
  if (o.verbose) std::cerr << "key set " << unsigned{p.key_version} << ", CNTR " << counter_hex(p.cntr) << "\n";
  if (!sender.wait(o.iccid, p.key_version, p.cntr, timeout)) {
    auto st = sender.outcome(o.iccid, p.key_version, p.cntr);
    bool sent = st && st->state == CommandOutcome::State::Sent;
    std::cerr << "error: no PoR within " << o.timeout << " s (CNTR " << counter_hex(p.cntr)
              << (sent ? ", accepted by the SMSC" : ", not acknowledged by the SMSC") << ")\n";
    sender.stop();
    return 3;
  }
  CommandOutcome out = *sender.outcome(o.iccid, p.key_version, p.cntr);
  sender.stop();
  if (out.state == CommandOutcome::State::SubmitFailed) {
    std::cerr << "error: the SMSC refused the submit_sm: " << smpp::status_name(out.submit_status) << "\n";
    return 2;
  }
  std::uint8_t status = out.por_status.value_or(0xFF);
  std::cout << "CNTR: " << counter_hex(p.cntr) << "\n"
            << "PoR: " << to_hex(Bytes{status}, true) << " (" << status_name(status) << ")\n";
  if (out.response) {
    print_response_script(std::cout, *out.response);
  } else if (!out.additional_data.empty()) {
    std::cout << "additional data: " << to_hex(out.additional_data, true) << "\n";
  }
  return status == 0 ? 0 : 2;
}

int new_storage_key(const CardOptions& o) {
  if (o.storage_key_file.empty()) throw std::invalid_argument("--storage-key-file is required");
  if (std::filesystem::exists(o.storage_key_file))
    throw std::runtime_error(o.storage_key_file + " exists; a new key would orphan what the old one encrypted");
  SecretBytes key = crypto::random_bytes(32);
  write_private_file(o.storage_key_file, to_bytes(to_hex(key) + "\n"));
  return 0;
}

void key_set_options(CLI::App* c, CardOptions& o, bool required) {
  auto* kv = c->add_option("--key-version", o.key_version, "key set version, 1..15 (b8..b5 of KIc/KID)");
  c->add_option("--cipher", o.cipher, "the KIc key's algorithm: DES, 3DES-2KEY, 3DES-3KEY, AES (default AES)");
  auto* kic = c->add_option("--kic-key", o.kic_key, "KIc key, hex or @FILE (mode 0600)");
  c->add_option("--checksum", o.checksum, "the KID key's algorithm: DES.., AES, CRC16, CRC32 (default AES)");
  auto* kid = c->add_option("--kid-key", o.kid_key, "KID key, hex or @FILE (mode 0600)");
  c->add_option("--counter", o.counter, "the card's counter for this key set, up to 10 hex digits (default 0)");
  if (required) {
    kv->required();
    kic->required();
    kid->required();
  } else {
    kic->needs(kv);
    kid->needs(kv);
  }
}

}  // namespace

std::function<std::function<int()>()> add_card_command(CLI::App& app) {
  auto o = std::make_shared<CardOptions>();
  auto* card = app.add_subcommand("card", "the OTA server's card store: keys, TARs, counters")->require_subcommand(1);
  card->add_option("--store", o->store, "the store (SQLite), default ota.db");
  card->add_option("--storage-key-file", o->storage_key_file, "file with the 64-hex-digit storage key, mode 0600");
  card->fallthrough();

  auto* nk = card->add_subcommand("new-storage-key", "write a fresh storage key to --storage-key-file (mode 0600)");
  auto* a = card->add_subcommand("add", "add a card, optionally with a key set and a TAR");
  a->add_option("--iccid", o->iccid, "the card's ICCID")->required();
  key_set_options(a, *o, false);
  a->add_option("--tar", o->tar, "a TAR to address on the card, three bytes of hex");
  a->add_option("--msl", o->msl, "the TAR's minimum security level (SPI first byte coding), hex");
  auto* aks = card->add_subcommand("add-key-set", "add a key set to a card");
  aks->add_option("--iccid", o->iccid, "the card's ICCID")->required();
  key_set_options(aks, *o, true);
  auto* at = card->add_subcommand("add-tar", "add a TAR to a card");
  at->add_option("--iccid", o->iccid, "the card's ICCID")->required();
  at->add_option("--tar", o->tar, "TAR, three bytes of hex")->required();
  at->add_option("--msl", o->msl, "minimum security level (SPI first byte coding), hex");
  at->add_option("--key-version", o->key_version, "the key set the server secures this TAR's packets with (default 1)");
  auto* sh = card->add_subcommand("show", "a card's key sets (KCVs, never keys), counters and TARs");
  sh->add_option("--iccid", o->iccid, "the card's ICCID")->required();
  auto* ls = card->add_subcommand("list", "the ICCIDs in the store");
  auto* del = card->add_subcommand("delete", "delete a card with its keys, TARs and reserved packets");
  del->add_option("--iccid", o->iccid, "the card's ICCID")->required();
  auto* bp = card->add_subcommand("build-packet", "reserve the next counter and print the command packet, hex");
  bp->add_option("--iccid", o->iccid, "the card's ICCID")->required();
  bp->add_option("--tar", o->tar, "TAR, three bytes of hex")->required();
  bp->add_option("--data", o->data, "secured data in clear, hex");
  bp->add_option("--spi", o->spi, "SPI, two bytes of hex (default: from the TAR's MSL)");
  bp->add_option("--command-id", o->command_id, "the same id again returns the same packet (a retry)");
  bp->add_option("--cc-length", o->cc_length, "AES-CMAC length, 4 or 8 (default 8)");
  bp->add_flag("--verbose", o->verbose, "key set and CNTR on stderr");
  auto* sd = card->add_subcommand("send", "send a command packet over SMPP (SMS-PP) and wait for its PoR");
  sd->add_option("--smpp", o->smpp, "the SMSC's SMPP 3.4 address, HOST:PORT")->required();
  sd->add_option("--system-id", o->system_id, "SMPP system_id")->required();
  sd->add_option("--password-file", o->password_file, "file with the SMPP password, mode 0600");
  sd->add_option("--iccid", o->iccid, "the card's ICCID")->required();
  sd->add_option("--msisdn", o->msisdn, "the card's MSISDN (destination_addr)")->required();
  sd->add_option("--tar", o->tar, "TAR, three bytes of hex")->required();
  sd->add_option("--data", o->data, "secured data in clear, hex (e.g. from `ota script build`)")->required();
  sd->add_option("--spi", o->spi, "SPI, two bytes of hex (default: from the TAR's MSL)");
  sd->add_option("--command-id", o->command_id, "the same id again sends the same packet (a retry)");
  sd->add_option("--cc-length", o->cc_length, "AES-CMAC length, 4 or 8 (default 8)");
  sd->add_option("--originator", o->originator, "source_addr: where the card sends its PoR (default 8800)");
  sd->add_option("--timeout", o->timeout, "seconds to wait for the bind and for the PoR (default 30)");
  sd->add_flag("--verbose", o->verbose, "key set and CNTR on stderr");

  return [=]() -> std::function<int()> {
    if (!card->parsed()) return {};
    if (nk->parsed()) return [=] { return new_storage_key(*o); };
    if (a->parsed()) return [=] { return add(*o, true, o->key_version != 0, !o->tar.empty()); };
    if (aks->parsed()) return [=] { return add(*o, false, true, false); };
    if (at->parsed()) return [=] { return add(*o, false, false, true); };
    if (sh->parsed()) return [=] { return show(*o); };
    if (ls->parsed()) return [=] { return list(*o); };
    if (del->parsed()) return [=] { return remove(*o); };
    if (bp->parsed()) return [=] { return build_packet(*o); };
    if (sd->parsed()) return [=] { return send(*o); };
    return {};
  };
}

}  // namespace rsp::ota::cli
