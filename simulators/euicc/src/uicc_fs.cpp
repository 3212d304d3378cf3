// The UICC side of the eUICC: the enabled profile's file system as ETSI
// TS 102 221 presents it (SELECT by FID / path / AID with an FCP template,
// READ BINARY, READ RECORD, STATUS), plus the hook for other applications.
#include "euicc_impl.hpp"
#include "rsp/tlv.hpp"

namespace rsp::sim {
namespace {

apdu::Response sw_only(std::uint16_t sw) { return apdu::Response{{}, sw}; }

Bytes u16(std::size_t v) { return Bytes{static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}; }

const FileEntry* find_file(const Profile& p, const Bytes& adf, const std::vector<std::uint16_t>& path) {
  for (const auto& f : p.files)
    if (f.adf == adf && f.path == path) return &f;
  return nullptr;
}

// The ADF's own entry (path {7FFF}) or nullptr.
const FileEntry* find_adf(const Profile& p, ByteView aid_prefix) {
  for (const auto& f : p.files) {
    if (f.adf.empty() || f.path.size() != 1) continue;
    if (aid_prefix.size() <= f.adf.size() && std::equal(aid_prefix.begin(), aid_prefix.end(), f.adf.begin())) return &f;
  }
  return nullptr;
}

std::size_t record_count(const FileEntry& f) { return f.record_len ? f.content.size() / f.record_len : 0; }

// TS 102 221 11.1.1.3 FCP template.
Bytes fcp(const FileEntry* f, std::uint16_t fid, const Bytes& adf_aid) {
  Bytes body;
  bool df = !f || f->is_df();
  if (df) {
    append(body, tlv::make(0x82, Bytes{0x78, 0x21}));
    append(body, tlv::make(0x83, u16(fid)));
    if (!adf_aid.empty() && fid == 0x7FFF) append(body, tlv::make(0x84, adf_aid));
    append(body, tlv::make(0xA5, tlv::make(0x80, Bytes{0x71})));  // UICC characteristics
    append(body, tlv::make(0x8A, Bytes{0x05}));                     // operational, activated
    append(body, tlv::make(0x8B, Bytes{0x2F, 0x06, 0x01}));         // EF ARR record 1
    // PIN status template DO: PS_DO key references 01 (PIN1) and 81 (PIN2).
    append(body, tlv::make(0xC6, from_hex("90017083010183018183010A")));
  } else {
    switch (f->type) {
      case FileEntry::Type::Transparent:
        append(body, tlv::make(0x82, Bytes{0x41, 0x21}));
        break;
      case FileEntry::Type::LinearFixed:
      case FileEntry::Type::Cyclic: {
        Bytes d{static_cast<std::uint8_t>(f->type == FileEntry::Type::Cyclic ? 0x46 : 0x42), 0x21};
        append(d, u16(f->record_len));
        d.push_back(static_cast<std::uint8_t>(record_count(*f)));
        append(body, tlv::make(0x82, d));
        break;
      }
      case FileEntry::Type::BerTlv:
        append(body, tlv::make(0x82, Bytes{0x79, 0x21}));
        break;
      case FileEntry::Type::Df:
        break;
    }
    append(body, tlv::make(0x83, u16(fid)));
    append(body, tlv::make(0x8A, Bytes{0x05}));
    append(body, tlv::make(0x8B, Bytes{0x2F, 0x06, 0x01}));
    append(body, tlv::make(0x80, u16(f->content.size())));
    append(body, tlv::make(0x88, f->sfi ? Bytes{static_cast<std::uint8_t>(f->sfi << 3)} : Bytes{}));
  }
  return tlv::make(0x62, body);
}

}  // namespace

const Profile* Euicc::Impl::enabled_profile() const {
  for (const auto& p : state.profiles)
    if (p.enabled) return &p;
  return nullptr;
}

apdu::Response Euicc::Impl::uicc_command(const apdu::Command& c, std::uint8_t channel, ChannelState& ch) {
  if (hook) {
    const Profile* p = enabled_profile();
    UiccContext ctx;
    ctx.channel = channel;
    if (p) {
      ctx.iccid = p->iccid;
      ctx.aka_parameters = &p->aka_parameters;
    }
    ctx.selected_adf_aid = ch.fs.adf;
    if (ch.fs.ef_path) ctx.selected_file_id = ch.fs.ef_path->back();
    else if (!ch.fs.df_path.empty()) ctx.selected_file_id = ch.fs.df_path.back();
    if (auto r = hook(c, ctx)) return *r;
  }
  switch (c.ins) {
    case 0xB0: return uicc_read_binary(c, ch);
    case 0xB2: return uicc_read_record(c, ch);
    case 0xF2: return uicc_status(c, ch);
    default: return sw_only(apdu::sw::kInsNotSupported);
  }
}

apdu::Response Euicc::Impl::uicc_select(const apdu::Command& c, ChannelState& ch) {
  const Profile* p = enabled_profile();
  if (c.p2 != 0x04 && c.p2 != 0x0C && c.p2 != 0x00) return sw_only(apdu::sw::kIncorrectP1P2);
  bool want_fcp = c.p2 != 0x0C;
  FsSelection sel = ch.fs;
  const FileEntry* target = nullptr;
  std::uint16_t fid = 0;

  auto fids_of = [&](ByteView d) -> std::optional<std::vector<std::uint16_t>> {
    if (d.empty() || d.size() % 2) return std::nullopt;
    std::vector<std::uint16_t> v;
    for (std::size_t i = 0; i < d.size(); i += 2) v.push_back(static_cast<std::uint16_t>(d[i] << 8 | d[i + 1]));
    return v;
  };
  auto default_adf = [&]() -> Bytes {
    if (!ch.fs.adf.empty()) return ch.fs.adf;
    return p ? p->usim_aid : Bytes{};
  };
  // Resolve an absolute path (first FID 3F00 or 7FFF) to a selection.
  auto resolve = [&](const std::vector<std::uint16_t>& path) -> bool {
    if (path.empty()) return false;
    Bytes adf;
    if (path.front() == 0x7FFF) {
      adf = default_adf();
      if (adf.empty()) return false;
    } else if (path.front() != 0x3F00) {
      return false;
    }
    if (path.size() == 1 && path.front() == 0x3F00) {
      sel = FsSelection{};
      target = p ? find_file(*p, {}, path) : nullptr;
      fid = 0x3F00;
      return true;
    }
    if (!p) return false;
    const FileEntry* f = find_file(*p, adf, path);
    if (!f) return false;
    sel.adf = adf;
    if (f->is_df()) {
      sel.df_path = path;
      sel.ef_path.reset();
    } else {
      sel.df_path.assign(path.begin(), path.end() - 1);
      sel.ef_path = path;
    }
    sel.record_ptr = 0;
    target = f;
    fid = path.back();
    return true;
  };

  bool found = false;
  switch (c.p1) {
    case 0x00: {  // by FID: MF, current ADF, children of the current DF, the parent and its children
      auto v = fids_of(c.data);
      if (!v && c.data.empty()) v = std::vector<std::uint16_t>{0x3F00};
      if (!v || v->size() != 1) return sw_only(apdu::sw::kWrongData);
      std::uint16_t want = v->front();
      if (want == 0x3F00) {
        found = resolve({0x3F00});
      } else if (want == 0x7FFF) {
        found = resolve({0x7FFF});
      } else {
        std::vector<std::uint16_t> cur = ch.fs.df_path;
        auto try_path = [&](std::vector<std::uint16_t> base) {
          base.push_back(want);
          return resolve(base);
        };
        found = try_path(cur);
        if (!found && cur.size() > 1) {
          std::vector<std::uint16_t> parent(cur.begin(), cur.end() - 1);
          if (parent.back() == want) found = resolve(parent);
          if (!found) found = try_path(parent);
        }
      }
      break;
    }
    case 0x03: {  // parent DF
      if (ch.fs.df_path.size() <= 1) return sw_only(apdu::sw::kFileNotFound);
      found = resolve(std::vector<std::uint16_t>(ch.fs.df_path.begin(), ch.fs.df_path.end() - 1));
      break;
    }
    case 0x04: {  // by DF name (AID), right-truncation allowed
      if (!p || c.data.empty()) return sw_only(apdu::sw::kFileNotFound);
      const FileEntry* adf = find_adf(*p, c.data);
      if (!adf) return sw_only(apdu::sw::kFileNotFound);
      sel = FsSelection{};
      sel.adf = adf->adf;
      sel.df_path = {0x7FFF};
      target = adf;
      fid = 0x7FFF;
      found = true;
      break;
    }
    case 0x08:
    case 0x09: {  // path from MF (without 3F00) / from the current DF
      auto v = fids_of(c.data);
      if (!v) return sw_only(apdu::sw::kWrongData);
      std::vector<std::uint16_t> path;
      if (c.p1 == 0x08) {
        if (v->front() == 0x3F00) v->erase(v->begin());
        if (!v->empty() && v->front() == 0x7FFF) {
          path = *v;
        } else {
          path = {0x3F00};
          path.insert(path.end(), v->begin(), v->end());
        }
      } else {
        path = ch.fs.df_path;
        path.insert(path.end(), v->begin(), v->end());
      }
      found = resolve(path);
      break;
    }
    default:
      return sw_only(apdu::sw::kIncorrectP1P2);
  }
  if (!found) return sw_only(apdu::sw::kFileNotFound);
  ch.fs = sel;
  if (!want_fcp) return sw_only(apdu::sw::kOk);
  return deliver(ch, fcp(target, fid, sel.adf), c.le);
}

apdu::Response Euicc::Impl::uicc_read_binary(const apdu::Command& c, ChannelState& ch) {
  const Profile* p = enabled_profile();
  if (!p) return sw_only(0x6986);
  const FileEntry* f = nullptr;
  std::size_t offset = 0;
  if (c.p1 & 0x80) {  // short file identifier in P1 b5-b1, offset in P2
    std::uint8_t sfi = c.p1 & 0x1F;
    for (const auto& e : p->files)
      if (e.sfi == sfi && !e.is_df() && e.adf == ch.fs.adf && e.path.size() == ch.fs.df_path.size() + 1 &&
          std::equal(ch.fs.df_path.begin(), ch.fs.df_path.end(), e.path.begin()))
        f = &e;
    if (!f) return sw_only(apdu::sw::kFileNotFound);
    ch.fs.ef_path = f->path;
    offset = c.p2;
  } else {
    if (!ch.fs.ef_path) return sw_only(0x6986);  // no current EF
    f = find_file(*p, ch.fs.adf, *ch.fs.ef_path);
    if (!f) return sw_only(0x6986);
    offset = static_cast<std::size_t>((c.p1 & 0x7F) << 8 | c.p2);
  }
  if (f->type != FileEntry::Type::Transparent) return sw_only(0x6981);  // incompatible with file structure
  if (offset > f->content.size()) return sw_only(0x6B00);
  std::size_t avail = f->content.size() - offset;
  std::size_t want = c.le.value_or(256);
  if (want > avail) {
    if (c.le && *c.le != 256 && *c.le != 65536) return sw_only(static_cast<std::uint16_t>(0x6C00 | (avail & 0xFF)));
    want = avail;
  }
  Bytes out(f->content.begin() + static_cast<std::ptrdiff_t>(offset),
            f->content.begin() + static_cast<std::ptrdiff_t>(offset + want));
  return apdu::Response{std::move(out), apdu::sw::kOk};
}

apdu::Response Euicc::Impl::uicc_read_record(const apdu::Command& c, ChannelState& ch) {
  const Profile* p = enabled_profile();
  if (!p) return sw_only(0x6986);
  const FileEntry* f = nullptr;
  std::uint8_t sfi = c.p2 >> 3;
  if (sfi) {
    for (const auto& e : p->files)
      if (e.sfi == sfi && !e.is_df() && e.adf == ch.fs.adf && e.path.size() == ch.fs.df_path.size() + 1 &&
          std::equal(ch.fs.df_path.begin(), ch.fs.df_path.end(), e.path.begin()))
        f = &e;
    if (!f) return sw_only(apdu::sw::kFileNotFound);
    if (ch.fs.ef_path != f->path) ch.fs.record_ptr = 0;
    ch.fs.ef_path = f->path;
  } else {
    if (!ch.fs.ef_path) return sw_only(0x6986);
    f = find_file(*p, ch.fs.adf, *ch.fs.ef_path);
    if (!f) return sw_only(0x6986);
  }
  if (f->type != FileEntry::Type::LinearFixed && f->type != FileEntry::Type::Cyclic) return sw_only(0x6981);
  std::size_t n = record_count(*f);
  std::size_t rec = 0;
  switch (c.p2 & 0x07) {
    case 0x04: rec = c.p1 ? c.p1 : ch.fs.record_ptr; break;  // absolute / current
    case 0x02: rec = ch.fs.record_ptr + 1; break;            // next
    case 0x03: rec = ch.fs.record_ptr ? ch.fs.record_ptr - 1 : n; break;  // previous
    default: return sw_only(apdu::sw::kIncorrectP1P2);
  }
  if (rec == 0 || rec > n) return sw_only(0x6A83);  // record not found
  ch.fs.record_ptr = rec;
  Bytes out(f->content.begin() + static_cast<std::ptrdiff_t>((rec - 1) * f->record_len),
            f->content.begin() + static_cast<std::ptrdiff_t>(rec * f->record_len));
  return apdu::Response{std::move(out), apdu::sw::kOk};
}

apdu::Response Euicc::Impl::uicc_status(const apdu::Command& c, ChannelState& ch) {
  if (c.p2 == 0x0C) return sw_only(apdu::sw::kOk);
  const Profile* p = enabled_profile();
  if (c.p2 == 0x01) {  // DF name of the current application
    if (ch.fs.adf.empty()) return sw_only(apdu::sw::kOk);
    return apdu::Response{tlv::make(0x84, ch.fs.adf), apdu::sw::kOk};
  }
  const FileEntry* f = p ? find_file(*p, ch.fs.adf, ch.fs.df_path) : nullptr;
  return deliver(ch, fcp(f, ch.fs.df_path.back(), ch.fs.adf), c.le);
}

}  // namespace rsp::sim
