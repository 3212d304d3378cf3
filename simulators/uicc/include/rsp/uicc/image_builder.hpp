// Builds a CardImage by hand, file by file, from the Interoperable Profile
// template table (templates.cpp): for a card that is not made from a
// profile package (the multi-account UICC's default image). Each EF takes
// its template's file id, structure, size, SFI and default contents; the
// caller gives what differs.
#pragma once
#include <memory>
#include <string_view>

#include "rsp/uicc/profile_package.hpp"

namespace rsp::uicc {

class ImageBuilder {
 public:
  ImageBuilder();  // an image with the MF

  File& mf() { return *image_->fs.mf; }
  // An ADF (file id 7FF0 by convention of the templates) with its AID.
  File& add_adf(ByteView aid, bool first_usim = false);
  // The EF `member` of template `pe` ("mf"/"ef-iccid", "usim"/"ef-imsi", ...)
  // under `parent`; `content`, when given, replaces the default contents
  // from the start (the rest keeps the default). For record EFs `records`
  // (0: the template's count) and `record_len` (0: the template's) size it.
  // Throws std::invalid_argument for a member the table does not have.
  File& add_ef(File& parent, std::string_view pe, std::string_view member, ByteView content = {},
               std::size_t records = 0, std::size_t record_len = 0);

  std::unique_ptr<CardImage> take() { return std::move(image_); }

 private:
  std::unique_ptr<CardImage> image_;
};

}  // namespace rsp::uicc
