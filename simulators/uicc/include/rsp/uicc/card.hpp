// The UICC commands (ETSI TS 102 221 clause 11, 3GPP TS 31.102 7.1) over a
// CardImage: SELECT, STATUS, READ/UPDATE BINARY and RECORD, SEARCH RECORD,
// INCREASE, RETRIEVE/SET DATA (BER-TLV EFs), VERIFY/CHANGE/DISABLE/ENABLE/
// UNBLOCK PIN, GET CHALLENGE, AUTHENTICATE (test algorithm; Milenage stays a
// hook of the eUICC), TERMINAL PROFILE, DEACTIVATE/ACTIVATE FILE, and the
// TS 102 222 administrative commands CREATE FILE, DELETE FILE, TERMINATE
// DF/EF. Access conditions come from EF.ARR (TS 102 221 9.2.4 expanded
// format). Logical channels, GET RESPONSE and
// the transport stay with the card that embeds this core.
#pragma once
#include <set>

#include "rsp/apdu.hpp"
#include "rsp/uicc/profile_package.hpp"

namespace rsp::uicc {

// What is selected on one logical channel.
struct Selection {
  const CardImage* image = nullptr;  // the image this selection points into
  File* df = nullptr;                // current DF / ADF (nullptr: the MF)
  File* ef = nullptr;                // current EF, if any
  File* adf = nullptr;               // current application
  std::size_t record = 0;            // current record (1-based; 0: none)
};

// Card-wide security status (TS 102 221 9.5): key references verified since
// the last reset.
struct SecurityStatus {
  std::set<std::uint8_t> verified;
};

class Card {
 public:
  Card(CardImage& image, SecurityStatus& security) : img_(image), sec_(security) {}

  // One command on a channel's selection. 6D00 for an instruction it does
  // not know (the caller may try others first).
  apdu::Response process(const apdu::Command& c, Selection& sel);

  // TS 102 221 11.1.1.3 FCP template of a file.
  Bytes fcp(const File& f) const;
  // Does the file's EF.ARR rule grant the access mode (ISO 7816-4 AM byte
  // bits: 01 read/search, 02 update, ...) or the instruction `ins` (an AM_DO
  // command header, TS 102 221 9.2.4)?
  bool allowed(const File& f, std::uint8_t am_bit, std::uint8_t ins = 0) const;

 private:
  CardImage& img_;
  SecurityStatus& sec_;

  apdu::Response select(const apdu::Command& c, Selection& sel);
  apdu::Response status(const apdu::Command& c, Selection& sel);
  apdu::Response read_binary(const apdu::Command& c, Selection& sel);
  apdu::Response update_binary(const apdu::Command& c, Selection& sel);
  apdu::Response read_record(const apdu::Command& c, Selection& sel);
  apdu::Response update_record(const apdu::Command& c, Selection& sel);
  apdu::Response search_record(const apdu::Command& c, Selection& sel);
  apdu::Response increase(const apdu::Command& c, Selection& sel);
  apdu::Response retrieve_data(const apdu::Command& c, Selection& sel);
  apdu::Response set_data(const apdu::Command& c, Selection& sel);
  apdu::Response pin_command(const apdu::Command& c);
  apdu::Response get_challenge(const apdu::Command& c);
  apdu::Response authenticate(const apdu::Command& c, Selection& sel);
  apdu::Response create_file(const apdu::Command& c, Selection& sel);
  apdu::Response delete_file(const apdu::Command& c, Selection& sel);
  apdu::Response life_cycle(const apdu::Command& c, Selection& sel);

  // The EF structures the data commands work on.
  enum class Structure { Transparent, Record, Cyclic };

  File* current_df(const Selection& sel) const;
  // The file SELECT's P1/data name (by id, parent, AID, path), or nullptr
  // with the status word in `sw`.
  File* locate(const apdu::Command& c, const Selection& sel, std::uint16_t& sw) const;
  File* ef_for(const apdu::Command& c, Selection& sel, bool sfi_in_p1, std::uint16_t& sw);
  // ef_for, then the checks every data command makes before touching the
  // EF: its structure, its life cycle, and the access condition (access
  // mode bit `am_bit` or command `ins`).
  File* checked_ef(const apdu::Command& c, Selection& sel, Structure want, std::uint8_t am_bit, std::uint8_t ins,
                   std::uint16_t& sw);
  void select_file(File* target, Selection& sel) const;
  bool key_satisfied(std::uint8_t key_reference) const;
  bool sc_satisfied(ByteView sc_dos, bool all) const;
};

}  // namespace rsp::uicc
