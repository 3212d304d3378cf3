// libFuzzer target: what reaches the OTA path from a network or a card that
// is not ours: SMPP 3.4 PDUs from an SMSC (rsp/ota/smpp_pdu), TS 102 226
// command and response scripts, TS 31.111 SMS-PP download ENVELOPEs through
// the whole card side (SmsPpHandler: reassembly, TS 102 225 checks, the RFM
// application), SMS-SUBMIT PoRs with their reassembly on the server side,
// and SCP81's administration session triggering parameters (the push SMS's
// '81' TLV) and admin headers.
// The first byte picks the parser; each may only throw its own error type.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "rsp/ota/command_script.hpp"
#include "rsp/ota/envelope.hpp"
#include "rsp/ota/receiving_entity.hpp"
#include "rsp/ota/remote_management.hpp"
#include "rsp/ota/scp81_protocol.hpp"
#include "rsp/ota/scp81_trigger.hpp"
#include "rsp/ota/smpp_pdu.hpp"
#include "rsp/ota/sms_pp_handler.hpp"
#include "rsp/ota/sms_submit.hpp"

namespace {

using namespace rsp;
using namespace rsp::ota;

KeySet aes_keys() {
  KeySet k;
  k.version = 1;
  k.cipher = Algorithm::Aes;
  k.kic = Bytes(16, 0x11);
  k.checksum = Algorithm::Aes;
  k.kid = Bytes(16, 0x22);
  return k;
}

// A card executor that answers every C-APDU; a refused packet must never
// reach it.
struct Executor {
  std::size_t calls = 0;
  Bytes operator()(ByteView) {
    ++calls;
    return Bytes{0x90, 0x00};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  ByteView in(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {  // SMPP PDU as the ESME reads it off the socket
      try {
        if (auto n = smpp::pending_length(in); n && *n <= in.size()) {
          smpp::Pdu p = smpp::decode(in.subspan(0, *n));
          (void)smpp::encode(p);
        }
      } catch (const smpp::SmppError&) {
      }
      break;
    }
    case 1: {  // a command script, both command sets
      for (CommandSet set : {CommandSet::Uicc, CommandSet::GlobalPlatform}) {
        try {
          CommandScript s = decode_command_script(in, set);
          // Round trip only the expanded format: a compact C-APDU keeps its
          // raw P3 (T=0 style), which the builder may refuse as ambiguous
          // (std::invalid_argument): the builder takes operator input.
          if (s.format == ScriptFormat::Expanded) (void)encode_command_script(s, set);
        } catch (const ScriptError&) {
        }
        Executor ex;
        (void)run_command_script(in, [&](ByteView c) { return ex(c); }, set);  // answers bad format, never throws
      }
      break;
    }
    case 2: {  // a PoR's additional data
      for (ScriptFormat f : {ScriptFormat::Compact, ScriptFormat::Expanded}) {
        try {
          (void)decode_response_script(f, in);
        } catch (const ScriptError&) {
        }
      }
      break;
    }
    case 3: {  // ENVELOPE data through the card side; segments split at FF FE
      ReceivingEntity entity;
      entity.add_key_set(aes_keys());
      auto executor = std::make_shared<Executor>();
      SmsPpHandler handler(entity);
      handler.add_application({0xB0, 0x00, 0x00}, 0x00,
                              std::make_shared<RemoteManagementApplication>(
                                  [executor](ByteView c) { return (*executor)(c); }, CommandSet::Uicc));
      std::size_t start = 0;
      while (start <= in.size()) {
        std::size_t stop = start;
        while (stop + 1 < in.size() && !(in[stop] == 0xFF && in[stop + 1] == 0xFE)) ++stop;
        if (stop + 1 >= in.size()) stop = in.size();
        std::size_t before = executor->calls;
        SmsPpOutcome o = handler.envelope(in.subspan(start, stop - start));  // never throws
        if (executor->calls != before && !(o.verdict && o.verdict->accepted())) std::abort();
        start = stop + 2;
      }
      break;
    }
    case 4: {  // SCP81 push SMS triggering parameters; what decodes must encode back to the same
      try {
        scp81::TriggeringParameters t = scp81::decode_triggering_parameters(in);
        Bytes again;
        try {
          again = scp81::encode_triggering_parameters(t);
        } catch (const std::invalid_argument&) {
          std::abort();  // the decoder accepted a value the encoder refuses
        }
        // The known parts survive a round trip (unknown TLVs from inside
        // '83' are re-emitted after it, by design: kept, not interpreted).
        scp81::TriggeringParameters back = scp81::decode_triggering_parameters(again);
        if (!(back.connection == t.connection && back.security == t.security && back.retry == t.retry &&
              back.http_post == t.http_post))
          std::abort();
      } catch (const DecodeError&) {
      }
      std::string_view text(reinterpret_cast<const char*>(in.data()), in.size());
      (void)scp81::parse_admin_from(text);
      (void)scp81::parse_script_status(text);
      break;
    }
    default: {  // SMS-SUBMIT carrying a PoR, and its reassembly
      ResponsePacketReassembler r;
      try {
        SmsSubmit s = decode_sms_submit(in);
        (void)encode_sms_submit(s);
        (void)r.add("123", s.tp_ud);
      } catch (const SmsError&) {
      }
      try {
        (void)r.add("123", in);
      } catch (const SmsError&) {
      }
      break;
    }
  }
  return 0;
}
