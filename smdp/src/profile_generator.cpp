#include "rsp/smdp/profile_generator.hpp"

#include <PINConfiguration.h>
#include <PUKConfiguration.h>
#include <ProfileElement.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <type_traits>

#include "rsp/asn1.hpp"
#include "rsp/log.hpp"

namespace rsp::smdp {

namespace {

using std::invalid_argument;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Luhn sum over `digits`, doubling every second digit counted from the right
// starting with the rightmost one when `doubling_rightmost` (the payload
// before a check digit is appended) or the one left of it (a complete number).
unsigned luhn_sum(std::string_view digits, bool doubling_rightmost) {
  unsigned sum = 0;
  bool dbl = doubling_rightmost;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it, dbl = !dbl) {
    unsigned d = static_cast<unsigned>(*it - '0');
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum;
}

// --- value coding -------------------------------------------------------------

// ProfileHeader.iccid: plain BCD, digits in reading order, F filler, 10 bytes
// (the TS.48 packages code it so; EF ICCID swaps the nibbles).
Bytes header_iccid(const std::string& digits) {
  std::string hex = digits;
  hex.resize(20, 'F');
  return from_hex(hex);
}

// EF ICCID (TS 102 221 13.2): swapped-nibble BCD, F filler, 10 bytes.
Bytes ef_iccid(const std::string& digits) {
  Bytes b = iccid_to_bcd(digits);
  b.resize(10, 0xFF);
  return b;
}

// EF IMSI (TS 31.102 4.2.2): length of the IMSI octets, then the parity /
// type nibble ('9' odd digit count, '1' even) with digit 1, then the digits
// in swapped pairs, F-padded.
Bytes ef_imsi(const std::string& imsi) {
  std::string nibbles = std::string(1, imsi.size() % 2 ? '9' : '1') + imsi;
  if (nibbles.size() % 2) nibbles.push_back('F');
  Bytes out{static_cast<std::uint8_t>(nibbles.size() / 2)};
  for (std::size_t i = 0; i < nibbles.size(); i += 2) {
    auto lo = from_hex(std::string("0") + nibbles[i])[0];
    auto hi = from_hex(std::string("0") + nibbles[i + 1])[0];
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

// PLMN (TS 24.008 10.5.1.13): MCC2 MCC1 | MNC3 MCC3 | MNC2 MNC1 (MNC3 = F
// for a 2-digit MNC).
Bytes plmn_bytes(const std::string& mccmnc) {
  auto d = [&](std::size_t i) { return static_cast<std::uint8_t>(i < mccmnc.size() ? mccmnc[i] - '0' : 0xF); };
  return Bytes{static_cast<std::uint8_t>(d(1) << 4 | d(0)), static_cast<std::uint8_t>(d(5) << 4 | d(2)),
               static_cast<std::uint8_t>(d(4) << 4 | d(3))};
}

// PIN / PUK value (TS 102 221 9.5.1): ASCII digits, 'FF'-padded to 8 bytes.
Bytes pin_value(const std::string& pin, const char* what, std::size_t min_len, std::size_t max_len) {
  if (!all_digits(pin) || pin.size() < min_len || pin.size() > max_len)
    throw invalid_argument(std::string(what) + " must be " + std::to_string(min_len) +
                           (min_len == max_len ? "" : ".." + std::to_string(max_len)) + " decimal digits");
  Bytes b(pin.begin(), pin.end());
  b.resize(8, 0xFF);
  return b;
}

Bytes adm_value(const std::string& adm) {
  if (adm.size() == 8) return Bytes(adm.begin(), adm.end());
  if (adm.size() == 16) {
    try {
      return from_hex(adm);
    } catch (const DecodeError&) {
    }
  }
  throw invalid_argument("adm1 must be 8 characters or 16 hex digits");
}

// GSM default alphabet (TS 23.038) for the characters that have a one-byte
// code; others are refused.
std::uint8_t gsm7(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return static_cast<std::uint8_t>(c);
  switch (c) {
    case '@': return 0x00;
    case '$': return 0x02;
    case '_': return 0x11;
    case ' ': case '!': case '"': case '#': case '%': case '&': case '\'': case '(': case ')':
    case '*': case '+': case ',': case '-': case '.': case '/': case ':': case ';': case '<':
    case '=': case '>': case '?':
      return static_cast<std::uint8_t>(c);
    default:
      throw invalid_argument(std::string("spn: character '") + c + "' has no GSM default alphabet code");
  }
}

// EF SPN (TS 31.102 4.2.12): display condition, then 16 bytes of name.
Bytes ef_spn(const std::string& name) {
  if (name.size() > 16) throw invalid_argument("spn: at most 16 characters");
  Bytes out{0x01};
  for (char c : name) out.push_back(gsm7(c));
  out.resize(17, 0xFF);
  return out;
}

// --- File (PEDefinitions: SEQUENCE OF CHOICE {doNotCreate, fileDescriptor,
// fillFileOffset, fillFileContent}) ----------------------------------------------

using FileMember = std::remove_pointer_t<std::remove_pointer_t<decltype(File_t::list.array)>>;

// The file's content as the template fills it (fillFileOffset moves on,
// fillFileContent writes), gaps as `gap`. Record files are filled the same
// way, records back to back.
Bytes file_content(const File_t& f, std::uint8_t gap) {
  Bytes out;
  std::size_t pos = 0;
  for (int i = 0; i < f.list.count; ++i) {
    const FileMember* m = f.list.array[i];
    if (m->present == File__Member_PR_fillFileOffset) {
      pos += static_cast<std::size_t>(m->choice.fillFileOffset);
    } else if (m->present == File__Member_PR_fillFileContent) {
      auto c = asn1::view(m->choice.fillFileContent);
      if (out.size() < pos + c.size()) out.resize(pos + c.size(), gap);
      std::copy(c.begin(), c.end(), out.begin() + static_cast<std::ptrdiff_t>(pos));
      pos += c.size();
    }
  }
  return out;
}

// efFileSize from the file's FCP(s), if given.
std::optional<std::size_t> file_size(const File_t& f) {
  std::optional<std::size_t> size;
  for (int i = 0; i < f.list.count; ++i) {
    const FileMember* m = f.list.array[i];
    if (m->present == File__Member_PR_fileDescriptor && m->choice.fileDescriptor.efFileSize) {
      std::size_t n = 0;
      for (auto b : asn1::view(*m->choice.fileDescriptor.efFileSize)) n = n << 8 | b;
      size = n;
    }
  }
  return size;
}

// Replaces the template's content of a file: its FCP entries stay, its fill
// entries are dropped, one fillFileContent (from offset 0) is appended and
// returned.
OCTET_STRING_t& set_file_content(File_t& f, ByteView content, const char* name) {
  const asn_TYPE_descriptor_t& member_td = *asn_DEF_File.elements[0].type;
  int kept = 0;
  for (int i = 0; i < f.list.count; ++i) {
    FileMember* m = f.list.array[i];
    if (m->present == File__Member_PR_doNotCreate)
      throw invalid_argument(std::string("template: ") + name + " is marked doNotCreate");
    if (m->present == File__Member_PR_fillFileOffset || m->present == File__Member_PR_fillFileContent)
      asn1::free_struct(member_td, m);
    else
      f.list.array[kept++] = m;
  }
  f.list.count = kept;
  auto& c = asn1::add(f.list);
  c.present = File__Member_PR_fillFileContent;
  asn1::set(c.choice.fillFileContent, content);
  return c.choice.fillFileContent;
}

// EF AD (TS 31.102 4.2.18) with the MNC length in the low nibble of byte 4.
Bytes ef_ad(Bytes ad, unsigned mnc_length) {
  if (ad.size() < 4) ad.resize(4, 0x00);
  ad[3] = static_cast<std::uint8_t>((ad[3] & 0xF0) | mnc_length);
  return ad;
}

// EF HPLMNwAcT (TS 31.102 4.2.54) of `size` bytes: the home PLMNs with the
// access technologies UTRAN, E-UTRAN (byte 1), GSM (byte 2): TS 31.102 4.2.5;
// the other entries unused.
Bytes ef_hplmnwact(const std::vector<Bytes>& plmns, std::size_t size) {
  Bytes content;
  content.reserve(size);
  for (const auto& p : plmns) append(content, concat(p, Bytes{0xC0, 0x80}));
  while (content.size() + 5 <= size) append(content, Bytes{0xFF, 0xFF, 0xFF, 0x00, 0x00});
  content.resize(size, 0xFF);
  return content;
}

// --- per-PE personalization ----------------------------------------------------

// The Milenage constants' DEFAULT values (TS 35.206 4.1), omitted in DER.
const Bytes& default_r() {
  static const Bytes r = from_hex("4000204060");
  return r;
}
const Bytes& default_c() {
  static const Bytes c = from_hex(
      "00000000000000000000000000000000"
      "00000000000000000000000000000001"
      "00000000000000000000000000000002"
      "00000000000000000000000000000004"
      "00000000000000000000000000000008");
  return c;
}

struct Checked {
  std::string iccid, imsi;
  ByteView ki, opc;  // into the SubscriberValues
  Bytes pin1, puk1;
  std::optional<Bytes> pin2, puk2, adm1, spn;
  std::vector<Bytes> plmns;
  std::optional<unsigned> mnc_length;
  // Milenage r / c when they differ from the defaults (else omitted).
  std::optional<Bytes> milenage_r, milenage_c;
};

Checked check(const SubscriberValues& v) {
  Checked c;
  if (!all_digits(v.iccid) || v.iccid.size() < 19 || v.iccid.size() > 20)
    throw invalid_argument("iccid must be 19 or 20 decimal digits including the Luhn check digit, got \"" + v.iccid + "\"");
  if (!luhn_valid(v.iccid))
    throw invalid_argument("iccid " + v.iccid + ": wrong Luhn check digit (expected " +
                           luhn_complete(std::string_view(v.iccid).substr(0, v.iccid.size() - 1)).substr(v.iccid.size() - 1) + ")");
  c.iccid = v.iccid;
  if (!all_digits(v.imsi) || v.imsi.size() != 15)
    throw invalid_argument("imsi must be 15 decimal digits, got \"" + v.imsi + "\" (" + std::to_string(v.imsi.size()) + " characters)");
  c.imsi = v.imsi;
  if (v.ki.size() != 16) throw invalid_argument("ki must be 16 bytes, got " + std::to_string(v.ki.size()));
  if (v.opc.size() != 16) throw invalid_argument("opc must be 16 bytes, got " + std::to_string(v.opc.size()));
  c.ki = v.ki;
  c.opc = v.opc;
  if (v.milenage_r && v.milenage_r->size() != 5) throw invalid_argument("milenage_r must be 5 bytes");
  if (v.milenage_c && v.milenage_c->size() != 80) throw invalid_argument("milenage_c must be 80 bytes");
  if (v.milenage_r && *v.milenage_r != default_r()) c.milenage_r = v.milenage_r;
  if (v.milenage_c && *v.milenage_c != default_c()) c.milenage_c = v.milenage_c;
  c.pin1 = pin_value(v.pin1, "pin1", 4, 8);
  c.puk1 = pin_value(v.puk1, "puk1", 8, 8);
  if (v.pin2) c.pin2 = pin_value(*v.pin2, "pin2", 4, 8);
  if (v.puk2) c.puk2 = pin_value(*v.puk2, "puk2", 8, 8);
  if (!v.adm1.empty()) c.adm1 = adm_value(v.adm1);
  if (v.spn) c.spn = ef_spn(*v.spn);
  for (const auto& p : v.home_plmns) {
    if (!all_digits(p) || p.size() < 5 || p.size() > 6)
      throw invalid_argument("home PLMN \"" + p + "\" must be MCC+MNC, 5 or 6 digits");
    c.plmns.push_back(plmn_bytes(p));
  }
  if (v.mnc_length) {
    if (*v.mnc_length != 2 && *v.mnc_length != 3) throw invalid_argument("mnc_length must be 2 or 3");
    c.mnc_length = v.mnc_length;
  } else if (!v.home_plmns.empty() && v.imsi.compare(0, v.home_plmns[0].size(), v.home_plmns[0]) == 0) {
    c.mnc_length = static_cast<unsigned>(v.home_plmns[0].size() - 3);
  }
  return c;
}

// What a personalized OCTET STRING of the package holds.
enum class Field : std::uint8_t {
  HeaderIccid, EfIccid, EfImsi, EfSpn, EfAd, EfHplmnwact, Ki, Opc, MilenageR, MilenageC, Pin1, Pin2, Adm1, Puk1, Puk2
};

// Compiling a template: which OCTET STRINGs of the PE at hand were given
// which value, and what the values that depend on the template need of it.
struct Marks {
  std::vector<Field> fields;
  std::vector<const OCTET_STRING_t*> strings;
  Bytes ef_ad_template;  // EF AD as the template fills it
  void add(Field f, const OCTET_STRING_t& s) {
    fields.push_back(f);
    strings.push_back(&s);
  }
};

void mark(Marks* m, Field f, const OCTET_STRING_t& s) {
  if (m) m->add(f, s);
}

void personalize_header(ProfileHeader_t& h, const Checked& c, Marks* m) {
  asn1::set(h.iccid, header_iccid(c.iccid));
  mark(m, Field::HeaderIccid, h.iccid);
  // Every AKA PE is Milenage now: that is the algorithm the eUICC must offer.
  auto& s = h.eUICC_Mandatory_services;
  auto drop = [](NULL_t*& p) {
    std::free(p);
    p = nullptr;
  };
  drop(s.tuak128);
  drop(s.tuak256);
  drop(s.usim_test_algorithm);
  if (!s.milenage) s.milenage = asn1::alloc<NULL_t>();
}

void personalize_aka(PE_AKAParameter_t& aka, const Checked& c, Marks* m) {
  auto& p = aka.algoConfiguration.choice.algoParameter;
  asn1::set_int64(p.algorithmID, AlgoParameter__algorithmID_milenage);
  asn1::set(p.key, c.ki);
  mark(m, Field::Ki, p.key);
  asn1::set(p.opc, c.opc);
  mark(m, Field::Opc, p.opc);
  // DEFAULT values are omitted in DER.
  auto set_opt = [m](OCTET_STRING_t*& s, const std::optional<Bytes>& val, Field f) {
    if (s) {
      asn1::free_struct(asn_DEF_OCTET_STRING, s);
      s = nullptr;
    }
    if (val) {
      s = asn1::new_octet_string(*val);
      mark(m, f, *s);
    }
  };
  set_opt(p.rotationConstants, c.milenage_r, Field::MilenageR);
  set_opt(p.xoringConstants, c.milenage_c, Field::MilenageC);
  if (p.numberOfKeccak) {  // TUAK only
    asn1::free_struct(asn_DEF_UInt8, p.numberOfKeccak);
    p.numberOfKeccak = nullptr;
  }
}

// Returns whether anything was changed. Compiling (m), every value given is
// marked whether or not it equals the template's.
bool personalize_pins(PE_PINCodes_t& pe, const Checked& c, Marks* m) {
  if (pe.pinCodes.present != PE_PINCodes__pinCodes_PR_pinconfig) return false;
  bool changed = false;
  auto& l = pe.pinCodes.choice.pinconfig.list;
  for (int i = 0; i < l.count; ++i) {
    PINConfiguration_t* pc = l.array[i];
    const Bytes* val = nullptr;
    Field f = Field::Pin1;
    switch (asn1::to_int64(pc->keyReference)) {
      case PINKeyReferenceValue_pinAppl1: val = &c.pin1; break;
      case PINKeyReferenceValue_secondPINAppl1: val = c.pin2 ? &*c.pin2 : nullptr; f = Field::Pin2; break;
      case PINKeyReferenceValue_adm1: val = c.adm1 ? &*c.adm1 : nullptr; f = Field::Adm1; break;
      default: break;
    }
    if (val && !std::ranges::equal(asn1::view(pc->pinValue), *val)) {
      asn1::set(pc->pinValue, *val);
      changed = true;
    }
    if (val) mark(m, f, pc->pinValue);
  }
  return changed;
}

bool personalize_puks(PE_PUKCodes_t& pe, const Checked& c, Marks* m) {
  bool changed = false;
  auto& l = pe.pukCodes.list;
  for (int i = 0; i < l.count; ++i) {
    PUKConfiguration_t* pc = l.array[i];
    const Bytes* val = nullptr;
    Field f = Field::Puk1;
    switch (asn1::to_int64(pc->keyReference)) {
      case PUKKeyReferenceValue_pukAppl1: val = &c.puk1; break;
      case PUKKeyReferenceValue_secondPUKAppl1: val = c.puk2 ? &*c.puk2 : nullptr; f = Field::Puk2; break;
      default: break;
    }
    if (val && !std::ranges::equal(asn1::view(pc->pukValue), *val)) {
      asn1::set(pc->pukValue, *val);
      changed = true;
    }
    if (val) mark(m, f, pc->pukValue);
  }
  return changed;
}

void personalize_usim(PE_USIM_t& u, const Checked& c, Marks* m) {
  mark(m, Field::EfImsi, set_file_content(u.ef_imsi, ef_imsi(c.imsi), "EF IMSI"));
  if (c.spn) mark(m, Field::EfSpn, set_file_content(u.ef_spn, *c.spn, "EF SPN"));
  if (c.mnc_length) {
    if (!u.ef_ad) throw invalid_argument("template: the USIM PE has no EF AD to hold the MNC length");
    Bytes tmpl_ad = file_content(*u.ef_ad, 0x00);
    if (m) m->ef_ad_template = tmpl_ad;
    mark(m, Field::EfAd, set_file_content(*u.ef_ad, ef_ad(std::move(tmpl_ad), *c.mnc_length), "EF AD"));
  }
}

void personalize_opt_usim(PE_OPT_USIM_t& o, const Checked& c, Marks* m) {
  if (!o.ef_hplmnwact) throw invalid_argument("template: the OPT-USIM PE has no EF HPLMNwAcT for the home PLMNs");
  File_t& f = *o.ef_hplmnwact;
  std::size_t size = file_size(f).value_or(file_content(f, 0xFF).size());
  if (c.plmns.size() * 5 > size)
    throw invalid_argument("template: EF HPLMNwAcT holds " + std::to_string(size / 5) + " PLMNs, " +
                           std::to_string(c.plmns.size()) + " given");
  mark(m, Field::EfHplmnwact, set_file_content(f, ef_hplmnwact(c.plmns, size), "EF HPLMNwAcT"));
}

// --- the package -----------------------------------------------------------------

// DER of a PE (after the constraint check, as asn1::encode_der) that also
// tells where the content octets of the given OCTET STRINGs landed: asn1c's
// DER encoder hands an OCTET STRING's content to the output callback straight
// from the string's own buffer, so a callback that sees that buffer knows
// its offset. offsets[i] is npos unless strings[i] was seen exactly once
// (e.g. DER's SET OF sorts its members through a scratch buffer).
constexpr std::size_t npos = static_cast<std::size_t>(-1);

struct Locating {
  Bytes out;
  const std::vector<const OCTET_STRING_t*>* strings;
  std::vector<std::size_t> offsets, hits;
};

int locating_cb(const void* buffer, size_t size, void* app_key) {
  auto* l = static_cast<Locating*>(app_key);
  for (std::size_t i = 0; i < l->strings->size(); ++i) {
    const OCTET_STRING_t* s = (*l->strings)[i];
    if (size > 0 && buffer == s->buf && size == static_cast<size_t>(s->size)) {
      l->offsets[i] = l->out.size();
      ++l->hits[i];
    }
  }
  const auto* p = static_cast<const std::uint8_t*>(buffer);
  l->out.insert(l->out.end(), p, p + size);
  return 0;
}

Bytes encode_der_locating(ProfileElement_t* pe, const std::vector<const OCTET_STRING_t*>& strings,
                          std::vector<std::size_t>& offsets) {
  asn1::check_constraints(asn_DEF_ProfileElement, pe);
  Locating l{{}, &strings, std::vector<std::size_t>(strings.size(), npos), std::vector<std::size_t>(strings.size(), 0)};
  asn_enc_rval_t rv = der_encode(&asn_DEF_ProfileElement, pe, locating_cb, &l);
  if (rv.encoded < 0) throw asn1::Asn1Error("asn1: cannot DER-encode ProfileElement");
  for (std::size_t i = 0; i < strings.size(); ++i)
    if (l.hits[i] != 1) l.offsets[i] = npos;
  offsets = std::move(l.offsets);
  return std::move(l.out);
}

// A template compiled for one shape of subscriber values: the package as
// generate_profile() encodes it, with every personalized value's place.
struct Slot {
  Field field;
  std::size_t offset, length;
  Bytes ef_ad_template;  // EF AD: the template's content, the MNC length goes into
};
struct Image {
  Bytes bytes;  // the slots zeroed
  std::vector<Slot> slots;
  // False when the template cannot be patched (a PIN / PUK PE whose template
  // bytes are not its DER, which generate_profile copies while the PINs are
  // unchanged; a value the encoder did not write from its own buffer): the
  // packages of this shape are then made by the re-encoding path.
  bool patchable = true;
};

// One pass over the template, PE by PE: decoded, personalized with c's values,
// re-encoded if changed, else copied. This is generate_profile(). With
// `image`, it also compiles: the changed PEs are encoded with each value's
// position recorded.
Bytes personalize(ByteView template_upp, const Checked& c, Image* image) {
  Bytes out;
  out.reserve(template_upp.size() + 64);
  std::size_t index = 0;
  bool mf = false, usim = false, aka = false, opt_usim = false;

  asn1::decode_each<ProfileElement_t>(asn_DEF_ProfileElement, template_upp, [&](asn1::Value<ProfileElement_t> pe, ByteView raw) {
    bool changed = true;
    Marks marks;
    Marks* m = image ? &marks : nullptr;
    if (index++ == 0 && pe->present != ProfileElement_PR_header)
      throw invalid_argument("template: the profile package does not start with a ProfileHeader");
    switch (pe->present) {
      case ProfileElement_PR_header:
        personalize_header(pe->choice.header, c, m);
        break;
      case ProfileElement_PR_mf:
        mark(m, Field::EfIccid, set_file_content(pe->choice.mf.ef_iccid, ef_iccid(c.iccid), "EF ICCID"));
        mf = true;
        break;
      case ProfileElement_PR_usim:
        personalize_usim(pe->choice.usim, c, m);
        usim = true;
        break;
      case ProfileElement_PR_opt_usim:
        if (c.plmns.empty()) {
          changed = false;
        } else {
          personalize_opt_usim(pe->choice.opt_usim, c, m);
          opt_usim = true;
        }
        break;
      case ProfileElement_PR_akaParameter:
        // mappingParameter: keys shared with another application's AKA PE.
        if (pe->choice.akaParameter.algoConfiguration.present == PE_AKAParameter__algoConfiguration_PR_algoParameter) {
          personalize_aka(pe->choice.akaParameter, c, m);
          aka = true;
        } else {
          changed = false;
        }
        break;
      case ProfileElement_PR_pinCodes:
      case ProfileElement_PR_pukCodes:
        // generate_profile copies these as they are while the values equal
        // the template's: patching is exact only if that copy is their DER.
        if (image && pe.encode_der() != Bytes(raw.begin(), raw.end())) image->patchable = false;
        changed = pe->present == ProfileElement_PR_pinCodes ? personalize_pins(pe->choice.pinCodes, c, m)
                                                            : personalize_puks(pe->choice.pukCodes, c, m);
        break;
      default:
        changed = false;
    }
    if (m && !marks.strings.empty()) {
      std::vector<std::size_t> at;
      Bytes der = encode_der_locating(pe.get(), marks.strings, at);
      for (std::size_t i = 0; i < at.size(); ++i) {
        if (at[i] == npos)
          image->patchable = false;
        else
          image->slots.push_back({marks.fields[i], out.size() + at[i], static_cast<std::size_t>(marks.strings[i]->size),
                                  marks.fields[i] == Field::EfAd ? marks.ef_ad_template : Bytes()});
      }
      append(out, der);
    } else if (changed) {
      append(out, pe.encode_der());
    } else {
      append(out, raw);
    }
  });

  if (index == 0) throw invalid_argument("template: empty profile package");
  if (!mf) throw invalid_argument("template: no MF PE (EF ICCID)");
  if (!usim) throw invalid_argument("template: no USIM PE (EF IMSI)");
  if (!aka) throw invalid_argument("template: no AKA parameter PE with algorithm parameters (Ki / OPc)");
  if (!c.plmns.empty() && !opt_usim) throw invalid_argument("template: no OPT-USIM PE (EF HPLMNwAcT) for the home PLMNs");
  return out;
}

// The values that decide a package's layout (which elements and fields are
// present, and the checks the template is put to); all others only fill
// fixed-size fields.
struct Shape {
  bool pin2, puk2, adm1, spn, mnc_length, milenage_r, milenage_c;
  std::size_t plmns;
  auto operator<=>(const Shape&) const = default;
};

Shape shape_of(const Checked& c) {
  return {c.pin2.has_value(), c.puk2.has_value(),     c.adm1.has_value(),       c.spn.has_value(),
          c.mnc_length.has_value(), c.milenage_r.has_value(), c.milenage_c.has_value(), c.plmns.size()};
}

// The image with c's values written into its slots.
Bytes fill(const Image& im, const Checked& c) {
  Bytes out(im.bytes);
  const Bytes hdr_iccid = header_iccid(c.iccid), file_iccid = ef_iccid(c.iccid), imsi = ef_imsi(c.imsi);
  Bytes computed;  // EF AD and EF HPLMNwAcT: their content depends on the template's file
  auto opt = [](const std::optional<Bytes>& b) { return b ? ByteView(*b) : ByteView(); };
  for (const Slot& s : im.slots) {
    ByteView val;
    switch (s.field) {
      case Field::HeaderIccid: val = hdr_iccid; break;
      case Field::EfIccid: val = file_iccid; break;
      case Field::EfImsi: val = imsi; break;
      case Field::EfSpn: val = opt(c.spn); break;
      case Field::EfAd: val = computed = ef_ad(s.ef_ad_template, c.mnc_length.value_or(0)); break;
      case Field::EfHplmnwact: val = computed = ef_hplmnwact(c.plmns, s.length); break;
      case Field::Ki: val = c.ki; break;
      case Field::Opc: val = c.opc; break;
      case Field::MilenageR: val = opt(c.milenage_r); break;
      case Field::MilenageC: val = opt(c.milenage_c); break;
      case Field::Pin1: val = c.pin1; break;
      case Field::Pin2: val = opt(c.pin2); break;
      case Field::Adm1: val = opt(c.adm1); break;
      case Field::Puk1: val = c.puk1; break;
      case Field::Puk2: val = opt(c.puk2); break;
    }
    // The shape fixes every value's length; anything else is a bug here.
    if (val.size() != s.length) throw std::logic_error("profile generator: a value does not fit its slot in the template");
    std::copy(val.begin(), val.end(), out.begin() + static_cast<std::ptrdiff_t>(s.offset));
  }
  return out;
}

// Compiles the template for c's shape. The secrets (Ki, OPc, PINs, PUKs,
// ADM1) are encoded as zeros, and every slot is zeroed afterwards, so the
// image holds no subscriber's values.
Image compile(ByteView template_upp, const Checked& c) {
  static const std::uint8_t zeros[16] = {};
  Checked ph = c;
  ph.ki = ph.opc = ByteView(zeros, sizeof zeros);
  auto zero = [](Bytes& b) { std::fill(b.begin(), b.end(), 0); };
  zero(ph.pin1);
  zero(ph.puk1);
  for (auto* o : {&ph.pin2, &ph.puk2, &ph.adm1})
    if (*o) zero(**o);
  Image im;
  im.bytes = personalize(template_upp, ph, &im);
  for (const Slot& s : im.slots) std::fill_n(im.bytes.begin() + static_cast<std::ptrdiff_t>(s.offset), s.length, 0);
  return im;
}

}  // namespace

std::string luhn_complete(std::string_view iccid_without_check) {
  if (!all_digits(iccid_without_check)) throw invalid_argument("luhn: expected decimal digits");
  unsigned sum = luhn_sum(iccid_without_check, true);
  std::string out(iccid_without_check);
  out.push_back(static_cast<char>('0' + (10 - sum % 10) % 10));
  return out;
}

bool luhn_valid(std::string_view iccid) {
  if (!all_digits(iccid)) throw invalid_argument("luhn: expected decimal digits");
  return luhn_sum(iccid, false) % 10 == 0;
}

Bytes generate_profile(ByteView template_upp, const SubscriberValues& v) { return personalize(template_upp, check(v), nullptr); }

struct ProfileGenerator::Impl {
  Bytes tmpl;
  std::mutex mu;
  std::map<Shape, std::shared_ptr<const Image>> images;

  // The image for c's shape, compiled on first use and checked against the
  // re-encoding path with c's values (`first` receives that package).
  std::shared_ptr<const Image> image_for(const Checked& c, std::optional<Bytes>& first) {
    const Shape shape = shape_of(c);
    std::lock_guard<std::mutex> lock(mu);
    auto it = images.find(shape);
    if (it != images.end()) return it->second;
    auto im = std::make_shared<Image>(compile(tmpl, c));  // throws as generate_profile would
    first = personalize(tmpl, c, nullptr);
    if (im->patchable) {
      Bytes patched = fill(*im, c);
      if (patched != *first) im->patchable = false;
      wipe(patched.data(), patched.size());
    }
    if (!im->patchable)
      log::warn("smdp", "profile generator: this template is re-encoded per profile (it cannot be patched in place)");
    images.emplace(shape, im);
    return im;
  }
};

ProfileGenerator::ProfileGenerator(Bytes template_upp) : impl_(std::make_unique<Impl>()) {
  impl_->tmpl = std::move(template_upp);
}
ProfileGenerator::~ProfileGenerator() = default;
ProfileGenerator::ProfileGenerator(ProfileGenerator&&) noexcept = default;
ProfileGenerator& ProfileGenerator::operator=(ProfileGenerator&&) noexcept = default;

Bytes ProfileGenerator::generate(const SubscriberValues& v) const {
  const Checked c = check(v);
  std::optional<Bytes> first;
  auto im = impl_->image_for(c, first);
  if (first) return std::move(*first);
  if (!im->patchable) return personalize(impl_->tmpl, c, nullptr);
  return fill(*im, c);
}

bool ProfileGenerator::patches(const SubscriberValues& v) const {
  const Checked c = check(v);
  std::optional<Bytes> first;
  bool p = impl_->image_for(c, first)->patchable;
  if (first) wipe(first->data(), first->size());
  return p;
}

}  // namespace rsp::smdp
