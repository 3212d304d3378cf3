// libFuzzer target: ETSI TS 102 225 secured packets and their SMS-DELIVER
// carriage (rsp/ota/*), as a card receives command packets and an OTA server
// receives PoRs. The first byte picks the parser:
//   0: ReceivingEntity::receive (never throws) with key sets for every
//      cipher and checksum; its PoR must open on the server side with the
//      same status;
//   1: open_response_packet under a CC + ciphered SPI (only PacketError);
//   2: CommandPacketReassembler over the rest split at '\xFF\xFE' marks
//      (only SmsError).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "rsp/ota/receiving_entity.hpp"
#include "rsp/ota/response_packet.hpp"
#include "rsp/ota/sms_deliver.hpp"

namespace {

using namespace rsp;
using namespace rsp::ota;

KeySet make(std::uint8_t version, Algorithm cipher, std::size_t kic_len, Algorithm checksum, std::size_t kid_len) {
  KeySet k;
  k.version = version;
  k.cipher = cipher;
  k.kic = Bytes(kic_len, static_cast<std::uint8_t>(0x10 + version));
  k.checksum = checksum;
  k.kid = Bytes(kid_len, static_cast<std::uint8_t>(0x20 + version));
  return k;
}

const KeySet kKeys[] = {
    make(1, Algorithm::Des, 8, Algorithm::Des, 8),
    make(2, Algorithm::Aes, 16, Algorithm::Aes, 16),
    make(3, Algorithm::TripleDes2, 16, Algorithm::TripleDes2, 16),
    make(4, Algorithm::TripleDes3, 24, Algorithm::TripleDes3, 24),
    make(5, Algorithm::Aes, 32, Algorithm::Aes, 32),
    make(6, Algorithm::Implicit, 0, Algorithm::Crc32, 0),
};

ReceivingEntity make_card() {
  ReceivingEntity card;
  for (const auto& k : kKeys) card.add_key_set(k);
  card.add_application({0xB0, 0x00, 0x00}, 0x00);
  card.add_application({0xB0, 0x00, 0x11}, 0x16);
  return card;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  ByteView in(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      ReceivingEntity card = make_card();
      Verdict v = card.receive(in);  // must not throw
      if (!v.accepted() && !v.secured_data.empty()) std::abort();  // a refused packet executes nothing
      Bytes por = card.respond(v, v.secured_data);
      if (!por.empty()) {
        const KeySet* keys = &kKeys[0];
        for (const auto& k : kKeys)
          if (k.version == ((v.header->spi.ciphering ? v.header->kic : v.header->kid) >> 4)) keys = &k;
        try {
          OpenedResponsePacket o = open_response_packet(por, *v.header, *keys);
          if (o.packet.status != static_cast<std::uint8_t>(v.status) &&
              o.packet.status != static_cast<std::uint8_t>(ResponseStatus::UnidentifiedSecurityError))
            std::abort();
        } catch (const PacketError&) {
          // a PoR under another key set than the one guessed here
        }
      }
      break;
    }
    case 1: {
      CommandHeader h;
      h.spi = Spi::decode(0x16, 0x39);
      h.kic = h.kid = 0x22;
      h.tar = {0xB0, 0x00, 0x11};
      try {
        open_response_packet(in, h, kKeys[1]);
      } catch (const PacketError&) {
      }
      break;
    }
    default: {
      CommandPacketReassembler r;
      std::size_t start = 0;
      while (start <= in.size()) {
        std::size_t stop = start;
        while (stop + 1 < in.size() && !(in[stop] == 0xFF && in[stop + 1] == 0xFE)) ++stop;
        if (stop + 1 >= in.size()) stop = in.size();
        try {
          r.add(in.subspan(start, stop - start));
        } catch (const SmsError&) {
        }
        start = stop + 2;
      }
      break;
    }
  }
  return 0;
}
