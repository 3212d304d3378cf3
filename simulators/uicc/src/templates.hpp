// Default files of the SIMalliance/TCA Interoperable Profile templates
// (eUICC Profile Package: Interoperable Format, v2.3.1, annex "File system
// templates"): for a File member of a file-system PE, the file identifier,
// structure, size, short file identifier and default contents the eUICC uses
// when the package leaves them out.
#pragma once
#include <cstdint>
#include <string_view>

#include "rsp/uicc/file_system.hpp"

namespace rsp::uicc::detail {

struct Template {
  std::string_view pe;        // PE member name of ProfileElement ("usim", "opt-usim", ...); "" any
  std::string_view member;    // File member name in that PE ("ef-imsi")
  std::uint16_t fid;
  FileType type;
  std::uint16_t records;      // linear fixed / cyclic: number of records (0: the package gives it)
  std::uint16_t size;         // transparent: bytes; record files: record length (0: the package gives it)
  std::uint8_t sfi;           // 0: none
  std::string_view fill;      // default contents, hex; "AB...CD": AB repeated up to the end, then CD
};

// nullptr when the template has no such member.
const Template* find_template(std::string_view pe, std::string_view member);
// Expands a default-contents pattern to `len` bytes (per record for record files).
Bytes expand_default(std::string_view pattern, std::size_t len);

}  // namespace rsp::uicc::detail
