#include "rsp/gp/cap_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <filesystem>

#include "rsp/file.hpp"

namespace rsp::gp {

namespace {
constexpr std::array<const char*, 13> kNames{"?", "Header", "Directory", "Applet", "Import", "ConstantPool", "Class",
                                             "Method", "StaticField", "RefLocation", "Export", "Descriptor", "Debug"};
std::uint16_t u16le(ByteView b, std::size_t off) {
  if (off + 2 > b.size()) throw CapError("zip archive truncated");
  return static_cast<std::uint16_t>(b[off] | (b[off + 1] << 8));
}
std::uint32_t u32le(ByteView b, std::size_t off) { return u16le(b, off) | (static_cast<std::uint32_t>(u16le(b, off + 2)) << 16); }

// Bounded before anything is allocated (issue 9): a JCVM component is at
// most 3 + 65,535 bytes (u1 tag, u2 size), and the archive's other entries
// (manifest, descriptors) are small; an archive recording a 4 GB entry is
// refused, not allocated. The whole archive inflates to at most 16 MiB.
constexpr std::size_t kMaxEntryBytes = 1 << 20;
constexpr std::size_t kMaxArchiveBytes = 16 << 20;

Bytes inflate_raw(ByteView in, std::size_t expected) {
  Bytes out(expected);
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw CapError("zlib inflateInit2 failed");
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&zs, Z_FINISH);
  std::size_t produced = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || produced != expected) throw CapError("zip entry does not inflate to its recorded size");
  return out;
}
}  // namespace

const std::vector<std::uint8_t>& load_order() {
  static const std::vector<std::uint8_t> order{component::kHeader, component::kDirectory, component::kImport,
                                               component::kApplet, component::kClass, component::kMethod,
                                               component::kStaticField, component::kExport, component::kConstantPool,
                                               component::kRefLocation};
  return order;
}

bool component_required(std::uint8_t tag) { return tag != component::kApplet && tag != component::kExport; }

std::string component_name(std::uint8_t tag) { return tag < kNames.size() ? kNames[tag] : "component " + std::to_string(tag); }

std::map<std::string, Bytes> read_zip(ByteView zip) {
  // End of central directory: the last "PK\5\6" within the final 64 KiB + 22 bytes.
  if (zip.size() < 22) throw CapError("not a zip archive (too short)");
  std::size_t eocd = std::string::npos;
  for (std::size_t i = zip.size() - 22 + 1; i-- > 0 && zip.size() - i <= 65557;)
    if (u32le(zip, i) == 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd == std::string::npos) throw CapError("not a zip archive (no end of central directory)");
  std::size_t count = u16le(zip, eocd + 10), off = u32le(zip, eocd + 16);
  std::map<std::string, Bytes> out;
  std::size_t total = 0;
  for (std::size_t n = 0; n < count; ++n) {
    if (u32le(zip, off) != 0x02014b50) throw CapError("zip central directory is corrupt");
    std::uint16_t method = u16le(zip, off + 10);
    std::uint32_t csize = u32le(zip, off + 20), usize = u32le(zip, off + 24);
    std::size_t name_len = u16le(zip, off + 28), extra_len = u16le(zip, off + 30), comment_len = u16le(zip, off + 32);
    std::size_t local = u32le(zip, off + 42);
    if (off + 46 + name_len > zip.size()) throw CapError("zip central directory is truncated");
    std::string name(zip.begin() + static_cast<std::ptrdiff_t>(off + 46), zip.begin() + static_cast<std::ptrdiff_t>(off + 46 + name_len));
    off += 46 + name_len + extra_len + comment_len;
    if (u32le(zip, local) != 0x04034b50) throw CapError("zip local header of " + name + " is corrupt");
    std::size_t data = local + 30 + u16le(zip, local + 26) + u16le(zip, local + 28);
    if (data + csize > zip.size()) throw CapError("zip entry " + name + " is truncated");
    ByteView raw = zip.subspan(data, csize);
    std::size_t size = method == 0 ? csize : usize;
    if (size > kMaxEntryBytes) throw CapError("zip entry " + name + " is " + std::to_string(size) + " bytes, over the 1 MiB a CAP entry may have");
    if ((total += size) > kMaxArchiveBytes) throw CapError("zip archive inflates to over 16 MiB");
    if (method == 0) {
      out[name] = Bytes(raw.begin(), raw.end());
    } else if (method == 8) {
      out[name] = inflate_raw(raw, usize);
    } else {
      throw CapError("zip entry " + name + " uses compression method " + std::to_string(method));
    }
  }
  return out;
}

