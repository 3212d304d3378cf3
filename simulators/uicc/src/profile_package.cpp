// Profile package -> CardImage. The PEs are walked as TLVs; asn1c's type
// descriptors only name the members (ProfileElement's CHOICE alternative,
// each PE's File members), so the template of a File is found by the names
// the PEDefinitions module gives. PIN, PUK and AKA PEs are decoded with asn1c.
//
// Placement (Interoperable Profile spec, 8.3 "file system PEs"): the first
// File of a PE is its root (the MF, an ADF, or a DF under the MF or the
// USIM ADF); DFs after it are children of the root; EFs go into the DF most
// recently created in the PE. OPT-USIM/OPT-ISIM/OPT-CSIM extend the ADF of
// the last USIM/ISIM/CSIM; PHONEBOOK, GSM-ACCESS, DF-5GS, DF-SAIP, DF-SNPN,
// DF-5GPROSE and EAP are DFs of the last ADF.USIM.
#include "rsp/uicc/profile_package.hpp"

#include <algorithm>
#include <map>

#include "rsp/asn1.hpp"
#include "rsp/log.hpp"
#include "rsp/milenage.hpp"
#include "rsp/tlv.hpp"
#include "templates.hpp"

#include <PE-AKAParameter.h>
#include <PE-PINCodes.h>
#include <PINConfiguration.h>
#include <PUKConfiguration.h>
#include <PE-PUKCodes.h>
#include <ProfileElement.h>

namespace rsp::uicc {
namespace {

constexpr const char* kLog = "uicc.package";
using detail::Template;

std::size_t be_uint(ByteView v) {
  std::size_t n = 0;
  for (auto b : v) n = n << 8 | b;
  return n;
}

// Tag number of a context-class BER tag as asn1c stores it (number << 2 | class).
std::uint32_t tag_number(std::uint32_t tag) {
  // 0xBF1F..: multi-byte tag, number in the following bytes (< 128 here).
  if (tag > 0xFF) return tag & 0x7F;
  return tag & 0x1F;
}

const asn_TYPE_member_t* member_by_tag(const asn_TYPE_descriptor_t& td, std::uint32_t tag) {
  std::uint32_t n = tag_number(tag);
  for (int i = 0; i < td.elements_count; ++i) {
    const auto& m = td.elements[i];
    if ((m.tag >> 2) == n && (m.tag & 3) == 2) return &m;  // context class
  }
  return nullptr;
}

FileType type_from_descriptor(std::uint8_t fdb) {
  // TS 102 221 11.1.1.4.3: bit 7 (0x40) is "shareable", not part of the type.
  std::uint8_t b = fdb & 0xBF;
  if ((b & 0x38) == 0x38) return b == 0x39 ? FileType::BerTlv : FileType::Df;
  switch (b & 0x07) {
    case 0x02: return FileType::LinearFixed;
    case 0x06: return FileType::Cyclic;
    default: return FileType::Transparent;
  }
}

// One file as the package describes it, before it is placed in the tree.
struct FileSpec {
  bool do_not_create = false;
  bool has_fcp = false;
  std::optional<std::uint16_t> fid;
  Bytes descriptor;                // tag 82
  Bytes aid;                       // tag 84
  std::optional<std::uint8_t> lcsi;
  Bytes security_attributes;       // tag 8B
  std::optional<std::size_t> size; // tag 80
  Bytes pin_status;                // tag C6
  std::optional<Bytes> sfi;        // tag 88 (empty: no SFI)
  std::optional<Bytes> fill_pattern, repeat_pattern;  // A5/C1, A5/C2
  std::optional<std::size_t> max_size;  // A5/86
  std::optional<Bytes> link_path;  // tag C7
  std::vector<std::pair<std::size_t, Bytes>> writes;  // fillFileContent at offsets
  std::size_t pos = 0;
};

void read_fcp(ByteView fcp, FileSpec& s) {
  s.has_fcp = true;
  for (const auto& d : tlv::parse_all(fcp)) {
    Bytes v(d.value.begin(), d.value.end());
    switch (d.tag) {
      case 0x82: s.descriptor = v; break;
      case 0x83: if (v.size() == 2) s.fid = static_cast<std::uint16_t>(v[0] << 8 | v[1]); break;
      case 0x84: s.aid = v; break;
      case 0x8A: if (!v.empty()) s.lcsi = v[0]; break;
      case 0x8B: s.security_attributes = v; break;
      case 0x80: s.size = be_uint(v); break;
      case 0xC6: s.pin_status = v; break;
      case 0x88: s.sfi = v; break;
      case 0xC7: s.link_path = v; break;
      case 0xA5:
        for (const auto& p : tlv::parse_all(d.value)) {
          if (p.tag == 0xC1) s.fill_pattern = Bytes(p.value.begin(), p.value.end());
          else if (p.tag == 0xC2) s.repeat_pattern = Bytes(p.value.begin(), p.value.end());
          else if (p.tag == 0x86) s.max_size = be_uint(p.value);
        }
        break;
      default: break;
    }
  }
}

// TS 102 222 6.3.2.2.2: a fill pattern's last byte repeats to the end; a
// repeat pattern repeats whole. For record files, per record.
Bytes expand_pattern(const Bytes& pattern, bool repeat, std::size_t len) {
  Bytes out;
  out.reserve(len);
  for (std::size_t i = 0; i < len; ++i) {
    if (repeat) out.push_back(pattern[i % pattern.size()]);
    else out.push_back(i < pattern.size() ? pattern[i] : pattern.back());
  }
  return out;
}

class Builder {
 public:
  std::unique_ptr<CardImage> img = std::make_unique<CardImage>();

