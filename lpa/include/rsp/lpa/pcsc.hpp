// PC/SC card link (pcsc-lite): rsp::pcsc::Reader implements
// rsp::apdu::Transport over SCardTransmit, so the ES10 client runs on a real
// reader or on vsmartcard's virtual readers ("Virtual PCD 00 00"...).
//
// transmit() passes the C-APDU through unchanged; with T=0 the card answers
// case-4 commands with 61xx and the caller issues GET RESPONSE (Es10Channel
// does). Lives in rsp_lpa (linked with PkgConfig::PCSC) until rsp_common
// links PC/SC.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "rsp/apdu.hpp"

namespace rsp::pcsc {

struct PcscError : std::runtime_error {
  PcscError(const std::string& what, long rc) : std::runtime_error(what), code(rc) {}
  long code;  // LONG from pcsc-lite (SCARD_E_*, SCARD_W_*)
};

enum class Protocol { Any, T0, T1 };

// Names of the readers pcscd knows (empty when there are none). Throws
// PcscError when pcscd is not reachable.
std::vector<std::string> list_readers();

class Reader : public apdu::Transport {
 public:
  // The reader whose name equals `name`, else the first whose name contains
  // it. Shared access. Throws PcscError (no such reader, no card...).
  static Reader connect(const std::string& name, Protocol protocol = Protocol::Any);
  // The reader at `index` in list_readers().
  static Reader connect(std::size_t index, Protocol protocol = Protocol::Any);

  ~Reader() override;  // disconnects, leaving the card powered
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;

  Bytes transmit(ByteView command_apdu) override;
  Bytes reset() override;  // SCardReconnect(SCARD_RESET_CARD); returns the ATR

  const std::string& name() const;
  Bytes atr() const;
  Protocol active_protocol() const;  // T0 or T1

 private:
  struct Impl;
  explicit Reader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rsp::pcsc
