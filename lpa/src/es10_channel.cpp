#include "rsp/lpa/es10_channel.hpp"

#include <algorithm>
#include <cstdio>

#include "rsp/log.hpp"

namespace rsp::lpa {
namespace {

bool success(std::uint16_t sw) {
  std::uint8_t sw1 = static_cast<std::uint8_t>(sw >> 8);
  return sw1 == 0x90 || sw1 == 0x91 || sw1 == 0x92;
}

}  // namespace

std::string sw_to_string(std::uint16_t sw) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04X", static_cast<unsigned>(sw));
  return buf;
}

Es10Channel::Es10Channel(apdu::Transport& transport, ChannelOptions options)
    : transport_(transport), options_(std::move(options)) {
  if (options_.block_size < 1 || options_.block_size > 255)
    throw std::invalid_argument("ES10 block size must be 1..255");
  if (options_.aid.size() < 5 || options_.aid.size() > 16) throw std::invalid_argument("ISD-R AID must be 5..16 bytes");
}

Es10Channel::~Es10Channel() { close(); }

std::uint8_t Es10Channel::cla_for(std::uint8_t base, std::uint8_t channel) {
  if (channel <= 3) return static_cast<std::uint8_t>((base & 0x80) | channel);
  if (channel <= 19) return static_cast<std::uint8_t>((base & 0x80) | 0x40 | (channel - 4));
  throw std::invalid_argument("logical channel number out of range: " + std::to_string(channel));
}

apdu::Response Es10Channel::send_raw(const apdu::Command& command) {
  Bytes raw = command.encode();
  Bytes rsp = transport_.transmit(raw);
  if (log::level() <= log::Level::Debug)
    log::debug("lpa.apdu", "C: " + to_hex(raw, true) + "  R: " + to_hex(rsp, true));
  return apdu::Response::parse(rsp);
}

apdu::Response Es10Channel::exchange(apdu::Command command) {
  command.cla = cla_for(command.cla & 0x80, channel_);
  apdu::Response r = send_raw(command);
  if (r.sw1() == 0x6C) {  // wrong Le: repeat with the length the card asks for
    command.le = r.sw2() == 0 ? 256 : r.sw2();
    r = send_raw(command);
  }
  Bytes data = std::move(r.data);
  for (int guard = 0; r.sw1() == 0x61; ++guard) {
    if (guard > 4096) throw ApduError("too many GET RESPONSE rounds", r.sw, "GET RESPONSE");
    apdu::Command get;
    get.cla = cla_for(0x00, channel_);
    get.ins = 0xC0;
    get.le = r.sw2() == 0 ? 256 : r.sw2();
    r = send_raw(get);
    append(data, r.data);
  }
  r.data = std::move(data);
  return r;
}

void Es10Channel::open() {
  if (open_) return;
  channel_ = 0;
  logical_ = false;
  if (options_.logical_channel) {
    apdu::Command manage;
    manage.cla = 0x00;
    manage.ins = 0x70;
    manage.le = 1;
    apdu::Response r = send_raw(manage);
    if (success(r.sw) && r.data.size() == 1 && r.data[0] >= 1 && r.data[0] <= 19) {
      channel_ = r.data[0];
      logical_ = true;
    } else if (r.sw == 0x6881 || r.sw == 0x6D00 || r.sw == 0x6E00 || r.sw == 0x6A81 || r.sw == 0x6A86) {
      log::info("lpa.apdu", "card has no logical channels (" + sw_to_string(r.sw) + "); using the basic channel");
    } else {
      throw ApduError("MANAGE CHANNEL failed: SW " + sw_to_string(r.sw), r.sw, "MANAGE CHANNEL");
    }
  }
  apdu::Command select;
  select.cla = 0x00;
  select.ins = 0xA4;
  select.p1 = 0x04;
  select.p2 = 0x00;
  select.data = options_.aid;
  select.le = 256;
  apdu::Response r;
  try {
    r = exchange(select);
  } catch (...) {
    if (logical_) {
      open_ = true;
      close();
    }
    throw;
  }
  if (!success(r.sw)) {
    if (logical_) {
      open_ = true;
      close();
    }
    throw ApduError("SELECT ISD-R failed: SW " + sw_to_string(r.sw), r.sw, "SELECT");
  }
  open_ = true;
}

void Es10Channel::close() noexcept {
  if (!open_) return;
  open_ = false;
  if (!logical_) return;
  try {
    apdu::Command manage;
    manage.cla = 0x00;
    manage.ins = 0x70;
    manage.p1 = 0x80;
    manage.p2 = channel_;
    send_raw(manage);
  } catch (const std::exception& e) {
    log::debug("lpa.apdu", std::string("MANAGE CHANNEL close failed: ") + e.what());
  }
  logical_ = false;
  channel_ = 0;
}

Bytes Es10Channel::store_data(ByteView der) {
  open();
  Bytes out;
  std::size_t offset = 0;
  std::size_t block = 0;
  do {
    std::size_t n = std::min(options_.block_size, der.size() - offset);
    bool last = offset + n == der.size();
    if (block > 255) throw std::length_error("ES10 command needs more than 256 STORE DATA blocks");
    apdu::Command cmd;
    cmd.cla = 0x80;
    cmd.ins = 0xE2;
    cmd.p1 = last ? 0x91 : 0x11;
    cmd.p2 = static_cast<std::uint8_t>(block);
    cmd.data.assign(der.begin() + static_cast<std::ptrdiff_t>(offset), der.begin() + static_cast<std::ptrdiff_t>(offset + n));
    apdu::Response r = exchange(std::move(cmd));
    if (!success(r.sw))
      throw ApduError("STORE DATA block " + std::to_string(block) + " failed: SW " + sw_to_string(r.sw), r.sw,
                      "STORE DATA");
    append(out, r.data);
    offset += n;
    ++block;
  } while (offset < der.size());
  return out;
}

}  // namespace rsp::lpa
