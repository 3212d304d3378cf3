#include "rsp/ota/smpp_pdu.hpp"

#include <stdexcept>

namespace rsp::ota::smpp {

namespace {

void put32(Bytes& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void put16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
// C-Octet String (3.1): the characters then a NUL; `max` counts the NUL.
void put_cstr(Bytes& out, const std::string& s, std::size_t max, const char* field) {
  if (s.size() + 1 > max) throw std::invalid_argument(std::string("SMPP ") + field + " longer than " + std::to_string(max - 1));
  if (s.find('\0') != std::string::npos) throw std::invalid_argument(std::string("SMPP ") + field + " holds a NUL");
  out.insert(out.end(), s.begin(), s.end());
  out.push_back(0);
}
void put_tlvs(Bytes& out, const std::vector<Tlv>& tlvs) {
  for (const auto& t : tlvs) {
    if (t.value.size() > 0xFFFF) throw std::invalid_argument("SMPP TLV value over 65535 bytes");
    put16(out, t.tag);
    put16(out, static_cast<std::uint16_t>(t.value.size()));
    append(out, t.value);
  }
}

struct Reader {
  ByteView in;
  std::size_t pos = 0;
  void need(std::size_t n, const char* field) const {
    if (in.size() - pos < n) throw SmppError(status::kInvMsgLen, std::string("SMPP PDU truncated in ") + field);
  }
  std::uint8_t u8(const char* field) {
    need(1, field);
    return in[pos++];
  }
  std::uint16_t u16(const char* field) {
    need(2, field);
    auto v = static_cast<std::uint16_t>(in[pos] << 8 | in[pos + 1]);
    pos += 2;
    return v;
  }
  std::uint32_t u32(const char* field) {
    need(4, field);
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | in[pos++];
    return v;
  }
  std::string cstr(std::size_t max, const char* field) {
    std::size_t start = pos;
    while (pos < in.size() && in[pos] != 0) {
      if (pos - start + 1 >= max)
        throw SmppError(status::kInvMsgLen, std::string("SMPP ") + field + " longer than " + std::to_string(max - 1));
      ++pos;
    }
    if (pos == in.size()) throw SmppError(status::kInvMsgLen, std::string("SMPP ") + field + " without its NUL");
    std::string s(in.begin() + static_cast<std::ptrdiff_t>(start), in.begin() + static_cast<std::ptrdiff_t>(pos));
    ++pos;
    return s;
  }
  std::vector<Tlv> tlvs() {
    std::vector<Tlv> out;
    while (pos < in.size()) {
      Tlv t;
      t.tag = u16("TLV tag");
      std::uint16_t len = u16("TLV length");
      need(len, "TLV value");
      t.value.assign(in.begin() + static_cast<std::ptrdiff_t>(pos), in.begin() + static_cast<std::ptrdiff_t>(pos + len));
      pos += len;
      out.push_back(std::move(t));
    }
    return out;
  }
  bool done() const { return pos == in.size(); }
};

bool is_bind(CommandId id) {
  return id == CommandId::BindTransmitter || id == CommandId::BindReceiver || id == CommandId::BindTransceiver;
}
bool is_bind_resp(CommandId id) {
  return id == CommandId::BindTransmitterResp || id == CommandId::BindReceiverResp || id == CommandId::BindTransceiverResp;
}
bool is_known(std::uint32_t id) {
  switch (static_cast<CommandId>(id)) {
    case CommandId::GenericNack: case CommandId::BindReceiver: case CommandId::BindReceiverResp:
    case CommandId::BindTransmitter: case CommandId::BindTransmitterResp: case CommandId::SubmitSm:
    case CommandId::SubmitSmResp: case CommandId::DeliverSm: case CommandId::DeliverSmResp: case CommandId::Unbind:
    case CommandId::UnbindResp: case CommandId::BindTransceiver: case CommandId::BindTransceiverResp:
    case CommandId::EnquireLink: case CommandId::EnquireLinkResp:
      return true;
  }
  return false;
}

}  // namespace

std::string command_name(CommandId id) {
  switch (id) {
    case CommandId::GenericNack: return "generic_nack";
    case CommandId::BindReceiver: return "bind_receiver";
    case CommandId::BindReceiverResp: return "bind_receiver_resp";
    case CommandId::BindTransmitter: return "bind_transmitter";
    case CommandId::BindTransmitterResp: return "bind_transmitter_resp";
    case CommandId::SubmitSm: return "submit_sm";
    case CommandId::SubmitSmResp: return "submit_sm_resp";
    case CommandId::DeliverSm: return "deliver_sm";
    case CommandId::DeliverSmResp: return "deliver_sm_resp";
    case CommandId::Unbind: return "unbind";
    case CommandId::UnbindResp: return "unbind_resp";
    case CommandId::BindTransceiver: return "bind_transceiver";
    case CommandId::BindTransceiverResp: return "bind_transceiver_resp";
    case CommandId::EnquireLink: return "enquire_link";
    case CommandId::EnquireLinkResp: return "enquire_link_resp";
  }
  return "command " + to_hex(Bytes{0}, true);
}

std::string status_name(std::uint32_t s) {
  switch (s) {
    case status::kOk: return "ESME_ROK";
    case status::kInvMsgLen: return "ESME_RINVMSGLEN";
    case status::kInvCmdLen: return "ESME_RINVCMDLEN";
    case status::kInvCmdId: return "ESME_RINVCMDID";
    case status::kInvBndSts: return "ESME_RINVBNDSTS";
    case status::kAlyBnd: return "ESME_RALYBND";
    case status::kSysErr: return "ESME_RSYSERR";
    case status::kInvDstAdr: return "ESME_RINVDSTADR";
    case status::kBindFail: return "ESME_RBINDFAIL";
    case status::kInvPaswd: return "ESME_RINVPASWD";
    case status::kInvSysId: return "ESME_RINVSYSID";
    case status::kMsgQFul: return "ESME_RMSGQFUL";
    case status::kThrottled: return "ESME_RTHROTTLED";
    case status::kDeliveryFailure: return "ESME_RDELIVERYFAILURE";
  }
  Bytes b;
  for (int sh = 24; sh >= 0; sh -= 8) b.push_back(static_cast<std::uint8_t>(s >> sh));
  return "command_status " + to_hex(b, true);
}

const Tlv* ShortMessage::find(std::uint16_t tag) const {
  for (const auto& t : tlvs)
    if (t.tag == tag) return &t;
  return nullptr;
}

Bytes encode(const Pdu& p) {
  Bytes body;
  if (const auto* b = std::get_if<Bind>(&p.body)) {
    put_cstr(body, b->system_id, 16, "system_id");
    put_cstr(body, b->password, 9, "password");
    put_cstr(body, b->system_type, 13, "system_type");
    body.push_back(b->interface_version);
    body.push_back(b->addr_ton);
    body.push_back(b->addr_npi);
    put_cstr(body, b->address_range, 41, "address_range");
  } else if (const auto* r = std::get_if<BindResp>(&p.body)) {
    put_cstr(body, r->system_id, 16, "system_id");
    put_tlvs(body, r->tlvs);
  } else if (const auto* m = std::get_if<ShortMessage>(&p.body)) {
    put_cstr(body, m->service_type, 6, "service_type");
    body.push_back(m->source_addr_ton);
    body.push_back(m->source_addr_npi);
    put_cstr(body, m->source_addr, 21, "source_addr");
    body.push_back(m->dest_addr_ton);
    body.push_back(m->dest_addr_npi);
    put_cstr(body, m->destination_addr, 21, "destination_addr");
    body.push_back(m->esm_class);
    body.push_back(m->protocol_id);
    body.push_back(m->priority_flag);
    put_cstr(body, m->schedule_delivery_time, 17, "schedule_delivery_time");
    put_cstr(body, m->validity_period, 17, "validity_period");
    body.push_back(m->registered_delivery);
    body.push_back(m->replace_if_present_flag);
    body.push_back(m->data_coding);
    body.push_back(m->sm_default_msg_id);
    if (m->short_message.size() > 254) throw std::invalid_argument("SMPP short_message over 254 octets (use message_payload)");
    body.push_back(static_cast<std::uint8_t>(m->short_message.size()));
    append(body, m->short_message);
    put_tlvs(body, m->tlvs);
  } else if (const auto* id = std::get_if<MessageIdResp>(&p.body)) {
    put_cstr(body, id->message_id, 65, "message_id");
  }
  Bytes out;
  put32(out, static_cast<std::uint32_t>(kHeaderLength + body.size()));
  put32(out, static_cast<std::uint32_t>(p.command_id));
  put32(out, p.command_status);
  put32(out, p.sequence_number);
  append(out, body);
  return out;
}

std::optional<std::size_t> pending_length(ByteView b) {
  if (b.size() < 4) return std::nullopt;
  std::size_t len = static_cast<std::size_t>(b[0]) << 24 | static_cast<std::size_t>(b[1]) << 16 |
                    static_cast<std::size_t>(b[2]) << 8 | b[3];
  if (len < kHeaderLength || len > kMaxPduLength)
    throw SmppError(status::kInvCmdLen, "SMPP command_length " + std::to_string(len));
  return len;
}

Pdu decode(ByteView in) {
  Reader r{in};
  std::uint32_t len = r.u32("command_length");
  if (len != in.size()) throw SmppError(status::kInvCmdLen, "SMPP command_length " + std::to_string(len) + " for " +
                                                                std::to_string(in.size()) + " bytes");
  Pdu p;
  std::uint32_t id = r.u32("command_id");
  p.command_status = r.u32("command_status");
  p.sequence_number = r.u32("sequence_number");
  if (!is_known(id)) throw SmppError(status::kInvCmdId, "SMPP command_id " + std::to_string(id) + " not supported");
  p.command_id = static_cast<CommandId>(id);
  // 4.1.2 etc.: a response with an error status may come without its body.
  if (p.is_response() && p.command_status != status::kOk && r.done()) return p;
  if (is_bind(p.command_id)) {
    Bind b;
    b.system_id = r.cstr(16, "system_id");
    b.password = r.cstr(9, "password");
    b.system_type = r.cstr(13, "system_type");
    b.interface_version = r.u8("interface_version");
    b.addr_ton = r.u8("addr_ton");
    b.addr_npi = r.u8("addr_npi");
    b.address_range = r.cstr(41, "address_range");
    p.body = std::move(b);
  } else if (is_bind_resp(p.command_id)) {
    BindResp b;
    b.system_id = r.cstr(16, "system_id");
    b.tlvs = r.tlvs();
    p.body = std::move(b);
  } else if (p.command_id == CommandId::SubmitSm || p.command_id == CommandId::DeliverSm) {
    ShortMessage m;
    m.service_type = r.cstr(6, "service_type");
    m.source_addr_ton = r.u8("source_addr_ton");
    m.source_addr_npi = r.u8("source_addr_npi");
    m.source_addr = r.cstr(21, "source_addr");
    m.dest_addr_ton = r.u8("dest_addr_ton");
    m.dest_addr_npi = r.u8("dest_addr_npi");
    m.destination_addr = r.cstr(21, "destination_addr");
    m.esm_class = r.u8("esm_class");
    m.protocol_id = r.u8("protocol_id");
    m.priority_flag = r.u8("priority_flag");
    m.schedule_delivery_time = r.cstr(17, "schedule_delivery_time");
    m.validity_period = r.cstr(17, "validity_period");
    m.registered_delivery = r.u8("registered_delivery");
    m.replace_if_present_flag = r.u8("replace_if_present_flag");
    m.data_coding = r.u8("data_coding");
    m.sm_default_msg_id = r.u8("sm_default_msg_id");
    std::uint8_t sm_length = r.u8("sm_length");
    if (sm_length > 254) throw SmppError(status::kInvMsgLen, "SMPP sm_length 255 is reserved");
    r.need(sm_length, "short_message");
    m.short_message.assign(in.begin() + static_cast<std::ptrdiff_t>(r.pos),
                           in.begin() + static_cast<std::ptrdiff_t>(r.pos + sm_length));
    r.pos += sm_length;
    m.tlvs = r.tlvs();
    p.body = std::move(m);
  } else if (p.command_id == CommandId::SubmitSmResp || p.command_id == CommandId::DeliverSmResp) {
    p.body = MessageIdResp{r.cstr(65, "message_id")};
  }
  if (!r.done()) throw SmppError(status::kInvCmdLen, "SMPP " + command_name(p.command_id) + ": " +
                                                         std::to_string(in.size() - r.pos) + " bytes after the body");
  return p;
}

}  // namespace rsp::ota::smpp
