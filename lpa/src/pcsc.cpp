#include "rsp/lpa/pcsc.hpp"

#include <PCSC/winscard.h>

#include <cstring>

namespace rsp::pcsc {
namespace {

[[noreturn]] void fail(const std::string& what, LONG rc) {
  throw PcscError(what + ": " + pcsc_stringify_error(rc), rc);
}

struct Context {
  SCARDCONTEXT ctx = 0;
  Context() {
    LONG rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &ctx);
    if (rc != SCARD_S_SUCCESS) fail("SCardEstablishContext", rc);
  }
  ~Context() {
    if (ctx) SCardReleaseContext(ctx);
  }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
};

std::vector<std::string> readers_of(SCARDCONTEXT ctx) {
  DWORD len = 0;
  LONG rc = SCardListReaders(ctx, nullptr, nullptr, &len);
  if (rc == SCARD_E_NO_READERS_AVAILABLE) return {};
  if (rc != SCARD_S_SUCCESS) fail("SCardListReaders", rc);
  std::string buf(len, '\0');
  rc = SCardListReaders(ctx, nullptr, buf.data(), &len);
  if (rc == SCARD_E_NO_READERS_AVAILABLE) return {};
  if (rc != SCARD_S_SUCCESS) fail("SCardListReaders", rc);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < buf.size() && buf[i] != '\0';) {
    std::string name(buf.c_str() + i);
    i += name.size() + 1;
    out.push_back(std::move(name));
  }
  return out;
}

DWORD protocol_mask(Protocol p) {
  switch (p) {
    case Protocol::T0: return SCARD_PROTOCOL_T0;
    case Protocol::T1: return SCARD_PROTOCOL_T1;
    case Protocol::Any: break;
  }
  return SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1;
}

}  // namespace

struct Reader::Impl {
  Context context;
  SCARDHANDLE card = 0;
  DWORD protocol = 0;
  std::string name;
  Protocol requested = Protocol::Any;
  ~Impl() {
    if (card) SCardDisconnect(card, SCARD_LEAVE_CARD);
  }
};

std::vector<std::string> list_readers() {
  Context c;
  return readers_of(c.ctx);
}

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::~Reader() = default;
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;

Reader Reader::connect(const std::string& name, Protocol protocol) {
  auto impl = std::make_unique<Impl>();
  auto readers = readers_of(impl->context.ctx);
  const std::string* chosen = nullptr;
  for (const auto& r : readers)
    if (r == name) chosen = &r;
  if (!chosen)
    for (const auto& r : readers)
      if (r.find(name) != std::string::npos) {
        chosen = &r;
        break;
      }
  if (!chosen) throw PcscError("no PC/SC reader matches '" + name + "'", SCARD_E_UNKNOWN_READER);
  impl->name = *chosen;
  impl->requested = protocol;
  LONG rc = SCardConnect(impl->context.ctx, impl->name.c_str(), SCARD_SHARE_SHARED, protocol_mask(protocol), &impl->card,
                         &impl->protocol);
  if (rc != SCARD_S_SUCCESS) fail("SCardConnect(" + impl->name + ")", rc);
  return Reader(std::move(impl));
}

Reader Reader::connect(std::size_t index, Protocol protocol) {
  auto readers = list_readers();
  if (index >= readers.size())
    throw PcscError("no PC/SC reader at index " + std::to_string(index) + " (" + std::to_string(readers.size()) +
                        " readers)",
                    SCARD_E_UNKNOWN_READER);
  return connect(readers[index], protocol);
}

Bytes Reader::transmit(ByteView command_apdu) {
  const SCARD_IO_REQUEST* pci = impl_->protocol == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
  Bytes rsp(65538);
  DWORD len = static_cast<DWORD>(rsp.size());
  LONG rc = SCardTransmit(impl_->card, pci, command_apdu.data(), static_cast<DWORD>(command_apdu.size()), nullptr,
                          rsp.data(), &len);
  if (rc != SCARD_S_SUCCESS) fail("SCardTransmit", rc);
  rsp.resize(len);
  return rsp;
}

Bytes Reader::reset() {
  LONG rc = SCardReconnect(impl_->card, SCARD_SHARE_SHARED, protocol_mask(impl_->requested), SCARD_RESET_CARD,
                           &impl_->protocol);
  if (rc != SCARD_S_SUCCESS) fail("SCardReconnect", rc);
  return atr();
}

const std::string& Reader::name() const { return impl_->name; }

Bytes Reader::atr() const {
  BYTE atr[MAX_ATR_SIZE];
  DWORD atr_len = sizeof atr;
  DWORD state = 0, proto = 0;
  char reader_name[512];
  DWORD name_len = sizeof reader_name;
  LONG rc = SCardStatus(impl_->card, reader_name, &name_len, &state, &proto, atr, &atr_len);
  if (rc != SCARD_S_SUCCESS) fail("SCardStatus", rc);
  return Bytes(atr, atr + atr_len);
}

Protocol Reader::active_protocol() const { return impl_->protocol == SCARD_PROTOCOL_T1 ? Protocol::T1 : Protocol::T0; }

}  // namespace rsp::pcsc
