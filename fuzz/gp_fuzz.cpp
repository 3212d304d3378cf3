// libFuzzer target: what reaches the GlobalPlatform tools from files and
// cards that are not ours (issue 9: "as they land, ... CAP files"): CAP
// archives (zip, deflate, components), load file data blocks as the card
// checks them, the card's answers gpt parses (GET STATUS, key information,
// card recognition data, CPLC, INSTALL data), and the simulated card
// manager's contact interface fed arbitrary APDUs without a secure channel.
// The first byte picks the parser; each may only throw its own error type.
#include <cstddef>
#include <cstdint>

#include "rsp/apdu.hpp"
#include "rsp/gp/cap_file.hpp"
#include "rsp/gp/commands.hpp"
#include "rsp/sim/card_manager.hpp"

namespace {
using namespace rsp;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  ByteView in(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {  // a CAP file from disk
      try {
        gp::CapFile cap = gp::CapFile::from_zip(in);
        (void)gp::parse_load_file(cap.load_file_data_block());
      } catch (const gp::CapError&) {
      } catch (const DecodeError&) {
      }
      break;
    }
    case 1: {  // a load file data block as the card manager checks LOAD
      try {
        (void)gp::parse_load_file(in);
      } catch (const gp::CapError&) {
      }
      break;
    }
    case 2: {  // GET STATUS answers, every scope
      for (auto scope : {gp::StatusScope::Isd, gp::StatusScope::Applications,
                         gp::StatusScope::LoadFiles, gp::StatusScope::LoadFilesAndModules}) {
        try {
          for (const auto& e : gp::parse_get_status(scope, in)) {
            (void)gp::life_cycle_name(scope, e.life_cycle);
            (void)gp::privilege_names(e.privileges);
          }
        } catch (const DecodeError&) {
        }
      }
      break;
    }
    case 3: {  // GET DATA answers and INSTALL data
      try {
        (void)gp::parse_key_information(in);
      } catch (const DecodeError&) {
      }
      try {
        (void)gp::parse_card_data(in);
      } catch (const DecodeError&) {
      }
      try {
        (void)gp::parse_cplc(in);
      } catch (const DecodeError&) {
      }
      for (std::uint8_t p1 : {0x02, 0x04, 0x08, 0x0C, 0x20}) {
        try {
          (void)gp::InstallData::parse(p1, in);
        } catch (const DecodeError&) {
        }
      }
      break;
    }
    default: {  // APDUs on the contact interface, split at FF FE: answered, never thrown
      sim::gp::CardManager card;
      std::size_t start = 0;
      while (start < in.size()) {
        std::size_t stop = start;
        while (stop + 1 < in.size() && !(in[stop] == 0xFF && in[stop + 1] == 0xFE)) ++stop;
        if (stop + 1 >= in.size()) stop = in.size();
        try {
          apdu::Command c = apdu::Command::parse(in.subspan(start, stop - start));
          (void)card.process(c);
        } catch (const DecodeError&) {
        }
        start = stop + 2;
      }
      break;
    }
  }
  return 0;
}
