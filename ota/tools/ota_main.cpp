// ota: the OTA platform's command line. Today: one secured packet at a time
// (ETSI TS 102 225 with 3GPP TS 31.115 for SMS), built from or parsed into
// its fields, so a test lab can compare with other tools byte for byte.
//
//   ota packet build --spi 1639 --kic 22 --kid 22 --tar B00011 --cntr 0000000001
//                    --kic-key HEX --kid-key HEX --data HEX [--cc-length 4]
//   ota packet parse HEX [--kic-key HEX --kid-key HEX]
//   ota packet build-por --spi .. --kic .. --kid .. --tar .. --cntr .. --status 00 [--data HEX] [keys]
//   ota packet parse-por HEX --spi .. --kic .. --kid .. [keys]
//   ota sms wrap PACKET [--oa DIGITS] [--scts HEX] [--ref N] [--ref16]
//   ota sms unwrap TPDU...
//   ota card ... add|add-key-set|add-tar|show|list|delete|build-packet|send (card_command.cpp)
//   ota script build|parse-response (script_command.cpp)
//
// All values are hex; CNTR is the 5-byte counter (up to 10 hex digits).
// --cipher/--checksum name the key set's algorithms when KIc/KID say
// "implicit". Keys are never printed. See docs/ota.md.
#include <CLI/CLI.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "api_command.hpp"
#include "card_command.hpp"
#include "script_command.hpp"
#include "rsp/cli.hpp"
#include "rsp/ota/command_packet.hpp"
#include "rsp/ota/response_packet.hpp"
#include "rsp/ota/sms_deliver.hpp"
#include "rsp/ota/status.hpp"