  void add_pe(ByteView raw) {
    auto pe = tlv::parse_one(raw);
    const asn_TYPE_member_t* alt = member_by_tag(asn_DEF_ProfileElement, pe.tag);
    std::string kind = alt ? alt->name : "";
    if (kind == "header") {
      auto v = RSP_ASN1_DECODE(ProfileElement, raw);
      img->header_iccid = asn1::to_bytes(v->choice.header.iccid);
      saw_header = true;
    } else if (kind == "end") {
      saw_end = true;
    } else if (kind == "pinCodes") {
      pins(raw);
    } else if (kind == "pukCodes") {
      puks(raw);
    } else if (kind == "akaParameter") {
      aka(raw);
    } else if (kind == "genericFileManagement") {
      gfm(pe.value);
    } else if (alt && alt->type->elements && (pe.tag >= 0xB0)) {
      file_system_pe(kind, *alt->type, pe.value);
    }
  }

  // TS 102 222 CREATE FILE: no template, SFI defaults as genericFileManagement's.
  static std::unique_ptr<File> created(ByteView fcp) {
    FileSpec s;
    read_fcp(fcp, s);
    if (s.descriptor.empty() || !s.fid) throw DecodeError("CREATE FILE FCP without file descriptor or file identifier");
    // CREATE FILE carries the whole PIN status template DO (TS 102 221
    // 9.5.2: 90 PS_DO, then 83 key references); the package's
    // pinStatusTemplateDO, which File keeps, is the bare key reference list.
    if (!s.pin_status.empty() && s.pin_status[0] == 0x90) {
      Bytes refs;
      for (const auto& d : tlv::parse_all(s.pin_status))
        if (d.tag == 0x83 && d.value.size() == 1) refs.push_back(d.value[0]);
      s.pin_status = std::move(refs);
    }
    return make_file(s, nullptr, true);
  }

  std::unique_ptr<CardImage> finish() {
    if (!saw_header) throw DecodeError("profile package has no ProfileHeader");
    if (!saw_end) throw DecodeError("profile package has no End element");
    if (!img->fs.mf) img->fs.mf = make_df(FileType::Mf, 0x3F00);
    return std::move(img);
  }

 private:
  bool saw_header = false, saw_end = false;
  std::map<std::uint16_t, File*> adf_by_temp_fid;  // an ADF's file id in the package
  File* last_usim = nullptr;
  File* last_isim = nullptr;
  File* last_csim = nullptr;
  File* last_app = nullptr;                         // AKA parameters belong to it

  static std::unique_ptr<File> make_df(FileType t, std::uint16_t fid) {
    auto f = std::make_unique<File>();
    f->type = t;
    f->fid = fid;
    f->descriptor_byte = 0x78;
    return f;
  }

  File* mf() {
    if (!img->fs.mf) img->fs.mf = make_df(FileType::Mf, 0x3F00);
    return img->fs.mf.get();
  }

