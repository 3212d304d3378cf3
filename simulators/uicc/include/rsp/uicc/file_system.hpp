// The UICC file system (ETSI TS 102 221 clause 8): the MF with its DFs and
// EFs, and the ADFs of the applications, each a tree of its own reached by
// AID. One File per node; EF bodies are shared between linked files
// (SIMalliance/TCA Interoperable Profile "linkPath": two EFs, one content).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"

namespace rsp::uicc {

enum class FileType { Mf, Df, Adf, Transparent, LinearFixed, Cyclic, BerTlv };

struct File {
  FileType type = FileType::Transparent;
  std::uint16_t fid = 0;
  Bytes aid;                          // ADF: its AID (FCP tag 84)
  std::uint8_t descriptor_byte = 0;   // FCP tag 82 first byte, as the package gave it (shareable bit kept)
  std::size_t record_len = 0;         // linear fixed / cyclic
  std::optional<std::uint8_t> sfi;    // short file identifier (1..30)
  Bytes security_attributes;          // FCP tag 8B: EF.ARR file id + record number(s)
  std::uint8_t lcsi = 0x05;           // life cycle status (TS 102 221 11.1.1.4.9): 05/07 activated
  Bytes pin_status_template;          // DF/ADF: FCP tag C6 value (PS_DO + key references)
  std::shared_ptr<Bytes> content;     // EF body (BER-TLV: the data objects); shared when linked
  std::size_t max_size = 0;           // BER-TLV: reserved size
  std::size_t cyclic_newest = 0;      // cyclic: index of record 1 (the newest) in content
  bool linked = false;                // content shared with the file at link_path
  std::vector<std::uint16_t> link_path;
  // Made by CREATE FILE (TS 102 222 6.3): the FCP it was given (value of
  // tag 62), so that a card's state file can make it again; empty for the
  // files of the profile package.
  Bytes created_fcp;

  File* parent = nullptr;
  std::vector<std::unique_ptr<File>> children;

  bool is_df() const { return type == FileType::Mf || type == FileType::Df || type == FileType::Adf; }
  bool is_record() const { return type == FileType::LinearFixed || type == FileType::Cyclic; }
  // TS 102 221 11.1.1.4.9: '0000 01x0' operational deactivated, '0000 11xx' terminated.
  bool deactivated() const { return (lcsi & 0xFD) == 0x04; }
  bool terminated() const { return (lcsi & 0xFC) == 0x0C; }
  std::size_t size() const { return content ? content->size() : 0; }
  std::size_t record_count() const { return record_len ? size() / record_len : 0; }
  File* child(std::uint16_t id) const;
  File* child_by_sfi(std::uint8_t s) const;
  // The ADF this file is in (itself for an ADF), nullptr under the MF.
  File* application() const;
  // Path of FIDs from the MF (3F00 ...) or from the ADF (7FFF ...).
  std::vector<std::uint16_t> path() const;
};

struct FileSystem {
  std::unique_ptr<File> mf;
  std::vector<std::unique_ptr<File>> adfs;  // parent: the MF, but not among its children
  // Files taken out by DELETE FILE (TS 102 222 6.4). They stay allocated
  // while the image lives, so that another logical channel's selection never
  // dangles; `removed` tells such a channel its file is gone.
  std::vector<std::unique_ptr<File>> deleted;

  // ADF whose AID starts with `aid` (partial AID selection, TS 102 221 8.4.1
  // / ISO 7816-4 right truncation); `nth` counts occurrences.
  File* adf_by_aid(ByteView aid, std::size_t nth = 0) const;
  // A path of FIDs from the MF (3F00 first, or implied) or from an ADF (7FFF
  // first, resolved in `adf`). nullptr when absent.
  File* resolve(const std::vector<std::uint16_t>& path, const File* adf = nullptr) const;
  // Takes `f` (not the MF) and its subtree out of the tree, into `deleted`.
  void remove(File* f);
  // Was `f`, or a DF above it, taken out by remove()?
  bool removed(const File* f) const;
};

// A text tree of the file system: one line per file with its path, type,
// size, SFI, ARR reference and (for EFs, up to `max_bytes`) its contents.
std::string dump(const FileSystem& fs, std::size_t max_bytes = 64);
const char* type_name(FileType t);

}  // namespace rsp::uicc
