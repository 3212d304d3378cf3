// UICC command processing over a CardImage (see card.hpp). Status words as
// TS 102 221 10.2.1 lists them.
#include "rsp/uicc/card.hpp"

#include <algorithm>

#include "rsp/crypto.hpp"
#include "rsp/milenage.hpp"
#include "rsp/tlv.hpp"
#include "rsp/uicc/test_algorithm.hpp"
#include "rsp/uicc/tuak.hpp"

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
constexpr std::uint16_t kUnsuccessfulSearch = 0x6282;  // "end of file/record reached ... or unsuccessful search"
constexpr std::uint16_t kFileInvalidated = 0x6283;     // selected file invalidated (deactivated)
constexpr std::uint16_t kFileTerminated = 0x6284;      // selected file in termination state
constexpr std::uint16_t kFunctionNotSupported = 0x6A81;
constexpr std::uint16_t kFileIdExists = 0x6A89;        // TS 102 222 6.3: file ID already exists
constexpr std::uint16_t kDfNameExists = 0x6A8A;        // TS 102 222 6.3: DF name (AID) already exists
// ISO 7816-4 access mode byte: for an EF 01 read/search, 02 update; for a
// DF 01 delete child, 02 create EF, 04 create DF; for both 08 deactivate,
// 10 activate, 20 terminate, 40 delete (the file itself).
constexpr std::uint8_t kAmRead = 0x01, kAmUpdate = 0x02;
constexpr std::uint8_t kAmDeleteChild = 0x01, kAmCreateEf = 0x02, kAmCreateDf = 0x04;
constexpr std::uint8_t kAmDeactivate = 0x08, kAmActivate = 0x10, kAmTerminate = 0x20, kAmDeleteSelf = 0x40;

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

// TS 102 221 11.1.14 / TS 102 222 6.7-6.8: a deactivated file serves only
// SELECT, STATUS and ACTIVATE FILE; a terminated one, or one in a
// terminated DF, nothing. 0: usable.
std::uint16_t life_cycle_sw(const File& f) {
  for (const File* x = &f; x; x = x->parent)
    if (x->terminated()) return kFileTerminated;
  return f.deactivated() ? kFileInvalidated : 0;
}

// The record READ / UPDATE RECORD address (TS 102 221 11.1.5.1, 11.1.6.1):
// P2 b3-b1 4 absolute (P1; '00' the current record), 2 next, 3 previous
// (P1 '00'), from the record pointer `current` (0: none yet, so NEXT gives
// the first and PREVIOUS the last record). Only a cyclic file wraps. 0 and
// the record in `rec`, or the status word.
std::uint16_t record_number(const apdu::Command& c, const File& f, std::size_t current, std::size_t& rec) {
  std::size_t n = f.record_count();
  bool cyclic = f.type == FileType::Cyclic;
  switch (c.p2 & 0x07) {
    case 0x04: rec = c.p1 ? c.p1 : current; break;
    case 0x02:
      if (c.p1) return sw::kIncorrectP1P2;
      rec = current + 1;
      if (rec > n && cyclic) rec = 1;
      break;
    case 0x03:
      if (c.p1) return sw::kIncorrectP1P2;
      if (current == 0) rec = n;
      else if (current == 1) rec = cyclic ? n : 0;
      else rec = current - 1;
      break;
    default: return sw::kIncorrectP1P2;
  }
  return rec == 0 || rec > n ? kRecordNotFound : 0;
}

}  // namespace

// ---- dispatcher ----------------------------------------------------------