  // A path as the package writes it (filePath, linkPath): FIDs from the MF,
  // 3F00 optional, an ADF by the file id its PE gave it.
  File* resolve_package_path(ByteView p) {
    File* cur = mf();
    for (std::size_t i = 0; i + 1 < p.size(); i += 2) {
      auto fid = static_cast<std::uint16_t>(p[i] << 8 | p[i + 1]);
      if (i == 0 && fid == 0x3F00) continue;
      if (cur == mf()) {
        auto a = adf_by_temp_fid.find(fid);
        if (a != adf_by_temp_fid.end()) {
          cur = a->second;
          continue;
        }
        if (fid == 0x7FFF && last_usim) {
          cur = last_usim;
          continue;
        }
      }
      File* next = cur->child(fid);
      if (!next) return nullptr;
      cur = next;
    }
    return cur;
  }

  // Inserts `f` into `dir`, replacing a file of the same id there.
  File* place(File* dir, std::unique_ptr<File> f) {
    f->parent = dir;
    for (auto& c : dir->children)
      if (c->fid == f->fid) {
        c = std::move(f);
        return c.get();
      }
    dir->children.push_back(std::move(f));
    return dir->children.back().get();
  }

  File* place_adf(std::unique_ptr<File> f) {
    f->parent = mf();
    for (auto& a : img->fs.adfs)
      if (a->aid == f->aid) {
        a = std::move(f);
        return a.get();
      }
    img->fs.adfs.push_back(std::move(f));
    return img->fs.adfs.back().get();
  }

  // Builds the File from the package's description and the template.
  static std::unique_ptr<File> make_file(const FileSpec& s, const Template* t, bool created_by_gfm = false) {
    auto f = std::make_unique<File>();
    if (s.fid) f->fid = *s.fid;
    else if (t) f->fid = t->fid;
    else throw DecodeError("file without a file identifier and without a template");
    std::size_t records = 0;
    if (!s.descriptor.empty()) {
      f->descriptor_byte = s.descriptor[0];
      f->type = type_from_descriptor(s.descriptor[0]);
      if (s.descriptor.size() >= 4) f->record_len = be_uint(ByteView(s.descriptor).subspan(2, 2));
      if (s.descriptor.size() >= 5) records = s.descriptor[4];
    } else if (t) {
      f->type = t->type;
    } else {
      std::uint8_t hi = static_cast<std::uint8_t>(f->fid >> 8);
      f->type = f->fid == 0x3F00 ? FileType::Mf : (hi == 0x7F || hi == 0x5F) ? FileType::Df : FileType::Transparent;
    }
    if (f->type == FileType::Df && (!s.aid.empty() || (t && t->type == FileType::Adf))) f->type = FileType::Adf;
    if (f->type == FileType::Df && (f->fid == 0x3F00 || (t && t->type == FileType::Mf))) f->type = FileType::Mf;
    if (s.descriptor.empty()) {
      switch (f->type) {
        case FileType::Mf: case FileType::Df: case FileType::Adf: f->descriptor_byte = 0x78; break;
        case FileType::Transparent: f->descriptor_byte = 0x41; break;
        case FileType::LinearFixed: f->descriptor_byte = 0x42; break;
        case FileType::Cyclic: f->descriptor_byte = 0x46; break;
        case FileType::BerTlv: f->descriptor_byte = 0x79; break;
      }
    }
    if (f->type == FileType::Mf) f->fid = 0x3F00;
    f->aid = s.aid;
    if (s.lcsi) f->lcsi = *s.lcsi;
    f->security_attributes = s.security_attributes;
    f->pin_status_template = s.pin_status;
    // Tag 88 given: its SFI, or none when empty. Absent: the template's SFI
    // (none if the template has none); for a file created by
    // genericFileManagement (a TS 102 222 CREATE FILE FCP, no template) the
    // five low bits of the file id (TS 102 222 table 3).
    if (s.sfi) {
      if (!s.sfi->empty()) f->sfi = static_cast<std::uint8_t>((*s.sfi)[0] >> 3);
    } else if (t) {
      if (t->sfi) f->sfi = t->sfi;
    } else if (created_by_gfm && !f->is_df() && (f->fid & 0x1F) != 0 && (f->fid & 0x1F) != 0x1F) {
      f->sfi = static_cast<std::uint8_t>(f->fid & 0x1F);
    }
    if (f->is_df()) return f;

    if (f->is_record() && !f->record_len && t) f->record_len = t->size;
    std::size_t content_end = 0;
    for (const auto& [at, data] : s.writes) content_end = std::max(content_end, at + data.size());
    std::size_t size = 0;
    if (f->type == FileType::BerTlv) {
      f->max_size = s.max_size.value_or(s.size.value_or(0));
      Bytes body;
      for (const auto& [at, data] : s.writes) {
        if (body.size() < at + data.size()) body.resize(at + data.size(), 0xFF);
        std::copy(data.begin(), data.end(), body.begin() + static_cast<std::ptrdiff_t>(at));
      }
      // The data objects; trailing padding (FF) is not an object.
      while (!body.empty() && body.back() == 0xFF) body.pop_back();
      f->content = std::make_shared<Bytes>(std::move(body));
      if (f->max_size < f->content->size()) f->max_size = std::max<std::size_t>(f->content->size(), 256);
      return f;
    }
    if (s.size) size = *s.size;
    else if (f->is_record() && records) size = records * f->record_len;
    else if (t && f->is_record() && t->records && f->record_len) size = t->records * f->record_len;
    else if (t && !f->is_record() && t->size) size = t->size;
    else size = content_end;
    if (f->is_record() && f->record_len && size % f->record_len) size += f->record_len - size % f->record_len;

    std::size_t unit = f->is_record() && f->record_len ? f->record_len : size;
    Bytes init;
    if (unit) {
      Bytes one;
      if (s.fill_pattern && !s.fill_pattern->empty()) one = expand_pattern(*s.fill_pattern, false, unit);
      else if (s.repeat_pattern && !s.repeat_pattern->empty()) one = expand_pattern(*s.repeat_pattern, true, unit);
      else if (t && !t->fill.empty()) one = detail::expand_default(t->fill, unit);
      else one.assign(unit, 0xFF);
      for (std::size_t off = 0; off < size; off += unit) append(init, one);
      init.resize(size);
    }
    for (const auto& [at, data] : s.writes) {
      if (at + data.size() > init.size()) {
        log::warn(kLog, "content beyond the size of file " + to_hex(Bytes{static_cast<std::uint8_t>(f->fid >> 8),
                                                                            static_cast<std::uint8_t>(f->fid)}));
        init.resize(at + data.size(), 0xFF);
      }
      std::copy(data.begin(), data.end(), init.begin() + static_cast<std::ptrdiff_t>(at));
    }
    f->content = std::make_shared<Bytes>(std::move(init));
    return f;
  }