LoadFileInfo parse_load_file(ByteView d) {
  LoadFileInfo info;
  std::map<std::uint8_t, ByteView> found;
  std::size_t off = 0, last_pos = 0;
  const auto& order = load_order();
  while (off < d.size()) {
    if (off + 3 > d.size()) throw CapError("load file truncated in a component header at offset " + std::to_string(off));
    std::uint8_t tag = d[off];
    std::size_t size = static_cast<std::size_t>(d[off + 1] << 8 | d[off + 2]);
    if (off + 3 + size > d.size())
      throw CapError(component_name(tag) + " component says " + std::to_string(size) + " bytes, only " + std::to_string(d.size() - off - 3) + " left");
    auto pos = std::find(order.begin(), order.end(), tag);
    if (pos == order.end()) throw CapError(component_name(tag) + " component does not belong in a load file");
    std::size_t p = static_cast<std::size_t>(pos - order.begin());
    if (found.count(tag)) throw CapError(component_name(tag) + " component appears twice");
    if (!found.empty() && p < last_pos) throw CapError(component_name(tag) + " component is out of order");
    if (found.empty() && tag != component::kHeader) throw CapError("load file does not start with the Header component");
    last_pos = p;
    found[tag] = d.subspan(off + 3, size);
    info.components.push_back(tag);
    off += 3 + size;
  }
  for (std::uint8_t t : order)
    if (component_required(t) && !found.count(t)) throw CapError(component_name(t) + " component is missing");
  // Header (JCVM 6.4): magic u4, minor, major, flags, package_info (minor, major, AID_length, AID).
  ByteView h = found[component::kHeader];
  if (h.size() < 10 || h[0] != 0xDE || h[1] != 0xCA || h[2] != 0xFF || h[3] != 0xED) throw CapError("Header component has no DECAFFED magic");
  info.cap_minor = h[4];
  info.cap_major = h[5];
  info.flags = h[6];
  info.package.minor = h[7];
  info.package.major = h[8];
  std::size_t aid_len = h[9];
  if (10 + aid_len > h.size() || aid_len < 5 || aid_len > 16) throw CapError("Header component's package AID is malformed");
  info.package.aid.assign(h.begin() + 10, h.begin() + 10 + static_cast<std::ptrdiff_t>(aid_len));
  // Import (JCVM 6.6): count, then package_info.
  ByteView im = found[component::kImport];
  if (im.empty()) throw CapError("Import component is empty");
  std::size_t p = 1;
  for (std::size_t i = 0; i < im[0]; ++i) {
    if (p + 3 > im.size() || p + 3 + im[p + 2] > im.size()) throw CapError("Import component is truncated");
    PackageRef r{Bytes(im.begin() + static_cast<std::ptrdiff_t>(p + 3), im.begin() + static_cast<std::ptrdiff_t>(p + 3 + im[p + 2])), im[p + 1], im[p]};
    p += 3 + im[p + 2];
    info.imports.push_back(std::move(r));
  }
  // Applet (JCVM 6.5): count, then AID_length, AID, install_method_offset u2.
  if (found.count(component::kApplet)) {
    ByteView ap = found[component::kApplet];
    if (ap.empty()) throw CapError("Applet component is empty");
    p = 1;
    for (std::size_t i = 0; i < ap[0]; ++i) {
      if (p + 1 > ap.size() || p + 1 + ap[p] + 2 > ap.size()) throw CapError("Applet component is truncated");
      info.applets.emplace_back(ap.begin() + static_cast<std::ptrdiff_t>(p + 1), ap.begin() + static_cast<std::ptrdiff_t>(p + 1 + ap[p]));
      p += 1 + ap[p] + 2;
    }
  }
  return info;
}

CapFile CapFile::read(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) throw CapError("cannot read " + path + ": " + ec.message());
  if (size > kMaxArchiveBytes) throw CapError(path + " is over 16 MiB, not a CAP file");
  return from_zip(read_file(path));
}

CapFile CapFile::from_zip(ByteView zip) {
  CapFile cap;
  for (auto& [name, content] : read_zip(zip)) {
    auto slash = name.rfind('/');
    std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
    std::string dir = slash == std::string::npos ? "" : name.substr(0, slash);
    if (dir != "javacard" && !(dir.size() > 9 && dir.ends_with("/javacard"))) continue;
    for (std::uint8_t t = 1; t < kNames.size(); ++t)
      if (base == std::string(kNames[t]) + ".cap") {
        if (cap.components_.count(t)) throw CapError("CAP archive holds two " + base + " components (two packages?)");
        cap.components_[t] = std::move(content);
      }
  }
  if (cap.components_.empty()) throw CapError("no javacard/*.cap components in the archive");
  cap.info_ = parse_load_file(cap.load_file_data_block());
  return cap;
}

Bytes CapFile::load_file_data_block() const {
  Bytes out;
  for (std::uint8_t t : load_order()) {
    auto it = components_.find(t);
    if (it != components_.end()) append(out, it->second);
  }
  return out;
}

}  // namespace rsp::gp
