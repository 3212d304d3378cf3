#include "rsp/ota/sms_pp_handler.hpp"

#include "rsp/ota/envelope.hpp"
#include "rsp/ota/response_packet.hpp"
#include "rsp/ota/sms_submit.hpp"

namespace rsp::ota {

void SmsPpHandler::add_application(const Tar& tar, std::uint8_t msl, std::shared_ptr<RemoteApplication> app) {
  entity_.add_application(tar, msl);
  apps_[tar] = std::move(app);
}

void SmsPpHandler::remove_application(const Tar& tar) {
  entity_.remove_application(tar);
  apps_.erase(tar);
}

SmsPpOutcome SmsPpHandler::envelope(ByteView envelope_data) {
  SmsPpOutcome out;
  SmsDeliver deliver;
  std::optional<Bytes> packet;
  try {
    SmsPpDownload d = decode_sms_pp_download(envelope_data);
    deliver = decode_sms_deliver(d.tpdu);
    packet = reassembler_.add(d.tpdu);
  } catch (const DecodeError& e) {
    out.sw = 0x6A80;
    out.error = e.what();
    return out;
  }
  if (!packet) return out;  // more segments to come
  out.complete = true;

  Verdict v = entity_.receive(*packet);
  Bytes additional;
  if (v.accepted()) {
    // Every check passed and the counter moved: the application runs.
    auto app = apps_.find(v.header->tar);
    // A copy: the script may install or delete applications (apps_ changes).
    if (app != apps_.end()) additional = std::shared_ptr<RemoteApplication>(app->second)->execute(v.secured_data);
  }
  Bytes por = entity_.respond(v, additional);
  out.verdict = std::move(v);
  if (por.empty()) return out;
  if (out.verdict->header->spi.por_by_sms_submit) {
    // TS 31.115 4.4: back to whoever sent the command (its TP-OA).
    SmsSubmit s;
    s.tp_da = deliver.tp_oa;
    s.tp_udhi = true;
    for (auto& ud : response_packet_to_user_data(por, submit_reference_++)) {
      s.tp_ud = std::move(ud);
      out.sms_submits.push_back(encode_sms_submit(s));
    }
  } else {
    out.response_data = concat(ByteView(kResponsePacketUdh, 3), por);
  }
  return out;
}

}  // namespace rsp::ota