apdu::Response Card::process(const apdu::Command& c, Selection& sel) {
  if (sel.image != &img_ || !sel.df || img_.fs.removed(sel.df)) {
    sel = Selection{};
    sel.image = &img_;
    sel.df = img_.fs.mf.get();
  }
  // Another channel may have deleted what this one had selected.
  if (sel.ef && img_.fs.removed(sel.ef)) {
    sel.ef = nullptr;
    sel.record = 0;
  }
  if (sel.adf && img_.fs.removed(sel.adf)) sel.adf = nullptr;
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
    case 0x04: case 0x44: case 0xE6: case 0xE8: return life_cycle(c, sel);
    case 0xE0: return create_file(c, sel);
    case 0xE4: return delete_file(c, sel);
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

File* Card::locate(const apdu::Command& c, const Selection& sel, std::uint16_t& status) const {
  const FileSystem& fs = img_.fs;
  File* cur = current_df(sel);
  File* target = nullptr;
  status = sw::kFileNotFound;
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
      if (c.data.empty() && c.p1 == 0x00) return fs.mf.get();
      if (c.data.size() != 2) {
        status = sw::kWrongLength;
        return nullptr;
      }
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
      if (cur->type != FileType::Mf) target = cur->parent;
      break;
    case 0x04: {  // by DF name (AID), right-truncated allowed; P2 b2: next occurrence
      if (c.data.empty()) {
        status = sw::kWrongLength;
        return nullptr;
      }
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
      if (!v || v->empty()) {
        status = sw::kWrongLength;
        return nullptr;
      }
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
      status = sw::kIncorrectP1P2;
      return nullptr;
  }
  return target;
}

void Card::select_file(File* target, Selection& sel) const {
  if (target->is_df()) {
    sel.df = target;
    sel.ef = nullptr;
    if (target->type == FileType::Adf) sel.adf = target;
  } else {
    sel.df = target->parent;
    sel.ef = target;
  }
  sel.record = 0;
}

apdu::Response Card::select(const apdu::Command& c, Selection& sel) {
  std::uint8_t p2 = c.p2 & 0xF3;  // b3 (occurrence "next") checked below
  bool want_fcp = (c.p2 & 0x0C) != 0x0C;
  if (p2 != 0x04 && p2 != 0x00 && p2 != 0x0C && !(c.p1 == 0x04 && (c.p2 & 0x02))) return sw_only(sw::kIncorrectP1P2);
  std::uint16_t s = 0;
  File* target = locate(c, sel, s);
  if (!target) return sw_only(s);
  select_file(target, sel);
  // A deactivated or terminated file is selected all the same, with a
  // warning (TS 102 221 11.1.14: SELECT stays available).
  std::uint16_t status = life_cycle_sw(*target);
  if (!status) status = sw::kOk;
  if (!want_fcp) return sw_only(status);
  return apdu::Response{fcp(*target), status};
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

// The checks every data command makes, in one place: the EF (by SFI or the
// current one; BINARY and INCREASE carry the SFI in P1, RECORD commands in
// P2), its structure (6981), its life cycle (6283/6284), its access
// condition (6982).
File* Card::checked_ef(const apdu::Command& c, Selection& sel, Structure want, std::uint8_t am_bit, std::uint8_t ins,
                       std::uint16_t& status) {
  File* f = ef_for(c, sel, want != Structure::Record, status);
  if (!f) return nullptr;
  bool fits = want == Structure::Transparent ? f->type == FileType::Transparent
              : want == Structure::Record    ? f->is_record()
                                             : f->type == FileType::Cyclic;
  if (!fits) status = kIncompatibleFile;
  else if (std::uint16_t lc = life_cycle_sw(*f)) status = lc;
  else if (!allowed(*f, am_bit, ins)) status = sw::kSecurityNotSatisfied;
  else return f;
  return nullptr;
}

apdu::Response Card::read_binary(const apdu::Command& c, Selection& sel) {
  std::uint16_t s = 0;
  File* f = checked_ef(c, sel, Structure::Transparent, kAmRead, 0, s);
  if (!f) return sw_only(s);
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
  File* f = checked_ef(c, sel, Structure::Transparent, kAmUpdate, 0, s);
  if (!f) return sw_only(s);
  std::size_t offset = (c.p1 & 0x80) ? c.p2 : static_cast<std::size_t>((c.p1 & 0x7F) << 8 | c.p2);
  if (offset >= f->size()) return sw_only(kWrongOffset);
  if (c.data.empty() || offset + c.data.size() > f->size()) return sw_only(sw::kWrongLength);
  std::copy(c.data.begin(), c.data.end(), f->content->begin() + static_cast<std::ptrdiff_t>(offset));
  return sw_only(sw::kOk);
}

apdu::Response Card::read_record(const apdu::Command& c, Selection& sel) {
  std::uint16_t s = 0;
  File* f = checked_ef(c, sel, Structure::Record, kAmRead, 0, s);
  if (!f) return sw_only(s);
  std::size_t rec = 0;
  if (std::uint16_t e = record_number(c, *f, sel.record, rec)) return sw_only(e);
  if (c.le && *c.le != f->record_len && *c.le != 256 && *c.le != 65536)
    return sw_only(static_cast<std::uint16_t>(0x6C00 | (f->record_len & 0xFF)));
  sel.record = rec;
  ByteView r = record_view(*f, rec);
  return ok(Bytes(r.begin(), r.end()));
}

apdu::Response Card::update_record(const apdu::Command& c, Selection& sel) {
  std::uint16_t s = 0;
  File* f = checked_ef(c, sel, Structure::Record, kAmUpdate, 0, s);
  if (!f) return sw_only(s);
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
  } else if (std::uint16_t e = record_number(c, *f, sel.record, rec)) {
    return sw_only(e);
  }
  std::copy(c.data.begin(), c.data.end(), f->content->begin() + static_cast<std::ptrdiff_t>(slot_of(*f, rec) * f->record_len));
  sel.record = rec;
  return sw_only(sw::kOk);
}

// TS 102 221 11.1.7. P2 b3-b1: 4 / 5 simple search forward / backward from
// the record in P1 ('00': the current record), 6 enhanced search, 7
// proprietary search (none here: 6A81). Enhanced search: the first byte of
// the search indication has b4 = 0 "start at the offset in byte 2" or 1
// "start after the first occurrence of the value in byte 2", and b3-b1 = 4 /
// 5 forward / backward from the record in P1, 6 / 7 forward from the next /
// backward from the previous record (after / before P1, '00': the current
// record; with no current record the first / the last). Each record is
// searched for the string from its start position on. The answer lists the
// matching records in search order and the first becomes the current
// record; none: 6282 ("unsuccessful search", TS 102 221 10.2.1.2).
apdu::Response Card::search_record(const apdu::Command& c, Selection& sel) {
  std::uint16_t s = 0;
  File* f = checked_ef(c, sel, Structure::Record, kAmRead, 0, s);
  if (!f) return sw_only(s);
  std::size_t n = f->record_count();
  std::uint8_t how = c.p2 & 0x07;
  ByteView pattern(c.data);
  std::size_t offset = 0;
  std::optional<std::uint8_t> after_value;
  if (how == 0x07) return sw_only(kFunctionNotSupported);
  if (how == 0x06) {
    if (c.data.size() < 3) return sw_only(sw::kWrongLength);
    std::uint8_t indication = c.data[0];
    if ((indication & 0xF0) || !(indication & 0x04)) return sw_only(sw::kWrongData);
    if (indication & 0x08) after_value = c.data[1];
    else offset = c.data[1];
    how = indication & 0x07;
    pattern = pattern.subspan(2);
  } else if (how != 0x04 && how != 0x05) {
    return sw_only(sw::kIncorrectP1P2);
  }
  if (pattern.empty() || pattern.size() > f->record_len) return sw_only(sw::kWrongLength);
  std::size_t base = c.p1 ? c.p1 : sel.record;
  if (base > n) return sw_only(kRecordNotFound);
  bool backward = how == 0x05 || how == 0x07;
  std::size_t start = 0;
  switch (how) {
    case 0x04: case 0x05:
      if (base == 0) return sw_only(kRecordNotFound);  // '00' with no current record
      start = base;
      break;
    case 0x06: start = base + 1; break;
    default: start = base == 0 ? n : base - 1; break;
  }
  auto matches = [&](std::size_t rec) {
    ByteView r = record_view(*f, rec);
    std::size_t from = offset;
    if (after_value) {
      auto at = std::find(r.begin(), r.end(), *after_value);
      if (at == r.end()) return false;
      from = static_cast<std::size_t>(at - r.begin()) + 1;
    }
    if (from >= r.size()) return false;
    ByteView rest = r.subspan(from);
    return std::search(rest.begin(), rest.end(), pattern.begin(), pattern.end()) != rest.end();
  };
  Bytes found;
  for (std::size_t rec = start; rec >= 1 && rec <= n; rec = backward ? rec - 1 : rec + 1)
    if (matches(rec)) found.push_back(static_cast<std::uint8_t>(rec));
  if (found.empty()) return sw_only(kUnsuccessfulSearch);
  sel.record = found.front();
  return ok(std::move(found));
}

// TS 102 221 11.1.8: adds to record 1 of a cyclic EF; the sum is written to
// the oldest record, which becomes record 1. P1 '00' or an SFI (b8 set),
// P2 '00'. Response: new value || added value. Access: the command header
// DO of INCREASE (84 01 32) in EF.ARR.
apdu::Response Card::increase(const apdu::Command& c, Selection& sel) {
  if ((c.p1 != 0x00 && (c.p1 & 0xE0) != 0x80) || c.p2 != 0x00) return sw_only(sw::kIncorrectP1P2);
  std::uint16_t s = 0;
  File* f = checked_ef(c, sel, Structure::Cyclic, 0, 0x32, s);
  if (!f) return sw_only(s);
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
  if (std::uint16_t lc = life_cycle_sw(*f)) return sw_only(lc);
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
  if (std::uint16_t lc = life_cycle_sw(*f)) return sw_only(lc);
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
// parameters: the test algorithm (TS 34.108 8.1.2) or TUAK (TS 35.231: MAC
// 64 bits as AUTN carries it, CK and IK 128 bits as the answer carries
// them, RES `tuak_res_len`). Milenage is served before this by the eUICC's
// hook. Both check SQN freshness as TS 33.102 6.3.3 asks with the simple
// scheme the Milenage hook uses (SQN must exceed SQNms, else DC AUTS, AUTS =
// SQNms xor AK* || MAC-S, MAC-S = f1*(SQNms, AMF 0000), 6.3.5); TS 34.108
// 8.1.2 gives the test algorithm f1* and f5* for this resynchronisation.
apdu::Response Card::authenticate(const apdu::Command& c, Selection& sel) {
  if (c.cla & 0x80) return sw_only(sw::kClaNotSupported);
  // In the application's context: the current DF is its ADF or below it.
  File* adf = current_df(sel)->application();
  if (!adf) return sw_only(sw::kInsNotSupported);
  AkaParameters* aka = nullptr;
  for (auto& [aid, p] : img_.aka)
    if (aid == adf->aid) aka = &p;
  using Algorithm = AkaParameters::Algorithm;
  if (!aka || (aka->algorithm != Algorithm::TestXor && aka->algorithm != Algorithm::Tuak))
    return sw_only(sw::kConditionsNotSatisfied);
  bool tuak = aka->algorithm == Algorithm::Tuak;
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
  if (!rand || rand->size() != 16) return sw_only(sw::kWrongData);
  if (tuak ? (aka->key.size() != 16 && aka->key.size() != 32) || aka->opc.size() != 32 || aka->keccak_iterations == 0
           : aka->key.size() != 16)
    return sw_only(sw::kWrongData);
  SecretBytes res, ck, ik;
  Bytes ak;
  std::optional<test_algorithm::Vectors> xor_v;
  if (tuak) {
    auto v = tuak::f2345(aka->opc, aka->key, *rand, aka->tuak_res_len, 16, 16, aka->keccak_iterations);
    res = v.res, ck = v.ck, ik = v.ik, ak = v.ak;
  } else {
    xor_v = test_algorithm::compute(aka->key, *rand);
    res = xor_v->res, ck = xor_v->ck, ik = xor_v->ik, ak = xor_v->ak;
  }
  if (c.p2 == 0x80) {  // GSM context: SRES, Kc (TS 33.102 6.8.1.2 c2/c3)
    Bytes out;
    put_lv(out, milenage::c2_sres(res));
    put_lv(out, milenage::c3_kc(ck, ik));
    return ok(std::move(out));
  }
  auto autn = take_lv(d);
  if (!autn || autn->size() != 16) return sw_only(sw::kWrongData);
  Bytes sqn(6), amf(autn->begin() + 6, autn->begin() + 8);
  for (std::size_t i = 0; i < 6; ++i) sqn[i] = (*autn)[i] ^ ak[i];
  Bytes xmac = tuak ? tuak::f1(aka->opc, aka->key, *rand, sqn, amf, 8, aka->keccak_iterations)
                    : test_algorithm::mac(*xor_v, sqn, amf);
  if (!equal_ct(xmac, autn->subspan(8, 8))) return sw_only(kMacFailure);
  // SQN freshness (TS 33.102 6.3.3, SQN > SQNms) for both algorithms; a
  // stale one answers 'DC' AUTS = SQNms xor AK* || MAC-S, MAC-S = f1* over
  // SQNms with the dummy AMF 0000 (6.3.5). The test algorithm's f1* and
  // f5* are its f1 and f5 (TS 34.108 8.1.2: MAC-A = MAC-S = XDOUT[0..63]
  // xor CDOUT; AK = XDOUT[24..71] for both).
  std::uint64_t& sqn_ms = aka->sqn_ms;
  if (milenage::sqn_to_u64(sqn) <= sqn_ms) {
    Bytes ms = milenage::sqn_from_u64(sqn_ms);
    const Bytes dummy_amf(2, 0);
    Bytes auts = tuak ? tuak::f5_star(aka->opc, aka->key, *rand, aka->keccak_iterations) : xor_v->ak;
    for (std::size_t i = 0; i < 6; ++i) auts[i] ^= ms[i];
    append(auts, tuak ? tuak::f1_star(aka->opc, aka->key, *rand, ms, dummy_amf, 8, aka->keccak_iterations)
                      : test_algorithm::mac(*xor_v, ms, dummy_amf));
    Bytes out{0xDC};
    put_lv(out, auts);
    return ok(std::move(out));
  }
  sqn_ms = milenage::sqn_to_u64(sqn);
  Bytes out{0xDB};
  put_lv(out, res);
  put_lv(out, ck);
  put_lv(out, ik);
  put_lv(out, milenage::c3_kc(ck, ik));
  return ok(std::move(out));
}

// ---- life cycle and administration (TS 102 221 11.1.14-15, TS 102 222) -------

// DEACTIVATE FILE (04) / ACTIVATE FILE (44), TS 102 221 11.1.14 / 11.1.15,
// and TERMINATE DF (E6) / TERMINATE EF (E8), TS 102 222 6.7 / 6.8: the file
// named as SELECT names it (P1, data), or without data the current file
// (the current EF, else the current DF); it becomes the current file. Each
// under the file's own access mode bit. The MF is not deactivated or
// terminated here (TERMINATE CARD USAGE is not modelled); termination is
// for good.
apdu::Response Card::life_cycle(const apdu::Command& c, Selection& sel) {
  File* f = nullptr;
  if (c.data.empty()) {
    f = sel.ef ? sel.ef : current_df(sel);
  } else {
    std::uint16_t s = 0;
    f = locate(c, sel, s);
    if (!f) return sw_only(s);
  }
  if ((c.ins == 0xE6 && !f->is_df()) || (c.ins == 0xE8 && f->is_df())) return sw_only(kIncompatibleFile);
  if (f->type == FileType::Mf) return sw_only(sw::kConditionsNotSatisfied);
  if (f->terminated()) return sw_only(kFileTerminated);
  std::uint8_t am = c.ins == 0x04 ? kAmDeactivate : c.ins == 0x44 ? kAmActivate : kAmTerminate;
  if (!allowed(*f, am)) return sw_only(sw::kSecurityNotSatisfied);
  select_file(f, sel);
  switch (c.ins) {
    case 0x04: f->lcsi = static_cast<std::uint8_t>((f->lcsi & 0x02) | 0x04); break;
    case 0x44: f->lcsi = static_cast<std::uint8_t>((f->lcsi & 0x02) | 0x05); break;
    default: f->lcsi = 0x0C; break;
  }
  return sw_only(sw::kOk);
}

// TS 102 222 6.3 CREATE FILE: the FCP template (62) of an EF or DF to create
// in the current DF (an ADF, named by its AID, only at the MF), under the
// current DF's "create EF" / "create DF" access condition. The file id must
// be new in the DF (6A89; 3F00, 7FFF, FFFF are reserved: 6A80), an ADF's AID
// new on the card (6A8A). Without tag 88 an EF gets the five low bits of its
// file id as SFI. The new file becomes the current file.
apdu::Response Card::create_file(const apdu::Command& c, Selection& sel) {
  if (c.p1 || c.p2) return sw_only(sw::kIncorrectP1P2);
  File* dir = current_df(sel);
  if (std::uint16_t lc = life_cycle_sw(*dir)) return sw_only(lc);
  std::unique_ptr<File> f;
  try {
    auto t = tlv::parse_one(c.data);
    if (t.tag != 0x62 || t.raw.size() != c.data.size()) return sw_only(sw::kWrongData);
    f = file_from_fcp(t.value);
    f->created_fcp.assign(t.value.begin(), t.value.end());
  } catch (const DecodeError&) {
    return sw_only(sw::kWrongData);
  }
  if (f->type == FileType::Mf || f->fid == 0x3F00 || f->fid == 0x7FFF || f->fid == 0xFFFF)
    return sw_only(sw::kWrongData);
  if (!allowed(*dir, f->is_df() ? kAmCreateDf : kAmCreateEf)) return sw_only(sw::kSecurityNotSatisfied);
  File* placed = nullptr;
  if (f->type == FileType::Adf) {
    if (dir->type != FileType::Mf) return sw_only(sw::kWrongData);
    for (const auto& a : img_.fs.adfs)
      if (a->aid == f->aid) return sw_only(kDfNameExists);
    f->parent = dir;
    img_.fs.adfs.push_back(std::move(f));
    placed = img_.fs.adfs.back().get();
  } else {
    if (dir->fid == f->fid || dir->child(f->fid)) return sw_only(kFileIdExists);
    f->parent = dir;
    dir->children.push_back(std::move(f));
    placed = dir->children.back().get();
  }
  select_file(placed, sel);
  return sw_only(sw::kOk);
}

// TS 102 222 6.4 DELETE FILE: a file of the current DF by its id (a DF with
// all it holds), under the current DF's "delete child" or the file's own
// "delete file" access condition. A selection inside it falls back to the
// current DF; other channels find it gone at their next command.
apdu::Response Card::delete_file(const apdu::Command& c, Selection& sel) {
  if (c.p1 || c.p2) return sw_only(sw::kIncorrectP1P2);
  if (c.data.size() != 2) return sw_only(sw::kWrongLength);
  File* dir = current_df(sel);
  File* f = dir->child(static_cast<std::uint16_t>(c.data[0] << 8 | c.data[1]));
  if (!f) return sw_only(sw::kFileNotFound);
  if (!allowed(*dir, kAmDeleteChild) && !allowed(*f, kAmDeleteSelf)) return sw_only(sw::kSecurityNotSatisfied);
  img_.fs.remove(f);
  if (sel.ef && img_.fs.removed(sel.ef)) {
    sel.ef = nullptr;
    sel.record = 0;
  }
  return sw_only(sw::kOk);
}

}  // namespace rsp::uicc
