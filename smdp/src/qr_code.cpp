#include "rsp/smdp/qr_code.hpp"

#include <png.h>
#include <qrencode.h>

#include <memory>
#include <stdexcept>

namespace rsp::smdp {

namespace {
constexpr int kQuietZone = 4;  // ISO/IEC 18004 quiet zone, in modules

struct Qr {
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code{nullptr, QRcode_free};
  explicit Qr(std::string_view text) {
    std::string s(text);
    // Level M: the codes are short, and M survives a phone camera better than L.
    code.reset(QRcode_encodeString8bit(s.c_str(), 0, QR_ECLEVEL_M));
    if (!code) throw std::runtime_error("QR encoding failed");
  }
  int width() const { return code->width; }
  bool dark(int x, int y) const { return code->data[y * code->width + x] & 1; }
};
}  // namespace

namespace {
std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}
}  // namespace

std::string qr_svg(std::string_view text, int module_px, const std::vector<std::string>& caption) {
  Qr qr(text);
  const int side = qr.width() + 2 * kQuietZone;  // in modules
  // Caption lines of 2 modules each (a 1.4-module monospace font), below the
  // quiet zone; the text may be wider than the code, so it is scaled to fit.
  const int extra = caption.empty() ? 0 : 2 * static_cast<int>(caption.size()) + 1;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(side * module_px) + "\" height=\"" + std::to_string((side + extra) * module_px) +
                    "\" viewBox=\"0 0 " + std::to_string(side) + " " + std::to_string(side + extra) +
                    "\" shape-rendering=\"crispEdges\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"";
  for (int y = 0; y < qr.width(); ++y)
    for (int x = 0; x < qr.width(); ++x)
      if (qr.dark(x, y)) out += "M" + std::to_string(x + kQuietZone) + " " + std::to_string(y + kQuietZone) + "h1v1h-1z";
  out += "\"/>\n";
  for (std::size_t i = 0; i < caption.size(); ++i)
    out += "<text x=\"" + std::to_string(side / 2.0) + "\" y=\"" + std::to_string(side + 2 * static_cast<int>(i) + 1) +
           "\" font-family=\"monospace\" font-size=\"1.4\" text-anchor=\"middle\"" +
           // A monospace glyph is about 0.6 em wide: squeeze only a line that would not fit.
           (caption[i].size() * 0.84 > side - 2
                ? " textLength=\"" + std::to_string(side - 2) + "\" lengthAdjust=\"spacingAndGlyphs\""
                : std::string()) +
           ">" + xml_escape(caption[i]) + "</text>\n";
  out += "</svg>\n";
  return out;
}

std::string qr_terminal(std::string_view text) {
  Qr qr(text);
  const int side = qr.width() + 2 * kQuietZone;
  auto light = [&](int x, int y) {
    x -= kQuietZone;
    y -= kQuietZone;
    return !(x >= 0 && y >= 0 && x < qr.width() && y < qr.width() && qr.dark(x, y));
  };
  std::string out;
  for (int y = 0; y < side; y += 2) {
    for (int x = 0; x < side; ++x) {
      bool top = light(x, y), bottom = y + 1 < side ? light(x, y + 1) : false;
      out += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
    }
    out += "\n";
  }
  return out;
}

Bytes qr_png(std::string_view text, int module_px) {
  Qr qr(text);
  const int size = (qr.width() + 2 * kQuietZone) * module_px;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw std::runtime_error("libpng: out of memory");
  }
  Bytes out;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error("libpng: encoding failed");
  }
  png_set_write_fn(
      png, &out,
      [](png_structp p, png_bytep data, png_size_t n) {
        auto* o = static_cast<Bytes*>(png_get_io_ptr(p));
        o->insert(o->end(), data, data + n);
      },
      nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(size), static_cast<png_uint_32>(size), 8, PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  Bytes row(static_cast<std::size_t>(size));
  for (int py = 0; py < size; ++py) {
    int y = py / module_px - kQuietZone;
    for (int px = 0; px < size; ++px) {
      int x = px / module_px - kQuietZone;
      bool dark = x >= 0 && y >= 0 && x < qr.width() && y < qr.width() && qr.dark(x, y);
      row[static_cast<std::size_t>(px)] = dark ? 0 : 255;
    }
    png_write_row(png, row.data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

}  // namespace rsp::smdp