  // A linked file shares its target's body (linkPath, Interoperable Profile 8.3.3).
  void link(File* f, const FileSpec& s) {
    if (!s.link_path || s.link_path->empty() || f->is_df()) return;
    File* target = resolve_package_path(*s.link_path);
    if (!target || target->is_df() || target == f) {
      log::warn(kLog, "link path " + to_hex(*s.link_path) + " does not name an EF; file kept unlinked");
      return;
    }
    f->content = target->content;
    f->record_len = target->record_len;
    f->type = target->type;
    f->linked = true;
    for (std::size_t i = 0; i + 1 < s.link_path->size(); i += 2)
      f->link_path.push_back(static_cast<std::uint16_t>((*s.link_path)[i] << 8 | (*s.link_path)[i + 1]));
  }

  File* register_adf(File* adf, const std::string& kind) {
    adf_by_temp_fid[adf->fid] = adf;
    if (kind == "usim" || kind == "iot") {
      last_usim = adf;
      if (img->first_usim_aid.empty()) img->first_usim_aid = adf->aid;
    } else if (kind == "isim") {
      last_isim = adf;
    } else if (kind == "csim") {
      last_csim = adf;
    }
    last_app = adf;
    return adf;
  }

  void file_system_pe(const std::string& kind, const asn_TYPE_descriptor_t& td, ByteView body) {
    File* base = nullptr;  // where the PE's root goes (or, for OPT PEs, the root itself)
    File* root = nullptr;
    if (kind == "opt-usim" || kind == "opt-iot") root = last_usim;
    else if (kind == "opt-isim") root = last_isim;
    else if (kind == "opt-csim") root = last_csim;
    else if (kind == "cd" || kind == "telecom") base = mf();
    else if (kind == "phonebook" || kind == "gsm-access" || kind == "df-5gs" || kind == "df-saip" || kind == "df-snpn" ||
             kind == "df-5gprose" || kind == "eap")
      base = last_usim ? last_usim : mf();
    if ((kind.rfind("opt-", 0) == 0) && !root) throw DecodeError("PE " + kind + " without the application it extends");
    File* current = root;
    for (const auto& m : tlv::parse_all(body)) {
      const asn_TYPE_member_t* mem = member_by_tag(td, m.tag);
      if (!mem || mem->type != &asn_DEF_File) continue;
      FileSpec s;
      for (const auto& item : tlv::parse_all(m.value)) {
        switch (item.tag) {
          case 0x80: s.do_not_create = true; break;
          case 0xA1: read_fcp(item.value, s); break;
          case 0x82: s.pos += be_uint(item.value); break;
          case 0x83:
            s.writes.emplace_back(s.pos, Bytes(item.value.begin(), item.value.end()));
            s.pos += item.value.size();
            break;
          default: break;
        }
      }
      if (s.do_not_create) continue;
      const Template* t = detail::find_template(kind, mem->name);
      if (kind == "opt-iot" && !t) t = detail::find_template("df-5gs", mem->name);
      if (kind == "opt-iot" && !t) t = detail::find_template("df-saip", mem->name);
      if (kind == "opt-csim" && !t) t = nullptr;
      auto f = make_file(s, t);
      if (f->type == FileType::Mf) {
        File* old = img->fs.mf ? img->fs.mf.get() : nullptr;
        if (old) {  // MF given again: keep its children
          old->security_attributes = f->security_attributes;
          old->pin_status_template = f->pin_status_template;
          old->lcsi = f->lcsi;
          root = current = old;
        } else {
          img->fs.mf = std::move(f);
          root = current = img->fs.mf.get();
        }
        continue;
      }
      if (f->type == FileType::Adf) {
        if (f->aid.empty()) throw DecodeError("ADF without AID in PE " + kind);
        root = current = register_adf(place_adf(std::move(f)), kind);
        continue;
      }
      if (f->is_df()) {
        File* dir = root ? root : base ? base : mf();
        File* placed = place(dir, std::move(f));
        if (!root) root = placed;
        current = placed;
        continue;
      }
      File* dir = current ? current : base ? base : mf();
      File* placed = place(dir, std::move(f));
      link(placed, s);
    }
  }

