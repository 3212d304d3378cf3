// UICC command processing over a CardImage (see card.hpp). Status words as
// TS 102 221 10.2.1 lists them.
#include "rsp/uicc/card.hpp"

#include <algorithm>

#include "rsp/crypto.hpp"
#include "rsp/milenage.hpp"
#include "rsp/tlv.hpp"
#include "rsp/uicc/test_algorithm.hpp"

namespace rsp::uicc {
namespace {

namespace sw = apdu::sw;
constexpr std::uint16_t kNoEfSelected = 0x6986;       // command not allowed (no EF selected)
constexpr std::uint16_t kIncompatibleFile = 0x6981;   // command incompatible with file structure
constexpr std::uint16_t kRecordNotFound = 0x6A83;
constexpr std::uint16_t kWrongOffset = 0x6B00;
constexpr std::uint16_t kPinBlocked = 0x6983;         // authentication/PIN method blocked
constexpr std::uint16_t kMacFailure = 0x9862;         // TS 31.102 7.3.1: authentication error, incorrect MAC
constexpr std::uint16_t kMaxValueReached = 0x9850;    // INCREASE: maximum value reached
constexpr std::uint16_t kNotEnoughMemory = 0x6A84;
constexpr std::uint8_t kAmRead = 0x01, kAmUpdate = 0x02;

apdu::Response sw_only(std::uint16_t s) { return apdu::Response{{}, s}; }
apdu::Response ok(Bytes data) { return apdu::Response{std::move(data), sw::kOk}; }

Bytes u16(std::size_t v) { return Bytes{static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}; }

// TS 102 221 10.2.1.1: 63CX, X = attempts left (63C0 once blocked).
std::uint16_t counter_sw(std::uint8_t left) { return static_cast<std::uint16_t>(0x63C0 | (left & 0x0F)); }

bool is_adm(std::uint8_t kr) { return (kr >= 0x0A && kr <= 0x0E) || (kr >= 0x8A && kr <= 0x8E); }

// Cyclic files: record i (1 = newest) lives at slot (newest + i - 1) mod n.
std::size_t slot_of(const File& f, std::size_t rec) {
  std::size_t n = f.record_count();
  if (f.type != FileType::Cyclic || n == 0) return rec - 1;
  return (f.cyclic_newest + rec - 1) % n;
}

ByteView record_view(const File& f, std::size_t rec) {
  return ByteView(*f.content).subspan(slot_of(f, rec) * f.record_len, f.record_len);
}

}  // namespace

// ---- dispatcher ----------------------------------------------------------

apdu::Response Card::process(const apdu::Command& c, Selection& sel) {
  if (sel.image != &img_ || !sel.df) {
    sel = Selection{};
    sel.image = &img_;
    sel.df = img_.fs.mf.get();
  }
  switch (c.ins) {
    case 0xA4: return select(c, sel);
    case 0xF2: return status(c, sel);
    case 0xB0: return read_binary(c, sel);
    case 0xD6: return update_binary(c, sel);
    case 0xB2: return read_record(c, sel);
    case 0xDC: return update_record(c, sel);
    case 0xA2: return search_record(c, sel);
    case 0x32: return increase(c, sel);
    case 0xCB: return retrieve_data(c, sel);
    case 0xDB: return set_data(c, sel);
    case 0x20: case 0x24: case 0x26: case 0x28: case 0x2C: return pin_command(c);
    case 0x84: return get_challenge(c);
    case 0x88: return authenticate(c, sel);
    case 0x10: return sw_only(sw::kOk);  // TERMINAL PROFILE: noted, no proactive session here
    default: return sw_only(sw::kInsNotSupported);
  }
}

File* Card::current_df(const Selection& sel) const { return sel.df ? sel.df : img_.fs.mf.get(); }

// ---- FCP and access conditions ----------------------------------------------

Bytes Card::fcp(const File& f) const {
  Bytes body;
  if (f.is_df()) {
    append(body, tlv::make(0x82, Bytes{f.descriptor_byte, 0x21}));
    append(body, tlv::make(0x83, u16(f.fid)));
    if (!f.aid.empty()) append(body, tlv::make(0x84, f.aid));
    append(body, tlv::make(0xA5, tlv::make(0x80, Bytes{0x71})));  // UICC characteristics (TS 102 221 11.1.1.4.6.1)
    append(body, tlv::make(0x8A, Bytes{f.lcsi}));
    if (!f.security_attributes.empty()) append(body, tlv::make(0x8B, f.security_attributes));
    // PIN status template DO (TS 102 221 9.5.2): PS_DO, one bit per key
    // reference in the order listed, set when the PIN is enabled. The
    // package lists the key references (Interoperable Profile Fcp
    // pinStatusTemplateDO).
    Bytes ps(f.pin_status_template.size() > 8 ? 2 : 1, 0x00);
    Bytes refs;
    for (std::size_t i = 0; i < f.pin_status_template.size(); ++i) {
      std::uint8_t kr = f.pin_status_template[i];
      auto p = img_.pins.find(kr);
      bool enabled = p == img_.pins.end() ? true : p->second.enabled;
      if (enabled) ps[i / 8] |= static_cast<std::uint8_t>(0x80 >> (i % 8));
      append(refs, tlv::make(0x83, Bytes{kr}));
    }
    append(body, tlv::make(0xC6, concat(tlv::make(0x90, ps), refs)));
    return tlv::make(0x62, body);
  }
  Bytes d{f.descriptor_byte, 0x21};
  if (f.is_record()) {
    append(d, u16(f.record_len));
    d.push_back(static_cast<std::uint8_t>(f.record_count()));
  }
  append(body, tlv::make(0x82, d));
  append(body, tlv::make(0x83, u16(f.fid)));
  append(body, tlv::make(0x8A, Bytes{f.lcsi}));
  if (!f.security_attributes.empty()) append(body, tlv::make(0x8B, f.security_attributes));
  append(body, tlv::make(0x80, u16(f.type == FileType::BerTlv ? f.max_size : f.size())));
  // TS 102 221 11.1.1.4.8: tag 88 empty = no SFI (absent would mean "the
  // low five bits of the file id").
  append(body, tlv::make(0x88, f.sfi ? Bytes{static_cast<std::uint8_t>(*f.sfi << 3)} : Bytes{}));
  return tlv::make(0x62, body);
}

bool Card::key_satisfied(std::uint8_t kr) const {
  if (sec_.verified.count(kr)) return true;
  auto p = img_.pins.find(kr);
  // TS 102 221 9.5.1: a disabled PIN's condition is fulfilled.
  return p != img_.pins.end() && !p->second.enabled && !is_adm(kr);
}

// SC_DOs (ISO 7816-4 5.4.3.3, TS 102 221 9.2.4): 90 always, 97 never, A4
// CRT with key reference 83, A0 OR template, AF AND template.
bool Card::sc_satisfied(ByteView sc_dos, bool all) const {
  bool any = false, every = true;
  for (const auto& d : tlv::parse_all(sc_dos)) {
    bool r = false;
    switch (d.tag) {
      case 0x90: r = true; break;
      case 0x97: r = false; break;
      case 0xA4:
        if (auto kr = tlv::find(d.value, 0x83); kr && kr->value.size() == 1) r = key_satisfied(kr->value[0]);
        break;
      case 0xA0: r = sc_satisfied(d.value, false); break;
      case 0xAF: r = sc_satisfied(d.value, true); break;
      default: r = false; break;
    }
    any = any || r;
    every = every && r;
  }
  return all ? every : any;
}

bool Card::allowed(const File& f, std::uint8_t am_bit, std::uint8_t ins) const {
  const Bytes& ref = f.security_attributes;
  if (ref.size() < 3) return true;  // none or compact/SE reference: no rule to enforce here
  std::uint16_t arr_fid = static_cast<std::uint16_t>(ref[0] << 8 | ref[1]);
  std::uint8_t rec = ref.back();
  // The EF.ARR is looked for from the file's DF upward (an ADF's parent is the MF).
  const File* arr = nullptr;
  for (const File* d = f.is_df() ? &f : f.parent; d && !arr; d = d->parent) {
    const File* a = d->child(arr_fid);
    if (a && a->is_record()) arr = a;
  }
  if (!arr || rec == 0 || rec > arr->record_count()) return false;
  ByteView r = record_view(*arr, rec);
  // Rules: AM_DO (80) followed by its SC_DOs, up to the next AM_DO; padding FF ends the record.
  std::size_t end = r.size();
  while (end > 0 && r[end - 1] == 0xFF) --end;
  std::vector<tlv::Tlv> dos;
  try {
    dos = tlv::parse_all(r.first(end));
  } catch (const DecodeError&) {
    return false;
  }
  // An AM_DO is an access mode byte (tag 80) or a command header (tag 84,
  // its INS: e.g. 32 INCREASE). Its SC_DOs follow, up to the next AM_DO.
  for (std::size_t i = 0; i < dos.size(); ++i) {
    bool am = dos[i].tag == 0x80 && dos[i].value.size() == 1;
    bool header = dos[i].tag == 0x84 && !dos[i].value.empty();
    if (!am && !header) continue;
    std::size_t j = i + 1;
    Bytes scs;
    while (j < dos.size() && dos[j].tag != 0x80 && dos[j].tag != 0x84) append(scs, dos[j++].raw);
    bool covers = am ? (dos[i].value[0] & 0x80) == 0 && (dos[i].value[0] & am_bit) != 0
                     : ins != 0 && std::find(dos[i].value.begin(), dos[i].value.end(), ins) != dos[i].value.end();
    if (covers && sc_satisfied(scs, false)) return true;
  }
  return false;
}

// ---- SELECT / STATUS --------------------------------------------------------

apdu::Response Card::select(const apdu::Command& c, Selection& sel) {
  std::uint8_t p2 = c.p2 & 0xF3;  // b3 (occurrence "next") checked below
  bool want_fcp = (c.p2 & 0x0C) != 0x0C;
  if (p2 != 0x04 && p2 != 0x00 && p2 != 0x0C && !(c.p1 == 0x04 && (c.p2 & 0x02))) return sw_only(sw::kIncorrectP1P2);
  const FileSystem& fs = img_.fs;
  File* cur = current_df(sel);
  File* target = nullptr;
  auto app = [&]() -> File* {
    if (sel.adf) return sel.adf;
    return img_.first_usim_aid.empty() ? nullptr : fs.adf_by_aid(img_.first_usim_aid);
  };
  auto fids = [&](ByteView d) -> std::optional<std::vector<std::uint16_t>> {
    if (d.size() % 2) return std::nullopt;
    std::vector<std::uint16_t> v;
    for (std::size_t i = 0; i < d.size(); i += 2) v.push_back(static_cast<std::uint16_t>(d[i] << 8 | d[i + 1]));
    return v;
  };
  switch (c.p1) {
    case 0x00: case 0x01: case 0x02: {
      if (c.data.empty() && c.p1 == 0x00) {
        target = fs.mf.get();
        break;
      }
      if (c.data.size() != 2) return sw_only(sw::kWrongLength);
      auto id = static_cast<std::uint16_t>(c.data[0] << 8 | c.data[1]);
      if (c.p1 == 0x01 || c.p1 == 0x02) {  // child DF / EF of the current DF
        File* ch = cur->child(id);
        if (ch && ch->is_df() == (c.p1 == 0x01)) target = ch;
        break;
      }
      // TS 102 221 8.4.1: the MF, the current application, the current DF,
      // its children, its parent and the parent's DF children.
      if (id == 0x3F00) target = fs.mf.get();
      else if (id == 0x7FFF) target = app();
      else if (cur->fid == id) target = cur;
      else if (File* ch = cur->child(id)) target = ch;
      else if (cur->parent && cur->parent->fid == id) target = cur->parent;
      else if (cur->parent) {
        File* sib = cur->parent->child(id);
        if (sib && sib->is_df()) target = sib;
      }
      break;
    }
    case 0x03:  // parent DF of the current DF
      if (cur->type == FileType::Mf) return sw_only(sw::kFileNotFound);
      target = cur->parent;
      break;
    case 0x04: {  // by DF name (AID), right-truncated allowed; P2 b2: next occurrence
      if (c.data.empty()) return sw_only(sw::kWrongLength);
      std::size_t nth = 0;
      if (c.p2 & 0x02) {
        for (std::size_t i = 0; File* a = fs.adf_by_aid(c.data, i); ++i)
          if (a == sel.adf) nth = i + 1;
      }
      target = fs.adf_by_aid(c.data, nth);
      break;
    }
    case 0x08: case 0x09: {  // path from the MF (without 3F00) / from the current DF
      auto v = fids(c.data);
      if (!v || v->empty()) return sw_only(sw::kWrongLength);
      if (c.p1 == 0x08) {
        if (v->front() == 0x7FFF) target = fs.resolve(*v, app());
        else target = fs.resolve(*v, nullptr);
      } else {
        target = cur;
        for (auto id : *v) {
          if (id == 0x7FFF && target == cur && cur->type == FileType::Mf) target = app();
          else target = target ? target->child(id) : nullptr;
          if (!target) break;
        }
      }
      break;
    }
    default:
      return sw_only(sw::kIncorrectP1P2);
  }
  if (!target) return sw_only(sw::kFileNotFound);
  if (target->is_df()) {
    sel.df = target;
    sel.ef = nullptr;
    if (target->type == FileType::Adf) sel.adf = target;
  } else {
    sel.df = target->parent;
    sel.ef = target;
  }
  sel.record = 0;
  if (!want_fcp) return sw_only(sw::kOk);
  return ok(fcp(*target));
}

apdu::Response Card::status(const apdu::Command& c, Selection& sel) {
  if (c.p1 > 0x02) return sw_only(sw::kIncorrectP1P2);
  switch (c.p2) {
    case 0x0C: return sw_only(sw::kOk);
    case 0x01:
      if (!sel.adf) return sw_only(sw::kOk);
      return ok(tlv::make(0x84, sel.adf->aid));
    case 0x00: return ok(fcp(*current_df(sel)));
    default: return sw_only(sw::kIncorrectP1P2);
  }
}

// ---- EFs ----------------------------------------------------------------------

// The EF a command works on: by SFI (in P1 for BINARY, in P2 for RECORD
// commands) in the current DF, which then becomes the current EF, or the
// current EF.
File* Card::ef_for(const apdu::Command& c, Selection& sel, bool sfi_in_p1, std::uint16_t& status) {
  std::uint8_t sfi = sfi_in_p1 ? ((c.p1 & 0x80) ? (c.p1 & 0x1F) : 0) : static_cast<std::uint8_t>(c.p2 >> 3);
  if (sfi) {
    File* f = current_df(sel)->child_by_sfi(sfi);
    if (!f) {
      status = sw::kFileNotFound;
      return nullptr;
    }
    if (sel.ef != f) sel.record = 0;
    sel.ef = f;
    return f;
  }
  if (!sel.ef) status = kNoEfSelected;
  return sel.ef;
}

apdu::Response Card::read_binary(const apdu::Command& c, Selection& sel) {
  std::uint16_t s = 0;
  File* f = ef_for(c, sel, true, s);
  if (!f) return sw_only(s);
  if (f->type != FileType::Transparent) return sw_only(kIncompatibleFile);
  if (!allowed(*f, kAmRead)) return sw_only(sw::kSecurityNotSatisfied);
  std::size_t offset = (c.p1 & 0x80) ? c.p2 : static_cast<std::size_t>((c.p1 & 0x7F) << 8 | c.p2);
  if (offset > f->size()) return sw_only(kWrongOffset);
  std::size_t avail = f->size() - offset;
  std::size_t want = c.le.value_or(avail);
  if (want > avail) {
    // Le = 00 (256) means "up to 256": give what there is; another Le that
    // overshoots is a wrong length, told with the right one (ISO 7816-3 T=0).
    if (*c.le != 256 && *c.le != 65536) return sw_only(static_cast<std::uint16_t>(0x6C00 | (avail & 0xFF)));
    want = avail;
  }
  const Bytes& b = *f->content;
  return ok(Bytes(b.begin() + static_cast<std::ptrdiff_t>(offset), b.begin() + static_cast<std::ptrdiff_t>(offset + want)));
}

apdu::Response Card::update_binary(const apdu::Command& c, Selection& sel) {
  std::uint16_t s = 0;
  File* f = ef_for(c, sel, true, s);
  if (!f) return sw_only(s);
  if (f->type != FileType::Transparent) return sw_only(kIncompatibleFile);
  if (!allowed(*f, kAmUpdate)) return sw_only(sw::kSecurityNotSatisfied);
  std::size_t offset = (c.p1 & 0x80) ? c.p2 : static_cast<std::size_t>((c.p1 & 0x7F) << 8 | c.p2);
  if (offset >= f->size()) return sw_only(kWrongOffset);
  if (c.data.empty() || offset + c.data.size() > f->size()) return sw_only(sw::kWrongLength);
  std::copy(c.data.begin(), c.data.end(), f->content->begin() + static_cast<std::ptrdiff_t>(offset));
  return sw_only(sw::kOk);
}

apdu::Response Card::read_record(const apdu::Command& c, Selection& sel) {
  std::uint16_t s = 0;
  File* f = ef_for(c, sel, false, s);
  if (!f) return sw_only(s);
  if (!f->is_record()) return sw_only(kIncompatibleFile);
  if (!allowed(*f, kAmRead)) return sw_only(sw::kSecurityNotSatisfied);
  std::size_t n = f->record_count();
  bool cyclic = f->type == FileType::Cyclic;
  std::size_t rec = 0;
  switch (c.p2 & 0x07) {
    case 0x04: rec = c.p1 ? c.p1 : sel.record; break;  // absolute / current
    case 0x02:                                          // next
      if (c.p1) return sw_only(sw::kIncorrectP1P2);
      rec = sel.record + 1;
      if (rec > n && cyclic) rec = 1;
      break;
    case 0x03:                                          // previous
      if (c.p1) return sw_only(sw::kIncorrectP1P2);
      if (sel.record == 0) rec = n;
      else if (sel.record == 1) rec = cyclic ? n : 0;
      else rec = sel.record - 1;
      break;
    default: return sw_only(sw::kIncorrectP1P2);
  }
  if (rec == 0 || rec > n) return sw_only(kRecordNotFound);
  if (c.le && *c.le != f->record_len && *c.le != 256 && *c.le != 65536)
    return sw_only(static_cast<std::uint16_t>(0x6C00 | (f->record_len & 0xFF)));
  sel.record = rec;
  ByteView r = record_view(*f, rec);
  return ok(Bytes(r.begin(), r.end()));
}

apdu::Response Card::update_record(const apdu::Command& c, Selection& sel) {
  std::uint16_t s = 0;
  File* f = ef_for(c, sel, false, s);
  if (!f) return sw_only(s);
  if (!f->is_record()) return sw_only(kIncompatibleFile);
  if (!allowed(*f, kAmUpdate)) return sw_only(sw::kSecurityNotSatisfied);
  if (c.data.size() != f->record_len) return sw_only(sw::kWrongLength);
  std::size_t n = f->record_count();
  if (n == 0) return sw_only(kRecordNotFound);
  std::size_t rec = 0;
  if (f->type == FileType::Cyclic) {
    // TS 102 221 11.1.6: cyclic files are updated in PREVIOUS mode only: the
    // oldest record is written and becomes record 1.
    if ((c.p2 & 0x07) != 0x03 || c.p1) return sw_only(sw::kIncorrectP1P2);
    f->cyclic_newest = (f->cyclic_newest + n - 1) % n;
    rec = 1;
  } else {
    switch (c.p2 & 0x07) {
      case 0x04: rec = c.p1 ? c.p1 : sel.record; break;
      case 0x02: rec = sel.record + 1; break;
      case 0x03: rec = sel.record == 0 ? n : sel.record - 1; break;
      default: return sw_only(sw::kIncorrectP1P2);
    }
    if (rec == 0 || rec > n) return sw_only(kRecordNotFound);
  }
  std::copy(c.data.begin(), c.data.end(), f->content->begin() + static_cast<std::ptrdiff_t>(slot_of(*f, rec) * f->record_len));
  sel.record = rec;
  return sw_only(sw::kOk);
}

// TS 102 221 11.1.7: simple search (P2 b3-b1 = 4 forward / 5 backward from
// P1) and enhanced search (6; search indication in the first two bytes:
// mode, then the offset at which the pattern must start).
apdu::Response Card::search_record(const apdu::Command& c, Selection& sel) {
  std::uint16_t s = 0;
  File* f = ef_for(c, sel, false, s);
  if (!f) return sw_only(s);
  if (!f->is_record()) return sw_only(kIncompatibleFile);
  if (!allowed(*f, kAmRead)) return sw_only(sw::kSecurityNotSatisfied);
  std::size_t n = f->record_count();
  std::uint8_t mode = c.p2 & 0x07;
  Bytes pattern = c.data;
  std::optional<std::size_t> at;  // enhanced search: fixed offset
  bool backward = false;
  std::size_t start = c.p1;
  if (mode == 0x04 || mode == 0x05) {
    backward = mode == 0x05;
  } else if (mode == 0x06) {
    if (c.data.size() < 3) return sw_only(sw::kWrongLength);
    std::uint8_t ind = c.data[0];
    if (ind & 0x08) return sw_only(sw::kIncorrectP1P2);  // search by value: not supported
    at = c.data[1];
    backward = (ind & 0x07) == 0x05 || (ind & 0x07) == 0x07;
    if ((ind & 0x07) == 0x06) start = sel.record + 1;
    if ((ind & 0x07) == 0x07) start = sel.record ? sel.record - 1 : 0;
    pattern.assign(c.data.begin() + 2, c.data.end());
  } else {
    return sw_only(sw::kIncorrectP1P2);
  }
  if (pattern.empty() || pattern.size() > f->record_len) return sw_only(sw::kWrongLength);
  if (start == 0) start = backward ? n : 1;
  if (start > n) return sw_only(kRecordNotFound);
  Bytes found;
  auto match = [&](std::size_t rec) {
    ByteView r = record_view(*f, rec);
    if (at) return *at + pattern.size() <= r.size() && std::equal(pattern.begin(), pattern.end(), r.begin() + static_cast<std::ptrdiff_t>(*at));
    return std::search(r.begin(), r.end(), pattern.begin(), pattern.end()) != r.end();
  };
  if (backward) {
    for (std::size_t rec = start; rec >= 1; --rec)
      if (match(rec)) found.push_back(static_cast<std::uint8_t>(rec));
  } else {
    for (std::size_t rec = start; rec <= n; ++rec)
      if (match(rec)) found.push_back(static_cast<std::uint8_t>(rec));
  }
  if (!found.empty()) sel.record = found.front();
  return ok(std::move(found));
}

// TS 102 221 11.1.8: adds to record 1 of a cyclic EF; the sum is written to
// the oldest record, which becomes record 1. Response: new value || added value.
apdu::Response Card::increase(const apdu::Command& c, Selection& sel) {
  if (c.p1 != 0x00 && !(c.p1 & 0x80)) return sw_only(sw::kIncorrectP1P2);
  std::uint16_t s = 0;
  File* f = ef_for(c, sel, true, s);
  if (!f) return sw_only(s);
  if (f->type != FileType::Cyclic) return sw_only(kIncompatibleFile);
  if (!allowed(*f, 0, 0x32)) return sw_only(sw::kSecurityNotSatisfied);
  std::size_t n = f->record_count();
  if (c.data.empty() || c.data.size() > f->record_len || n == 0) return sw_only(sw::kWrongLength);
  ByteView r1 = record_view(*f, 1);
  Bytes sum(r1.begin(), r1.end());
  unsigned carry = 0;
  for (std::size_t i = 0; i < sum.size(); ++i) {
    std::size_t k = sum.size() - 1 - i;
    unsigned add = i < c.data.size() ? c.data[c.data.size() - 1 - i] : 0;
    unsigned v = sum[k] + add + carry;
    sum[k] = static_cast<std::uint8_t>(v);
    carry = v >> 8;
  }
  if (carry) return sw_only(kMaxValueReached);
  f->cyclic_newest = (f->cyclic_newest + n - 1) % n;
  std::copy(sum.begin(), sum.end(), f->content->begin() + static_cast<std::ptrdiff_t>(slot_of(*f, 1) * f->record_len));
  sel.record = 1;
  return ok(concat(sum, c.data));
}

// TS 102 221 11.3.1 RETRIEVE DATA: the data object with the tag in the data
// field, from the current BER-TLV EF (tag 5C: the list of tags).
apdu::Response Card::retrieve_data(const apdu::Command& c, Selection& sel) {
  if (!sel.ef) return sw_only(kNoEfSelected);
  File* f = sel.ef;
  if (f->type != FileType::BerTlv) return sw_only(kIncompatibleFile);
  if (!allowed(*f, kAmRead)) return sw_only(sw::kSecurityNotSatisfied);
  if (c.data.empty()) return sw_only(sw::kWrongLength);
  std::uint32_t tag = 0;
  for (auto b : c.data) tag = tag << 8 | b;
  auto objects = tlv::parse_all(*f->content);
  if (tag == 0x5C) {
    Bytes tags;
    for (const auto& o : objects) append(tags, tlv::encode_tag(o.tag));
    return ok(tlv::make(0x5C, tags));
  }
  for (const auto& o : objects)
    if (o.tag == tag) return ok(Bytes(o.raw.begin(), o.raw.end()));
  return sw_only(sw::kRefDataNotFound);
}

// TS 102 221 11.3.2 SET DATA: the data object replaces the one with its tag;
// an empty value deletes it.
apdu::Response Card::set_data(const apdu::Command& c, Selection& sel) {
  if (!sel.ef) return sw_only(kNoEfSelected);
  File* f = sel.ef;
  if (f->type != FileType::BerTlv) return sw_only(kIncompatibleFile);
  if (!allowed(*f, kAmUpdate)) return sw_only(sw::kSecurityNotSatisfied);
  tlv::Tlv in;
  try {
    in = tlv::parse_one(c.data);
  } catch (const DecodeError&) {
    return sw_only(sw::kWrongData);
  }
  Bytes out;
  for (const auto& o : tlv::parse_all(*f->content))
    if (o.tag != in.tag) append(out, o.raw);
  if (!in.value.empty()) append(out, in.raw);
  if (f->max_size && out.size() > f->max_size) return sw_only(kNotEnoughMemory);
  *f->content = std::move(out);
  return sw_only(sw::kOk);
}

// ---- PINs ---------------------------------------------------------------------

// VERIFY (20), CHANGE (24), DISABLE (26), ENABLE (28), UNBLOCK (2C) PIN:
// TS 102 221 11.1.9-11.1.13. P2 is the key reference.
apdu::Response Card::pin_command(const apdu::Command& c) {
  bool disable_alt = c.ins == 0x26 && c.p1 == 0x80;  // disable, replaced by the universal PIN: not modelled
  if (c.p1 != 0x00 && !(c.ins == 0x26 && disable_alt)) return sw_only(sw::kIncorrectP1P2);
  auto it = img_.pins.find(c.p2);
  if (it == img_.pins.end()) return sw_only(sw::kRefDataNotFound);
  Pin& pin = it->second;
  if (c.ins == 0x2C) {  // UNBLOCK: PUK || new PIN
    if (!pin.unblock_reference) return sw_only(sw::kRefDataNotFound);
    auto pk = img_.puks.find(*pin.unblock_reference);
    if (pk == img_.puks.end()) return sw_only(sw::kRefDataNotFound);
    Puk& puk = pk->second;
    if (c.data.empty()) return sw_only(counter_sw(puk.attempts_left));
    if (c.data.size() != 16) return sw_only(sw::kWrongLength);
    if (puk.attempts_left == 0) return sw_only(kPinBlocked);
    if (!std::equal(puk.value.begin(), puk.value.end(), c.data.begin())) {
      --puk.attempts_left;
      return sw_only(counter_sw(puk.attempts_left));
    }
    puk.attempts_left = puk.max_attempts;
    pin.value.assign(c.data.begin() + 8, c.data.end());
    pin.attempts_left = pin.max_attempts;
    pin.enabled = true;  // TS 102 221 11.1.13: an unblocked PIN is enabled
    sec_.verified.insert(pin.key_reference);
    return sw_only(sw::kOk);
  }
  if (c.ins == 0x20 && c.data.empty()) {  // verification status
    if (sec_.verified.count(pin.key_reference)) return sw_only(sw::kOk);
    return sw_only(counter_sw(pin.attempts_left));
  }
  std::size_t want = c.ins == 0x24 ? 16 : 8;
  if (c.data.size() != want) return sw_only(sw::kWrongLength);
  if (pin.attempts_left == 0) return sw_only(kPinBlocked);
  if (c.ins == 0x26 && !pin.enabled) return sw_only(sw::kConditionsNotSatisfied);
  if (c.ins == 0x28 && pin.enabled) return sw_only(sw::kConditionsNotSatisfied);
  if (c.ins == 0x24 && !pin.enabled) return sw_only(sw::kConditionsNotSatisfied);
  if ((c.ins == 0x26 || c.ins == 0x28) && is_adm(pin.key_reference)) return sw_only(sw::kConditionsNotSatisfied);
  if (!std::equal(pin.value.begin(), pin.value.end(), c.data.begin())) {
    --pin.attempts_left;
    sec_.verified.erase(pin.key_reference);
    return sw_only(counter_sw(pin.attempts_left));
  }
  pin.attempts_left = pin.max_attempts;
  switch (c.ins) {
    case 0x20: sec_.verified.insert(pin.key_reference); break;
    case 0x24:
      pin.value.assign(c.data.begin() + 8, c.data.end());
      sec_.verified.insert(pin.key_reference);
      break;
    case 0x26: pin.enabled = false; break;
    case 0x28: pin.enabled = true; sec_.verified.insert(pin.key_reference); break;
    default: break;
  }
  return sw_only(sw::kOk);
}

apdu::Response Card::get_challenge(const apdu::Command& c) {
  if (c.p1 || c.p2) return sw_only(sw::kIncorrectP1P2);
  std::size_t n = c.le.value_or(16);
  if (n == 0 || n > 256) n = 16;
  return ok(crypto::random_bytes(n));
}

// ---- AUTHENTICATE ------------------------------------------------------------

// TS 31.102 7.1.2 in the current application, with the application's AKA
// parameters; here the test algorithm (TS 34.108 8.1.2). Milenage is served
// before this by the eUICC's hook (it keeps SQNms).
apdu::Response Card::authenticate(const apdu::Command& c, Selection& sel) {
  if (c.cla & 0x80) return sw_only(sw::kClaNotSupported);
  // In the application's context: the current DF is its ADF or below it.
  File* adf = current_df(sel)->application();
  if (!adf) return sw_only(sw::kInsNotSupported);
  const AkaParameters* aka = nullptr;
  for (const auto& [aid, p] : img_.aka)
    if (aid == adf->aid) aka = &p;
  if (!aka || aka->algorithm != AkaParameters::Algorithm::TestXor) return sw_only(sw::kConditionsNotSatisfied);
  // The application PIN (first of 01..08 in its PIN status template) guards it.
  for (auto kr : adf->pin_status_template)
    if (kr >= 0x01 && kr <= 0x08) {
      if (!key_satisfied(kr)) return sw_only(sw::kSecurityNotSatisfied);
      break;
    }
  if (c.p1 != 0x00 || (c.p2 != 0x80 && c.p2 != 0x81)) return sw_only(sw::kIncorrectP1P2);
  ByteView d(c.data);
  auto take_lv = [&](ByteView& in) -> std::optional<ByteView> {
    if (in.empty() || in[0] + 1u > in.size()) return std::nullopt;
    ByteView v = in.subspan(1, in[0]);
    in = in.subspan(1u + in[0]);
    return v;
  };
  auto put_lv = [](Bytes& out, ByteView v) {
    out.push_back(static_cast<std::uint8_t>(v.size()));
    append(out, v);
  };
  auto rand = take_lv(d);
  if (!rand || rand->size() != 16 || aka->key.size() != 16) return sw_only(sw::kWrongData);
  auto v = test_algorithm::compute(aka->key, *rand);
  if (c.p2 == 0x80) {  // GSM context: SRES, Kc (TS 33.102 6.8.1.2 c2/c3)
    Bytes out;
    put_lv(out, milenage::c2_sres(v.res));
    put_lv(out, milenage::c3_kc(v.ck, v.ik));
    return ok(std::move(out));
  }
  auto autn = take_lv(d);
  if (!autn || autn->size() != 16) return sw_only(sw::kWrongData);
  Bytes sqn(6), amf(autn->begin() + 6, autn->begin() + 8);
  for (std::size_t i = 0; i < 6; ++i) sqn[i] = (*autn)[i] ^ v.ak[i];
  Bytes xmac = test_algorithm::mac(v, sqn, amf);
  if (!std::equal(xmac.begin(), xmac.end(), autn->begin() + 8)) return sw_only(kMacFailure);
  Bytes out{0xDB};
  put_lv(out, v.res);
  put_lv(out, v.ck);
  put_lv(out, v.ik);
  put_lv(out, milenage::c3_kc(v.ck, v.ik));
  return ok(std::move(out));
}

}  // namespace rsp::uicc
