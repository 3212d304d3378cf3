// File system lookups and the text dump.
#include "rsp/uicc/file_system.hpp"

#include <algorithm>
#include <sstream>

namespace rsp::uicc {
namespace {

std::string fid_hex(std::uint16_t fid) {
  return to_hex(Bytes{static_cast<std::uint8_t>(fid >> 8), static_cast<std::uint8_t>(fid)}, true);
}

void dump_file(std::ostringstream& out, const File& f, const std::string& prefix, std::size_t max_bytes) {
  std::string path = prefix.empty() ? fid_hex(f.fid) : prefix + "/" + fid_hex(f.fid);
  out << path << ' ' << type_name(f.type);
  if (f.type == FileType::Adf) out << " aid=" << to_hex(f.aid, true);
  if (f.is_record()) out << " records=" << f.record_count() << 'x' << f.record_len;
  else if (f.type == FileType::BerTlv) out << " size=" << f.size() << '/' << f.max_size;
  else if (!f.is_df()) out << " size=" << f.size();
  if (f.sfi) out << " sfi=" << fid_hex(*f.sfi).substr(2);
  if (!f.security_attributes.empty()) out << " arr=" << to_hex(f.security_attributes, true);
  if (f.linked) {
    out << " link=";
    for (std::size_t i = 0; i < f.link_path.size(); ++i) out << (i ? "/" : "") << fid_hex(f.link_path[i]);
  }
  if (!f.is_df() && f.content) {
    const Bytes& c = *f.content;
    Bytes head(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(std::min(c.size(), max_bytes)));
    out << ' ' << to_hex(head, true) << (c.size() > max_bytes ? "..." : "");
  }
  out << '\n';
  for (const auto& c : f.children) dump_file(out, *c, path, max_bytes);
}

}  // namespace

const char* type_name(FileType t) {
  switch (t) {
    case FileType::Mf: return "MF";
    case FileType::Df: return "DF";
    case FileType::Adf: return "ADF";
    case FileType::Transparent: return "transparent";
    case FileType::LinearFixed: return "linear-fixed";
    case FileType::Cyclic: return "cyclic";
    case FileType::BerTlv: return "ber-tlv";
  }
  return "?";
}

File* File::child(std::uint16_t id) const {
  for (const auto& c : children)
    if (c->fid == id) return c.get();
  return nullptr;
}

File* File::child_by_sfi(std::uint8_t s) const {
  for (const auto& c : children)
    if (!c->is_df() && c->sfi && *c->sfi == s) return c.get();
  return nullptr;
}

File* File::application() const {
  for (const File* f = this; f; f = f->parent)
    if (f->type == FileType::Adf) return const_cast<File*>(f);
  return nullptr;
}

std::vector<std::uint16_t> File::path() const {
  std::vector<std::uint16_t> p;
  for (const File* f = this; f; f = f->parent) {
    if (f->type == FileType::Adf) {
      p.push_back(0x7FFF);
      break;
    }
    p.push_back(f->fid);
  }
  std::reverse(p.begin(), p.end());
  return p;
}

File* FileSystem::adf_by_aid(ByteView aid, std::size_t nth) const {
  for (const auto& a : adfs) {
    if (aid.empty() || aid.size() > a->aid.size()) continue;
    if (std::equal(aid.begin(), aid.end(), a->aid.begin()) && nth-- == 0) return a.get();
  }
  return nullptr;
}

File* FileSystem::resolve(const std::vector<std::uint16_t>& path, const File* adf) const {
  if (path.empty() || !mf) return nullptr;
  File* cur = nullptr;
  std::size_t i = 0;
  if (path[0] == 0x7FFF) {
    if (!adf) return nullptr;
    cur = const_cast<File*>(adf);
    i = 1;
  } else {
    cur = mf.get();
    if (path[0] == 0x3F00) i = 1;
  }
  for (; i < path.size(); ++i) {
    cur = cur->child(path[i]);
    if (!cur) return nullptr;
  }
  return cur;
}

void FileSystem::remove(File* f) {
  if (!f || f == mf.get()) return;
  auto take = [&](std::vector<std::unique_ptr<File>>& from) {
    for (auto it = from.begin(); it != from.end(); ++it)
      if (it->get() == f) {
        deleted.push_back(std::move(*it));
        from.erase(it);
        return;
      }
  };
  if (f->type == FileType::Adf) take(adfs);
  else if (f->parent) take(f->parent->children);
}

bool FileSystem::removed(const File* f) const {
  for (const File* x = f; x; x = x->parent)
    for (const auto& d : deleted)
      if (d.get() == x) return true;
  return false;
}

std::string dump(const FileSystem& fs, std::size_t max_bytes) {
  std::ostringstream out;
  if (fs.mf) dump_file(out, *fs.mf, "", max_bytes);
  for (const auto& a : fs.adfs) dump_file(out, *a, "", max_bytes);
  return out.str();
}

}  // namespace rsp::uicc
