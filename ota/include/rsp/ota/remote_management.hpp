// The card side of ETSI TS 102 226: a Remote File Management (RFM) or Remote
// Application Management (RAM) application runs a command script, C-APDU by
// C-APDU, through an APDU executor the card core provides, and answers with
// the response script that goes into the PoR's additional data.
//
// The executor is a plain callback so that any card core (the UICC
// simulator, a test double) can plug in: it takes a C-APDU and returns the
// R-APDU (data || SW1 SW2).
//
// Rules (TS 102 226 5.1.1, 5.2.1): commands run in script order and the
// script stops at the first command whose status word is an error; the
// response counts the commands executed, the failing one included. A script
// that does not parse executes nothing (expanded: Bad Format TLV; compact:
// count 0 and SW '6700', our choice, docs/ota.md). Immediate and Error
// Actions ask the terminal for a proactive session: this stub does not run
// them (they are the card core's business) and does not count them.
#pragma once
#include <cstdint>
#include <functional>
#include <utility>

#include "rsp/bytes.hpp"
#include "rsp/ota/command_script.hpp"

namespace rsp::ota {

using ApduExecutor = std::function<Bytes(ByteView capdu)>;

// ISO/IEC 7816-4 5.1.3 and TS 102 221 10.2.1: '90 00', '61 xx' (more data),
// '91 xx' (proactive command pending), '92 xx' (after retries) end normally;
// '62 xx' / '63 xx' are warnings. Everything else ('64'..'6F', '98 xx', ...)
// is an error that stops a script.
bool is_error_status_word(std::uint16_t sw);

// Runs the script in `secured_data` (format from its first byte).
ResponseScript run_command_script(ByteView secured_data, const ApduExecutor& execute,
                                  CommandSet set = CommandSet::Uicc);

// An application at a TAR that the secured data of an accepted command
// packet goes to; returns the PoR's additional data.
class RemoteApplication {
 public:
  virtual ~RemoteApplication() = default;
  virtual Bytes execute(ByteView secured_data) = 0;
};

// RFM (UICC command set) or RAM (GlobalPlatform command set) over an executor.
class RemoteManagementApplication : public RemoteApplication {
 public:
  RemoteManagementApplication(ApduExecutor execute, CommandSet set) : execute_(std::move(execute)), set_(set) {}
  Bytes execute(ByteView secured_data) override {
    return encode_response_script(run_command_script(secured_data, execute_, set_));
  }

 private:
  ApduExecutor execute_;
  CommandSet set_;
};

}  // namespace rsp::ota