  // PE-GenericFileManagement: SEQUENCE { gfm-header [0], fileManagementCMD [1]
  // SEQUENCE OF FileManagement }, each FileManagement a SEQUENCE OF CHOICE
  // { filePath [0], createFCP [APPLICATION 2], fillFileOffset (INTEGER),
  // fillFileContent [1] }. Like TS 102 222 CREATE FILE: a DF just created
  // becomes the current DF; contents go to the file created last.
  void gfm(ByteView body) {
    for (const auto& part : tlv::parse_all(body)) {
      if (part.tag != 0xA1) continue;
      for (const auto& cmd : tlv::parse_all(part.value)) {
        File* dir = mf();
        File* file = nullptr;
        std::size_t pos = 0;
        for (const auto& op : tlv::parse_all(cmd.value)) {
          if (op.tag == 0x80) {
            dir = resolve_package_path(op.value);
            if (!dir || !dir->is_df()) throw DecodeError("genericFileManagement: no DF at path " + to_hex(Bytes(op.value.begin(), op.value.end())));
            file = nullptr;
          } else if (op.tag == 0x62) {
            FileSpec s;
            read_fcp(op.value, s);
            auto f = make_file(s, nullptr, true);
            if (f->type == FileType::Adf) {
              file = register_adf(place_adf(std::move(f)), "");
            } else {
              file = place(dir, std::move(f));
              link(file, s);
            }
            pos = 0;
            if (file->is_df()) dir = file;
          } else if (op.tag == 0x02 && file) {
            pos += be_uint(op.value);
          } else if (op.tag == 0x81 && file && !file->is_df()) {
            Bytes& c = *file->content;
            if (file->type == FileType::BerTlv) {
              append(c, op.value);
            } else {
              if (c.size() < pos + op.value.size()) c.resize(pos + op.value.size(), 0xFF);
              std::copy(op.value.begin(), op.value.end(), c.begin() + static_cast<std::ptrdiff_t>(pos));
            }
            pos += op.value.size();
          }
        }
      }
    }
  }

