// The card side of ETSI TS 102 225: the Receiving Entity checks a command
// packet against its key sets (one per key version, each with its own
// counter, Annex A), routes it by TAR to an application with a Minimum
// Security Level (TS 102 226 8.2.1.3.2.4: MSL coded like the SPI's first
// byte), checks the counter as the SPI asks, and answers with a PoR status.
// A packet that fails any check executes nothing: its verdict carries no
// secured data.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "rsp/bytes.hpp"
#include "rsp/ota/command_packet.hpp"
#include "rsp/ota/key_set.hpp"
#include "rsp/ota/status.hpp"

namespace rsp::ota {

struct Verdict {
  ResponseStatus status = ResponseStatus::UnidentifiedSecurityError;
  std::string reason;                   // in words, never a key
  std::optional<CommandHeader> header;  // when at least CPL..TAR could be read
  std::uint64_t cntr = 0;               // the packet's CNTR, when it could be read
  std::size_t checksum_length = 0;      // of the command's RC/CC, for the PoR's
  Bytes secured_data;                   // only for PoR OK: what the application at the TAR executes
  bool accepted() const { return status == ResponseStatus::PorOk; }
};

// Does the SPI ask for a PoR with this status (none / always / on error)?
bool por_expected(const Verdict& v);

class ReceivingEntity {
 public:
  void add_key_set(KeySet k);                      // replaces the same version
  void add_application(const Tar& tar, std::uint8_t msl);  // MSL: SPI first-byte coding
  // The application was deleted (GP DELETE over RAM): its TAR is unknown
  // again, answered 09 (TS 102 225 5.2).
  void remove_application(const Tar& tar);
  std::uint64_t counter(std::uint8_t key_version) const;   // throws std::out_of_range
  void set_counter(std::uint8_t key_version, std::uint64_t value);

  // Checks in this order: header (06), TAR (09), MSL (0A), key set (06),
  // ciphering (05), RC/CC (01), counter (04, 02, 03). Moves the key set's
  // counter forward only for a packet that passes every check.
  Verdict receive(ByteView command_packet);

  // The PoR for a verdict (empty when the SPI asks for none), secured as the
  // command's SPI asks with the key set it named, except for 06.
  Bytes respond(const Verdict& v, ByteView additional_data = {}) const;

 private:
  const KeySet* key_set_for(const CommandHeader& h, std::string& why) const;
  std::map<std::uint8_t, KeySet> key_sets_;
  std::map<std::uint8_t, std::uint64_t> counters_;
  std::map<Tar, std::uint8_t> msl_;
};

// TS 102 226 MSL check: each field of the SPI's first byte at least as strong
// as the MSL's (none < RC < CC < DS; ciphering; counter modes in their order).
bool meets_minimum_security_level(const Spi& spi, std::uint8_t msl);

}  // namespace rsp::ota