namespace {

using namespace rsp;
using namespace rsp::ota;

struct Options {
  std::string spi, kic = "00", kid = "00", tar, cntr = "0", kic_key, kid_key, data, cipher = "implicit",
                   checksum = "implicit", status = "00", packet;
  std::size_t cc_length = 0;
  std::string oa = "12345678", scts = "00000000000000";
  std::uint16_t reference = 0;
  bool reference16 = false;
  std::vector<std::string> tpdus;
};

std::uint8_t one_byte(const std::string& hex, const char* what) {
  Bytes b = from_hex(hex);
  if (b.size() != 1) throw std::invalid_argument(std::string(what) + " must be one byte of hex");
  return b[0];
}

CommandHeader header_of(const Options& o) {
  Bytes spi = from_hex(o.spi), tar = from_hex(o.tar);
  if (spi.size() != 2) throw std::invalid_argument("--spi must be two bytes of hex");
  if (tar.size() != 3) throw std::invalid_argument("--tar must be three bytes of hex");
  CommandHeader h;
  h.spi = Spi::decode(spi[0], spi[1]);
  h.kic = one_byte(o.kic, "--kic");
  h.kid = one_byte(o.kid, "--kid");
  h.tar = {tar[0], tar[1], tar[2]};
  return h;
}

KeySet keys_of(const Options& o, const CommandHeader* h) {
  KeySet k;
  k.cipher = algorithm_from_name(o.cipher);
  k.checksum = algorithm_from_name(o.checksum);
  k.kic = from_hex(o.kic_key);
  k.kid = from_hex(o.kid_key);
  if (h) k.version = static_cast<std::uint8_t>((h->spi.ciphering ? h->kic : h->kid) >> 4);
  return k;
}

std::uint64_t counter_of(const std::string& hex) {
  if (hex.empty() || hex.size() > 10) throw std::invalid_argument("--cntr must be 1 to 10 hex digits");
  return std::stoull(hex, nullptr, 16);
}

std::string counter_hex(std::uint64_t c) {
  Bytes b;
  for (int s = 32; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(c >> s));
  return to_hex(b, true);
}

std::string hex1(std::uint8_t v) { return to_hex(Bytes{v}, true); }

const char* checksum_word(RcCcDs m) {
  switch (m) {
    case RcCcDs::None: return "none";
    case RcCcDs::Rc: return "RC";
    case RcCcDs::Cc: return "CC";
    case RcCcDs::Ds: return "DS";
  }
  return "?";
}

const char* counter_word(CounterMode m) {
  switch (m) {
    case CounterMode::None: return "no counter";
    case CounterMode::AvailableNoCheck: return "counter available, no replay or sequence check";
    case CounterMode::ProcessIfHigher: return "process if CNTR is higher";
    case CounterMode::ProcessIfOneHigher: return "process if CNTR is exactly one higher";
  }
  return "?";
}

const char* por_word(PorRequest p) {
  switch (p) {
    case PorRequest::None: return "none";
    case PorRequest::Always: return "always";
    case PorRequest::OnError: return "on error only";
  }
  return "?";
}

void print_header(const CommandHeader& h) {
  auto spi = h.spi.encode();
  std::cout << "SPI: " << to_hex(spi, true) << "\n"
            << "  RC/CC/DS: " << checksum_word(h.spi.rc_cc_ds) << "\n"
            << "  ciphering: " << (h.spi.ciphering ? "yes" : "no") << "\n"
            << "  counter: " << counter_word(h.spi.counter) << "\n"
            << "  PoR: " << por_word(h.spi.por) << "\n"
            << "  PoR RC/CC/DS: " << checksum_word(h.spi.por_rc_cc_ds) << "\n"
            << "  PoR ciphered: " << (h.spi.por_ciphered ? "yes" : "no") << "\n"
            << "  PoR by: " << (h.spi.por_by_sms_submit ? "SMS-SUBMIT" : "SMS-DELIVER-REPORT") << "\n";
  KeyIdentifier kic = decode_kic(h.kic), kid = decode_kid(h.kid, h.spi.rc_cc_ds);
  std::cout << "KIc: " << hex1(h.kic) << " (" << algorithm_name(kic.algorithm) << ", key version "
            << int(kic.key_version) << ")\n"
            << "KID: " << hex1(h.kid) << " (" << algorithm_name(kid.algorithm) << ", key version "
            << int(kid.key_version) << ")\n"
            << "TAR: " << to_hex(h.tar, true) << "\n";
}

int build(const Options& o) {
  CommandPacket p;
  p.header = header_of(o);
  p.cntr = counter_of(o.cntr);
  p.secured_data = from_hex(o.data);
  p.checksum_length = o.cc_length;
  std::cout << to_hex(build_command_packet(p, keys_of(o, &p.header)), true) << "\n";
  return 0;
}

int parse(const Options& o) {
  Bytes packet = from_hex(o.packet);
  CommandPacketView v = read_command_packet(packet);
  std::cout << "CPL: " << to_hex(Bytes{static_cast<std::uint8_t>(v.cpl >> 8), static_cast<std::uint8_t>(v.cpl)}, true)
            << " (" << v.cpl << ")\n"
            << "CHL: " << hex1(v.chl) << " (" << int(v.chl) << ")\n";
  print_header(v.header);
  bool have_keys = !o.kic_key.empty() || !o.kid_key.empty();
  bool needs_keys = v.header.spi.ciphering || v.header.spi.rc_cc_ds == RcCcDs::Cc;
  if (needs_keys && !have_keys) {
    std::cout << (v.header.spi.ciphering ? "ciphered (CNTR..end): " : "CNTR..end: ")
              << to_hex(v.protected_part, true) << "\n(give --kic-key/--kid-key to decipher and verify)\n";
    return 0;
  }
  OpenedCommandPacket p = open_command_packet(packet, keys_of(o, &v.header));
  std::cout << "CNTR: " << counter_hex(p.cntr) << "\n"
            << "PCNTR: " << hex1(p.pcntr) << " (" << int(p.pcntr) << ")\n";
  if (v.header.spi.rc_cc_ds != RcCcDs::None)
    std::cout << checksum_word(v.header.spi.rc_cc_ds) << ": " << to_hex(p.rc_cc_ds, true) << " (verified)\n";
  std::cout << "secured data: " << to_hex(p.secured_data, true) << "\n"
            << "padding: " << to_hex(p.padding, true) << "\n";
  return 0;
}

int build_por(const Options& o) {
  CommandHeader h = header_of(o);
  ResponsePacket r;
  r.tar = h.tar;
  r.cntr = counter_of(o.cntr);
  r.status = one_byte(o.status, "--status");
  r.additional_data = from_hex(o.data);
  std::cout << to_hex(build_response_packet(r, h, keys_of(o, &h), o.cc_length), true) << "\n";
  return 0;
}

int parse_por(const Options& o) {
  CommandHeader h = header_of(o);
  OpenedResponsePacket p = open_response_packet(from_hex(o.packet), h, keys_of(o, &h));
  std::cout << "RPL: " << to_hex(Bytes{static_cast<std::uint8_t>(p.rpl >> 8), static_cast<std::uint8_t>(p.rpl)}, true)
            << " (" << p.rpl << ")\n"
            << "RHL: " << hex1(p.rhl) << " (" << int(p.rhl) << ")\n"
            << "TAR: " << to_hex(p.packet.tar, true) << "\n"
            << "CNTR: " << counter_hex(p.packet.cntr) << "\n"
            << "PCNTR: " << hex1(p.pcntr) << " (" << int(p.pcntr) << ")\n"
            << "status: " << hex1(p.packet.status) << " (" << status_name(p.packet.status) << ")\n";
  if (!p.rc_cc_ds.empty())
    std::cout << checksum_word(h.spi.por_rc_cc_ds) << ": " << to_hex(p.rc_cc_ds, true) << " (verified)\n";
  if (!p.secured) std::cout << "secured: no (a status 06 PoR goes unciphered and without RC/CC/DS)\n";
  std::cout << "additional data: " << to_hex(p.packet.additional_data, true) << "\n"
            << "padding: " << to_hex(p.padding, true) << "\n";
  return 0;
}

int sms_wrap(const Options& o) {
  SmsDeliver templ;
  templ.tp_oa.digits = o.oa;
  Bytes scts = from_hex(o.scts);
  if (scts.size() != 7) throw std::invalid_argument("--scts must be 7 bytes of hex");
  std::copy(scts.begin(), scts.end(), templ.tp_scts.begin());
  for (const Bytes& t : command_packet_to_sms(from_hex(o.packet), templ, o.reference, o.reference16))
    std::cout << to_hex(t, true) << "\n";
  return 0;
}

int sms_unwrap(const Options& o) {
  CommandPacketReassembler r;
  for (const auto& t : o.tpdus) {
    if (auto packet = r.add(from_hex(t))) {
      std::cout << to_hex(*packet, true) << "\n";
      if (&t != &o.tpdus.back()) throw SmsError("TPDUs left after the packet was complete");
      return 0;
    }
  }
  throw SmsError("the concatenated packet is incomplete");
}

void header_options(CLI::App* c, Options& o) {
  c->add_option("--spi", o.spi, "SPI, two bytes of hex (TS 102 225 5.1.1)")->required();
  c->add_option("--kic", o.kic, "KIc, one byte of hex (5.1.2)");
  c->add_option("--kid", o.kid, "KID, one byte of hex (5.1.3)");
  c->add_option("--tar", o.tar, "TAR, three bytes of hex")->required();
}

void key_options(CLI::App* c, Options& o) {
  c->add_option("--kic-key", o.kic_key, "ciphering key, hex");
  c->add_option("--kid-key", o.kid_key, "checksum key, hex");
  c->add_option("--cipher", o.cipher, "the key set's cipher when KIc says implicit (DES, 3DES-2KEY, 3DES-3KEY, AES)");
  c->add_option("--checksum", o.checksum, "the key set's checksum when KID says implicit (DES.., AES, CRC16, CRC32)");
  c->add_option("--cc-length", o.cc_length, "AES-CMAC length, 4 or 8 (default 8)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ota: ETSI TS 102 225 secured packets (SMS, 3GPP TS 31.115)"};
  app.require_subcommand(1);
  Options o;
  auto* packet = app.add_subcommand("packet", "build or parse one secured packet")->require_subcommand(1);

  auto* b = packet->add_subcommand("build", "build a command packet; prints it in hex");
  header_options(b, o);
  key_options(b, o);
  b->add_option("--cntr", o.cntr, "CNTR, up to 10 hex digits");
  b->add_option("--data", o.data, "secured data in clear, hex");

  auto* p = packet->add_subcommand("parse", "parse a command packet; with keys, decipher and verify it");
  p->add_option("packet", o.packet, "the command packet, hex (from CPL on)")->required();
  key_options(p, o);

  auto* bp = packet->add_subcommand("build-por", "build the response packet (PoR) to a command header");
  header_options(bp, o);
  key_options(bp, o);
  bp->add_option("--cntr", o.cntr, "CNTR, up to 10 hex digits");
  bp->add_option("--status", o.status, "response status code, one byte of hex");
  bp->add_option("--data", o.data, "additional data, hex");

  auto* pp = packet->add_subcommand("parse-por", "parse, decipher and verify a PoR to a command header");
  pp->add_option("packet", o.packet, "the response packet, hex (from RPL on, or with its '027100' UDH)")->required();
  header_options(pp, o);
  key_options(pp, o);

  auto* sms = app.add_subcommand("sms", "the command packet in SMS-DELIVER TPDUs (3GPP TS 31.115)")->require_subcommand(1);
  auto* wrap = sms->add_subcommand("wrap", "print the SMS-DELIVER TPDU(s) carrying a command packet, one per line");
  wrap->add_option("packet", o.packet, "the command packet, hex (from CPL on)")->required();
  wrap->add_option("--oa", o.oa, "TP-OA digits");
  wrap->add_option("--scts", o.scts, "TP-SCTS, 7 bytes of hex");
  wrap->add_option("--ref", o.reference, "concatenation reference");
  wrap->add_flag("--ref16", o.reference16, "16-bit concatenation reference (IEI 08)");
  auto* unwrap = sms->add_subcommand("unwrap", "reassemble a command packet from its SMS-DELIVER TPDU(s)");
  unwrap->add_option("tpdu", o.tpdus, "the TPDUs, hex, in any order")->required();

  auto card = rsp::ota::cli::add_card_command(app);
  auto script = rsp::ota::cli::add_script_command(app);
  auto api = rsp::ota::cli::add_api_command(app);

  if (auto rc = rsp::cli::parse(app, argc, argv, "ota")) return *rc;
  try {
    if (auto action = card()) return action();
    if (auto action = script()) return action();
    if (auto action = api()) return action();
    if (b->parsed()) return build(o);
    if (p->parsed()) return parse(o);
    if (bp->parsed()) return build_por(o);
    if (pp->parsed()) return parse_por(o);
    if (wrap->parsed()) return sms_wrap(o);
    if (unwrap->parsed()) return sms_unwrap(o);
  } catch (const SmsError& e) {
    std::cerr << "error: SMS: " << e.what() << "\n";
    return 2;
  } catch (const PacketError& e) {
    std::cerr << "error: PoR status " << hex1(static_cast<std::uint8_t>(e.status)) << " (" << status_name(e.status)
              << "): " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