  void pins(ByteView raw) {
    auto v = RSP_ASN1_DECODE(ProfileElement, raw);
    const auto& pc = v->choice.pinCodes.pinCodes;
    if (pc.present != PE_PINCodes__pinCodes_PR_pinconfig) return;  // filePath: shares another DF's PINs
    const auto& list = pc.choice.pinconfig.list;
    for (int i = 0; i < list.count; ++i) {
      const PINConfiguration_t* c = list.array[i];
      Pin p;
      p.key_reference = static_cast<std::uint8_t>(asn1::to_int64(c->keyReference));
      p.value = asn1::to_bytes(c->pinValue);
      if (c->unblockingPINReference) p.unblock_reference = static_cast<std::uint8_t>(asn1::to_int64(*c->unblockingPINReference));
      if (c->pinAttributes) p.attributes = static_cast<std::uint8_t>(*c->pinAttributes);
      std::uint8_t counters = c->maxNumOfAttemps_retryNumLeft
                                  ? static_cast<std::uint8_t>(*c->maxNumOfAttemps_retryNumLeft)
                                  : 0x33;
      p.max_attempts = counters >> 4;
      p.attempts_left = counters & 0x0F;
      // pinAttributes b1: the PIN is enabled (verification required); ADM
      // keys (0A..0E, 8A..8E) are always enabled.
      bool adm = (p.key_reference >= 0x0A && p.key_reference <= 0x0E) || (p.key_reference >= 0x8A && p.key_reference <= 0x8E);
      p.enabled = adm || (p.attributes & 0x01) != 0;
      img->pins[p.key_reference] = std::move(p);
    }
  }

  void puks(ByteView raw) {
    auto v = RSP_ASN1_DECODE(ProfileElement, raw);
    const auto& list = v->choice.pukCodes.pukCodes.list;
    for (int i = 0; i < list.count; ++i) {
      const PUKConfiguration_t* c = list.array[i];
      Puk p;
      p.key_reference = static_cast<std::uint8_t>(asn1::to_int64(c->keyReference));
      p.value = asn1::to_bytes(c->pukValue);
      std::uint8_t counters = c->maxNumOfAttemps_retryNumLeft
                                  ? static_cast<std::uint8_t>(*c->maxNumOfAttemps_retryNumLeft)
                                  : 0xAA;
      p.max_attempts = counters >> 4;
      p.attempts_left = counters & 0x0F;
      img->puks[p.key_reference] = std::move(p);
    }
  }

  void aka(ByteView raw) {
    auto v = RSP_ASN1_DECODE(ProfileElement, raw);
    const auto& a = v->choice.akaParameter;
    AkaParameters p;
    p.der.assign(raw.begin(), raw.end());
    if (a.algoConfiguration.present == PE_AKAParameter__algoConfiguration_PR_algoParameter) {
      const auto& ap = a.algoConfiguration.choice.algoParameter;
      p.algorithm = static_cast<AkaParameters::Algorithm>(asn1::to_int64(ap.algorithmID));
      p.algorithm_options = asn1::to_bytes(ap.algorithmOptions);
      p.key = asn1::to_bytes(ap.key);
      p.opc = asn1::to_bytes(ap.opc);
      if (ap.numberOfKeccak) p.keccak_iterations = static_cast<unsigned>(*ap.numberOfKeccak);
    }
    if (a.sqnInit) {
      for (int i = 0; i < a.sqnInit->list.count; ++i) {
        const OCTET_STRING_t* s = a.sqnInit->list.array[i];
        if (s && s->size == static_cast<int>(milenage::kSqnLen))
          p.sqn_ms = std::max(p.sqn_ms, milenage::sqn_to_u64(asn1::view(*s)));
      }
    }
    Bytes aid = last_app ? last_app->aid : img->first_usim_aid;
    img->aka.emplace_back(std::move(aid), std::move(p));
  }
};

}  // namespace

std::unique_ptr<CardImage> build_card_image(ByteView profile_elements) {
  Builder b;
  while (!profile_elements.empty()) {
    auto pe = tlv::parse_one(profile_elements);
    b.add_pe(pe.raw);
    profile_elements = profile_elements.subspan(pe.raw.size());
  }
  return b.finish();
}

std::unique_ptr<File> file_from_fcp(ByteView fcp) { return Builder::created(fcp); }

}  // namespace rsp::uicc
