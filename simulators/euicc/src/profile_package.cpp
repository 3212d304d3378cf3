// Profile package (SIMalliance/TCA eUICC Profile Package, PEDefinitions) ->
// the file system of an installed profile. Each ProfileElement is decoded
// with rsp_asn1; the file-system PEs (mf, usim, telecom, ... and
// genericFileManagement) are walked through asn1c's type descriptors, so the
// member names ("ef-imsi") pick the template file identifiers, and each File
// value's DER (fileDescriptor = FCP TLVs, fillFileOffset, fillFileContent)
// is read with rsp::tlv.
#include <algorithm>
#include <map>

#include "asn1_util.hpp"
#include "rsp/log.hpp"
#include "rsp/tlv.hpp"

#include <File.h>
#include <ProfileElement.h>
#include <ProfileHeader.h>

namespace rsp::sim {
namespace {

constexpr const char* kLog = "euicc.profile";

// Template defaults (SAIP generic file system templates, TS 31.102 / 102 221
// file identifiers) for files a PE may create without a full FCP.
struct Template {
  std::uint16_t fid;
  FileEntry::Type type;
  std::size_t size;        // transparent: bytes; records: record count
  std::size_t record_len;  // records only
  std::uint8_t sfi;
};

using T = FileEntry::Type;
const std::map<std::string, Template>& templates() {
  static const std::map<std::string, Template> t = {
      // PE-MF
      {"mf", {0x3F00, T::Df, 0, 0, 0}},
      {"ef-pl", {0x2F05, T::Transparent, 2, 0, 0x05}},
      {"ef-iccid", {0x2FE2, T::Transparent, 10, 0, 0}},
      {"ef-dir", {0x2F00, T::LinearFixed, 2, 38, 0x1E}},
      {"ef-arr", {0x2F06, T::LinearFixed, 10, 64, 0x06}},
      {"ef-umpc", {0x2F08, T::Transparent, 5, 0, 0x08}},
      // PE-USIM / PE-OPT-USIM (ADF USIM)
      {"adf-usim", {0x7FFF, T::Df, 0, 0, 0}},
      {"ef-imsi", {0x6F07, T::Transparent, 9, 0, 0x07}},
      {"ef-keys", {0x6F08, T::Transparent, 33, 0, 0x08}},
      {"ef-keysPS", {0x6F09, T::Transparent, 33, 0, 0x09}},
      {"ef-hpplmn", {0x6F31, T::Transparent, 1, 0, 0x12}},
      {"ef-ust", {0x6F38, T::Transparent, 14, 0, 0x04}},
      {"ef-fdn", {0x6F3B, T::LinearFixed, 20, 26, 0}},
      {"ef-sms", {0x6F3C, T::LinearFixed, 10, 176, 0}},
      {"ef-smsp", {0x6F42, T::LinearFixed, 1, 38, 0}},
      {"ef-smss", {0x6F43, T::Transparent, 2, 0, 0}},
      {"ef-spn", {0x6F46, T::Transparent, 17, 0, 0}},
      {"ef-est", {0x6F56, T::Transparent, 1, 0, 0x05}},
      {"ef-start-hfn", {0x6F5B, T::Transparent, 6, 0, 0x0F}},
      {"ef-threshold", {0x6F5C, T::Transparent, 3, 0, 0x10}},
      {"ef-psloci", {0x6F73, T::Transparent, 14, 0, 0x0C}},
      {"ef-acc", {0x6F78, T::Transparent, 2, 0, 0x06}},
      {"ef-fplmn", {0x6F7B, T::Transparent, 12, 0, 0x0D}},
      {"ef-loci", {0x6F7E, T::Transparent, 11, 0, 0x0B}},
      {"ef-ad", {0x6FAD, T::Transparent, 4, 0, 0x03}},
      {"ef-ecc", {0x6FB7, T::LinearFixed, 1, 4, 0x01}},
      {"ef-netpar", {0x6FC4, T::Transparent, 128, 0, 0}},
      {"ef-epsloci", {0x6FE3, T::Transparent, 18, 0, 0x1E}},
      {"ef-epsnsc", {0x6FE4, T::LinearFixed, 1, 80, 0x18}},
      {"ef-li", {0x6F05, T::Transparent, 2, 0, 0x02}},
      {"ef-gid1", {0x6F3E, T::Transparent, 2, 0, 0}},
      {"ef-gid2", {0x6F3F, T::Transparent, 2, 0, 0}},
      {"ef-msisdn", {0x6F40, T::LinearFixed, 1, 24, 0}},
      {"ef-plmnwact", {0x6F60, T::Transparent, 40, 0, 0x0A}},
      {"ef-oplmnwact", {0x6F61, T::Transparent, 40, 0, 0x11}},
      {"ef-hplmnwact", {0x6F62, T::Transparent, 5, 0, 0x13}},
      {"ef-pnn", {0x6FC5, T::LinearFixed, 1, 16, 0x19}},
      {"ef-opl", {0x6FC6, T::LinearFixed, 1, 8, 0x1A}},
      {"ef-spdi", {0x6FCD, T::Transparent, 2, 0, 0x1B}},
      {"ef-ehplmn", {0x6FD9, T::Transparent, 3, 0, 0x1D}},
      // PE-ISIM
      {"adf-isim", {0x7FFF, T::Df, 0, 0, 0}},
      {"ef-impi", {0x6F02, T::Transparent, 0, 0, 0x02}},
      {"ef-impu", {0x6F04, T::LinearFixed, 1, 0, 0x04}},
      {"ef-domain", {0x6F03, T::Transparent, 0, 0, 0x05}},
      {"ef-ist", {0x6F07, T::Transparent, 1, 0, 0x07}},
      // PE-TELECOM and friends
      {"df-telecom", {0x7F10, T::Df, 0, 0, 0}},
      {"df-gsm-access", {0x5F3B, T::Df, 0, 0, 0}},
      {"df-phonebook", {0x5F3A, T::Df, 0, 0, 0}},
      {"df-graphics", {0x5F50, T::Df, 0, 0, 0}},
      {"df-df-5gs", {0x5FC0, T::Df, 0, 0, 0}},
      {"df-df-saip", {0x5FD0, T::Df, 0, 0, 0}},
      {"df-df-snpn", {0x5FE0, T::Df, 0, 0, 0}},
      {"df-df-5g-prose", {0x5FF0, T::Df, 0, 0, 0}},
      {"df-cd", {0x7F11, T::Df, 0, 0, 0}},
      {"df-eap", {0x5F40, T::Df, 0, 0, 0}},
      // ef-arr outside the MF (USIM, ISIM, TELECOM templates)
      {"usim/ef-arr", {0x6F06, T::LinearFixed, 10, 64, 0x17}},
      {"isim/ef-arr", {0x6F06, T::LinearFixed, 10, 64, 0x06}},
      {"telecom/ef-arr", {0x6F06, T::LinearFixed, 10, 64, 0}},
      {"isim/ef-ad", {0x6FAD, T::Transparent, 3, 0, 0x03}},
  };
  return t;
}

FileEntry::Type type_from_descriptor(std::uint8_t fd) {
  if ((fd & 0x38) == 0x38) return fd == 0x39 ? T::BerTlv : T::Df;
  switch (fd & 0x07) {
    case 0x02: return T::LinearFixed;
    case 0x06: return T::Cyclic;
    default: return T::Transparent;
  }
}

// Applies a File's DER (SEQUENCE OF CHOICE {doNotCreate [0], fileDescriptor
// [1] Fcp, fillFileOffset [2], fillFileContent [3]}) to a new FileEntry.
// Returns false for doNotCreate or when the file identifier is unknown.
bool file_from_der(ByteView der, const Template* tmpl, FileEntry& f, Bytes& aid_out) {
  auto seq = tlv::parse_one(der);
  std::optional<std::uint16_t> fid;
  std::optional<std::size_t> size;
  Bytes fill;            // content writes, applied after the FCP is known
  std::vector<std::pair<std::size_t, Bytes>> writes;
  std::size_t pos = 0;
  if (tmpl) {
    fid = tmpl->fid;
    f.type = tmpl->type;
    f.record_len = tmpl->record_len;
    f.sfi = tmpl->sfi;
  }
  for (const auto& item : tlv::parse_all(seq.value)) {
    switch (item.tag) {
      case 0x80:  // doNotCreate
        return false;
      case 0xA1:  // fileDescriptor: Fcp with FCP tags (TS 102 222)
        for (const auto& d : tlv::parse_all(item.value)) {
          if (d.tag == 0x82 && !d.value.empty()) {
            f.type = type_from_descriptor(d.value[0]);
            if (d.value.size() >= 4) f.record_len = static_cast<std::size_t>(d.value[2] << 8 | d.value[3]);
            if (d.value.size() >= 5 && f.record_len) size = d.value[4] * f.record_len;
          } else if (d.tag == 0x83 && d.value.size() == 2) {
            fid = static_cast<std::uint16_t>(d.value[0] << 8 | d.value[1]);
          } else if (d.tag == 0x84) {
            aid_out.assign(d.value.begin(), d.value.end());
          } else if (d.tag == 0x80) {
            std::size_t s = 0;
            for (auto b : d.value) s = s << 8 | b;
            size = s;
          } else if (d.tag == 0x88) {
            f.sfi = d.value.empty() ? 0 : static_cast<std::uint8_t>(d.value[0] >> 3);
          }
        }
        break;
      case 0x82: {  // fillFileOffset
        std::size_t off = 0;
        for (auto b : item.value) off = off << 8 | b;
        pos += off;
        break;
      }
      case 0x83:  // fillFileContent
        writes.emplace_back(pos, Bytes(item.value.begin(), item.value.end()));
        pos += item.value.size();
        break;
      default:
        break;
    }
  }
  if (!fid) return false;
  f.path = {*fid};
  if (f.type == T::Df) return true;
  std::size_t total = 0;
  if (size) total = *size;
  else if (tmpl) total = tmpl->record_len ? tmpl->size * tmpl->record_len : tmpl->size;
  for (const auto& [at, data] : writes) total = std::max(total, at + data.size());
  if (f.record_len && total % f.record_len) total += f.record_len - total % f.record_len;
  f.content.assign(total, 0xFF);
  for (const auto& [at, data] : writes) std::copy(data.begin(), data.end(), f.content.begin() + static_cast<std::ptrdiff_t>(at));
  return true;
}

}  // namespace

Bytes Euicc::Impl::install_profile_package(ByteView pes, Profile& p) {
  Bytes header_iccid;
  bool saw_header = false, saw_end = false;
  std::vector<FileEntry> files;
  std::map<std::uint16_t, Bytes> adf_fids;  // temporary file ID of each ADF -> its AID
  asn1::decode_each<ProfileElement_t>(asn_DEF_ProfileElement, pes, [&](asn1::Value<ProfileElement_t>&& pe, ByteView raw) {
    int idx = static_cast<int>(pe->present) - 1;
    if (idx < 0 || idx >= asn_DEF_ProfileElement.elements_count) throw DecodeError("empty ProfileElement");
    const asn_TYPE_member_t& choice = asn_DEF_ProfileElement.elements[idx];
    std::string kind = choice.name;
    const char* pe_base = reinterpret_cast<const char*>(pe.get());
    const void* member = pe_base + choice.memb_offset;
    if (choice.flags & ATF_POINTER) member = *static_cast<const void* const*>(member);
    if (!member) return;
    if (kind == "header") {
      const auto* h = static_cast<const ProfileHeader_t*>(member);
      header_iccid = asn1::to_bytes(h->iccid);
      saw_header = true;
      return;
    }
    if (kind == "end") {
      saw_end = true;
      return;
    }
    if (kind == "akaParameter") {
      p.aka_parameters.emplace_back(raw.begin(), raw.end());
      return;
    }
    if (kind == "genericFileManagement") {
      // Encoded again and walked as TLVs: SEQUENCE { header [0], fileManagementCMD [1]
      // SEQUENCE OF FileManagement (SEQUENCE OF CHOICE {filePath [0], createFCP
      // [APPLICATION 2] Fcp, fillFileContent [1], fillFileOffset [2]}) }
      Bytes der = asn1::encode_der(*choice.type, member);
      auto outer = tlv::parse_one(der);
      std::vector<std::uint16_t> dir{0x3F00};
      Bytes dir_adf;
      FileEntry* current = nullptr;
      std::size_t pos = 0;
      for (const auto& part : tlv::parse_all(outer.value)) {
        if (part.tag != 0xA1) continue;
        for (const auto& cmd : tlv::parse_all(part.value)) {
          for (const auto& op : tlv::parse_all(cmd.value)) {
            if (op.tag == 0x80) {  // filePath from the MF ('' = MF)
              dir = {0x3F00};
              dir_adf.clear();
              for (std::size_t i = 0; i + 1 < op.value.size(); i += 2) {
                std::uint16_t fid = static_cast<std::uint16_t>(op.value[i] << 8 | op.value[i + 1]);
                if (fid == 0x3F00) continue;
                if (fid == 0x7FFF || adf_fids.count(fid)) {  // an ADF (by its temporary file ID)
                  dir = {0x7FFF};
                  dir_adf = fid == 0x7FFF ? p.usim_aid : adf_fids[fid];
                  continue;
                }
                dir.push_back(fid);
              }
              current = nullptr;
            } else if (op.tag == 0x62) {  // createFCP
              FileEntry f;
              Bytes aid;
              Bytes wrapped = tlv::make(0x30, tlv::make(0xA1, op.value));
              if (!file_from_der(wrapped, nullptr, f, aid)) continue;
              f.adf = dir_adf;
              std::vector<std::uint16_t> path = dir;
              path.push_back(f.path.front());
              f.path = path;
              files.push_back(std::move(f));
              current = &files.back();
              pos = 0;
              if (current->is_df()) dir = current->path;
            } else if (op.tag == 0x02 && current) {  // fillFileOffset (UInt16, untagged)
              std::size_t off = 0;
              for (auto b : op.value) off = off << 8 | b;
              pos += off;
            } else if (op.tag == 0x81 && current && !current->is_df()) {  // fillFileContent
              if (current->content.size() < pos + op.value.size()) current->content.resize(pos + op.value.size(), 0xFF);
              std::copy(op.value.begin(), op.value.end(), current->content.begin() + static_cast<std::ptrdiff_t>(pos));
              pos += op.value.size();
            }
          }
        }
      }
      return;
    }
    // A file-system PE: walk its members of type File. The PE's first DF is
    // its root (MF, an ADF, or a DF under the MF / the USIM ADF); later DFs
    // are the root's children; EFs go into the most recent DF of the PE.
    if (!choice.type->elements) return;
    static const std::vector<std::string> in_usim = {"opt-usim", "phonebook", "gsm-access", "df-5gs", "df-saip",
                                                     "df-snpn", "df-5gprose", "eap"};
    bool in_isim = kind == "opt-isim";
    bool usim_family = std::find(in_usim.begin(), in_usim.end(), kind) != in_usim.end() && !p.usim_aid.empty();
    std::vector<std::uint16_t> base = usim_family ? std::vector<std::uint16_t>{0x7FFF} : std::vector<std::uint16_t>{0x3F00};
    Bytes adf = usim_family ? p.usim_aid : Bytes{};
    if (in_isim) {
      for (const auto& f : files)
        if (!f.adf.empty() && f.adf != p.usim_aid && f.path.size() == 1) adf = f.adf;
      if (!adf.empty()) base = {0x7FFF};
    }
    std::vector<std::uint16_t> root, current = base;
    const asn_TYPE_descriptor_t* td = choice.type;
    for (int i = 0; i < td->elements_count; ++i) {
      const asn_TYPE_member_t& m = td->elements[i];
      if (m.type != &asn_DEF_File) continue;
      const void* fv = static_cast<const char*>(member) + m.memb_offset;
      if (m.flags & ATF_POINTER) fv = *static_cast<const void* const*>(fv);
      if (!fv) continue;
      auto it = templates().find(kind + "/" + m.name);
      if (it == templates().end()) it = templates().find(m.name);
      const Template* tmpl = it == templates().end() ? nullptr : &it->second;
      FileEntry f;
      Bytes aid;
      if (!file_from_der(asn1::encode_der(asn_DEF_File, fv), tmpl, f, aid)) {
        log::debug(kLog, std::string("skipping file ") + m.name + " of PE " + kind);
        continue;
      }
      std::uint16_t fid = f.path.front();
      if (f.is_df()) {
        if (fid == 0x3F00) {
          root = {0x3F00};
          adf.clear();
        } else if (!aid.empty() || fid == 0x7FFF) {  // an ADF
          if (aid.empty()) throw DecodeError(std::string("ADF without AID in PE ") + kind);
          adf = aid;
          adf_fids[fid] = aid;
          if (kind == "usim") p.usim_aid = aid;
          root = {0x7FFF};
        } else if (root.empty()) {
          root = base;
          root.push_back(fid);
        } else {
          std::vector<std::uint16_t> sub = root;
          sub.push_back(fid);
          f.path = sub;
          f.adf = adf;
          current = sub;
          files.push_back(std::move(f));
          continue;
        }
        f.path = root;
        f.adf = adf;
        current = root;
        files.push_back(std::move(f));
        continue;
      }
      f.adf = adf;
      f.path = current;
      f.path.push_back(fid);
      files.push_back(std::move(f));
    }
  });
  if (!saw_header) throw DecodeError("profile package has no ProfileHeader");
  if (!saw_end) throw DecodeError("profile package has no End element");
  // The MF always exists.
  bool has_mf = false;
  for (const auto& f : files)
    if (f.adf.empty() && f.path == std::vector<std::uint16_t>{0x3F00}) has_mf = true;
  if (!has_mf) files.insert(files.begin(), FileEntry{{}, {0x3F00}, T::Df, 0, 0, {}});
  // Later definitions of the same path replace earlier ones.
  std::vector<FileEntry> unique;
  for (auto& f : files) {
    auto same = std::find_if(unique.begin(), unique.end(), [&](const FileEntry& u) { return u.adf == f.adf && u.path == f.path; });
    if (same != unique.end()) *same = std::move(f);
    else unique.push_back(std::move(f));
  }
  p.files = std::move(unique);
  return header_iccid;
}


}  // namespace rsp::sim
