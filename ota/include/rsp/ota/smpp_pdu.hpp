// SMPP 3.4 PDUs (SMPP v3.4 Issue 1.2, section 4 PDU definitions, 5 parameter
// definitions): the header (command_length, command_id, command_status,
// sequence_number, 3.2) and the bodies the OTA path uses: bind_transmitter /
// receiver / transceiver and their responses (4.1), submit_sm (4.4) and
// deliver_sm (4.6) with their responses, enquire_link (4.11), unbind (4.2),
// generic_nack (4.3); optional parameters as TLVs (5.3). C-Octet strings are
// NUL-terminated with the maximum lengths of section 4 (the NUL counted).
//
// Why not Debian's libsmpp34 (docs/ota.md): it keeps its error state in
// process-wide globals (smpp34_errno, smpp34_strerror) that the ESME and the
// simulated SMSC would share on their threads, and hands optional
// parameters out as malloc'd lists; the PDU set we need is small.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "rsp/bytes.hpp"

namespace rsp::ota::smpp {

// 5.1.2.1 command_id.
enum class CommandId : std::uint32_t {
  GenericNack = 0x80000000,
  BindReceiver = 0x00000001,
  BindReceiverResp = 0x80000001,
  BindTransmitter = 0x00000002,
  BindTransmitterResp = 0x80000002,
  SubmitSm = 0x00000004,
  SubmitSmResp = 0x80000004,
  DeliverSm = 0x00000005,
  DeliverSmResp = 0x80000005,
  Unbind = 0x00000006,
  UnbindResp = 0x80000006,
  BindTransceiver = 0x00000009,
  BindTransceiverResp = 0x80000009,
  EnquireLink = 0x00000015,
  EnquireLinkResp = 0x80000015,
};
std::string command_name(CommandId id);

// 5.1.3 command_status (the ones we send or act on).
namespace status {
inline constexpr std::uint32_t kOk = 0x00000000;             // ESME_ROK
inline constexpr std::uint32_t kInvMsgLen = 0x00000001;      // ESME_RINVMSGLEN
inline constexpr std::uint32_t kInvCmdLen = 0x00000002;      // ESME_RINVCMDLEN
inline constexpr std::uint32_t kInvCmdId = 0x00000003;       // ESME_RINVCMDID
inline constexpr std::uint32_t kInvBndSts = 0x00000004;      // ESME_RINVBNDSTS: wrong bind state
inline constexpr std::uint32_t kAlyBnd = 0x00000005;         // ESME_RALYBND
inline constexpr std::uint32_t kSysErr = 0x00000008;         // ESME_RSYSERR
inline constexpr std::uint32_t kInvDstAdr = 0x0000000B;      // ESME_RINVDSTADR
inline constexpr std::uint32_t kBindFail = 0x0000000D;       // ESME_RBINDFAIL
inline constexpr std::uint32_t kInvPaswd = 0x0000000E;       // ESME_RINVPASWD
inline constexpr std::uint32_t kInvSysId = 0x0000000F;       // ESME_RINVSYSID
inline constexpr std::uint32_t kMsgQFul = 0x00000014;        // ESME_RMSGQFUL
inline constexpr std::uint32_t kThrottled = 0x00000058;      // ESME_RTHROTTLED
inline constexpr std::uint32_t kDeliveryFailure = 0x000000FE;  // ESME_RDELIVERYFAILURE
}  // namespace status
std::string status_name(std::uint32_t command_status);  // "ESME_RTHROTTLED" ...

// 5.2.12 esm_class, 5.2.13 protocol_id, 5.2.19 data_coding as the OTA path sets them.
inline constexpr std::uint8_t kEsmClassUdhi = 0x40;            // GSM: UDH indicator
inline constexpr std::uint8_t kEsmClassDeliveryReceipt = 0x04;  // message type: SMSC delivery receipt
inline constexpr std::uint8_t kEsmClassTypeMask = 0x3C;
// 5.3.2 TLV tags.
inline constexpr std::uint16_t kTagReceiptedMessageId = 0x001E;
inline constexpr std::uint16_t kTagScInterfaceVersion = 0x0210;
inline constexpr std::uint16_t kTagMessagePayload = 0x0424;
inline constexpr std::uint16_t kTagMessageState = 0x0427;
// 5.2.28 message_state.
inline constexpr std::uint8_t kStateDelivered = 2, kStateUndeliverable = 5;

struct Tlv {
  std::uint16_t tag = 0;
  Bytes value;
  bool operator==(const Tlv&) const = default;
};

// bind_transmitter / bind_receiver / bind_transceiver (4.1.1, 4.1.3, 4.1.5).
struct Bind {
  std::string system_id;    // max 16 with the NUL
  std::string password;     // max 9
  std::string system_type;  // max 13
  std::uint8_t interface_version = 0x34;
  std::uint8_t addr_ton = 0, addr_npi = 0;
  std::string address_range;  // max 41
  bool operator==(const Bind&) const = default;
};
struct BindResp {
  std::string system_id;
  std::vector<Tlv> tlvs;  // sc_interface_version
  bool operator==(const BindResp&) const = default;
};
// submit_sm (4.4.1) and deliver_sm (4.6.1) share their body.
struct ShortMessage {
  std::string service_type;  // max 6
  std::uint8_t source_addr_ton = 0, source_addr_npi = 0;
  std::string source_addr;  // max 21
  std::uint8_t dest_addr_ton = 0, dest_addr_npi = 0;
  std::string destination_addr;  // max 21
  std::uint8_t esm_class = 0, protocol_id = 0, priority_flag = 0;
  std::string schedule_delivery_time, validity_period;  // max 17
  std::uint8_t registered_delivery = 0, replace_if_present_flag = 0, data_coding = 0, sm_default_msg_id = 0;
  Bytes short_message;  // at most 254 (sm_length is one byte; 255 is reserved)
  std::vector<Tlv> tlvs;
  bool operator==(const ShortMessage&) const = default;
  const Tlv* find(std::uint16_t tag) const;
};
// submit_sm_resp / deliver_sm_resp (4.4.2, 4.6.2): message_id, max 65.
struct MessageIdResp {
  std::string message_id;
  bool operator==(const MessageIdResp&) const = default;
};

struct Pdu {
  CommandId command_id = CommandId::GenericNack;
  std::uint32_t command_status = status::kOk;
  std::uint32_t sequence_number = 0;
  std::variant<std::monostate, Bind, BindResp, ShortMessage, MessageIdResp> body;
  bool operator==(const Pdu&) const = default;
  bool is_response() const { return static_cast<std::uint32_t>(command_id) & 0x80000000u; }
};

// A PDU that cannot be read; `command_status` is what to answer with
// (generic_nack, or the response of the command) per 2.10 / 5.1.3.
struct SmppError : DecodeError {
  std::uint32_t command_status;
  SmppError(std::uint32_t s, const std::string& m) : DecodeError(m), command_status(s) {}
};

inline constexpr std::size_t kHeaderLength = 16;
inline constexpr std::size_t kMaxPduLength = 64 * 1024;  // ours: far above any PDU of this set

// Throws std::invalid_argument for a field over its maximum.
Bytes encode(const Pdu& p);
// One whole PDU (command_length bytes). Throws SmppError.
Pdu decode(ByteView pdu);
// The command_length of a PDU whose first 4 bytes are in `buffered`, or
// nullopt when fewer than 4 are; throws SmppError for a length below 16 or
// above kMaxPduLength (the stream cannot be resynchronised: close it).
std::optional<std::size_t> pending_length(ByteView buffered);

}  // namespace rsp::ota::smpp
