// ImageBuilder (see image_builder.hpp).
#include "rsp/uicc/image_builder.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "templates.hpp"

namespace rsp::uicc {
namespace {

// TS 102 221 11.1.1.4.3 file descriptor byte: 38 DF/ADF (not shareable),
// 41 transparent, 42 linear fixed, 46 cyclic, 39 BER-TLV (shareable EFs).
std::uint8_t descriptor_for(FileType t) {
  switch (t) {
    case FileType::Mf: case FileType::Df: case FileType::Adf: return 0x78;
    case FileType::Transparent: return 0x41;
    case FileType::LinearFixed: return 0x42;
    case FileType::Cyclic: return 0x46;
    case FileType::BerTlv: return 0x79;
  }
  return 0x41;
}

}  // namespace

ImageBuilder::ImageBuilder() : image_(std::make_unique<CardImage>()) {
  image_->fs.mf = std::make_unique<File>();
  File& mf = *image_->fs.mf;
  mf.type = FileType::Mf;
  mf.fid = 0x3F00;
  mf.descriptor_byte = descriptor_for(FileType::Mf);
}

File& ImageBuilder::add_adf(ByteView aid, bool first_usim) {
  auto adf = std::make_unique<File>();
  adf->type = FileType::Adf;
  adf->fid = 0x7FF0;
  adf->aid.assign(aid.begin(), aid.end());
  adf->descriptor_byte = descriptor_for(FileType::Adf);
  adf->parent = image_->fs.mf.get();
  if (first_usim && image_->first_usim_aid.empty()) image_->first_usim_aid = adf->aid;
  image_->fs.adfs.push_back(std::move(adf));
  return *image_->fs.adfs.back();
}

File& ImageBuilder::add_ef(File& parent, std::string_view pe, std::string_view member, ByteView content,
                           std::size_t records, std::size_t record_len) {
  const detail::Template* t = detail::find_template(pe, member);
  if (!t || t->type == FileType::Mf || t->type == FileType::Df || t->type == FileType::Adf)
    throw std::invalid_argument("no EF template " + std::string(pe) + "/" + std::string(member));
  auto f = std::make_unique<File>();
  f->type = t->type;
  f->fid = t->fid;
  f->descriptor_byte = descriptor_for(t->type);
  if (t->sfi) f->sfi = t->sfi;
  f->parent = &parent;
  Bytes body;
  if (f->is_record()) {
    f->record_len = record_len ? record_len : t->size;
    std::size_t n = records ? records : (t->records ? t->records : 1);
    if (f->record_len == 0) f->record_len = std::max<std::size_t>(content.size(), 1);
    Bytes rec = detail::expand_default(t->fill, f->record_len);
    for (std::size_t i = 0; i < n; ++i) append(body, rec);
  } else {
    std::size_t size = t->size ? t->size : content.size();
    body = detail::expand_default(t->fill, size);
    if (t->type == FileType::BerTlv) f->max_size = std::max<std::size_t>(size, 256);
  }
  std::copy_n(content.begin(), std::min(content.size(), body.size()), body.begin());
  f->content = std::make_shared<Bytes>(std::move(body));
  parent.children.push_back(std::move(f));
  return *parent.children.back();
}

}  // namespace rsp::uicc
