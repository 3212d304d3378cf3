// Activation codes as QR codes (SGP.22 4.1.1: the "LPA:1$..." text, byte
// mode, error correction level L or higher), rendered with libqrencode.
#pragma once
#include <string>
#include <string_view>

#include "rsp/bytes.hpp"

namespace rsp::smdp {

// SVG document, `module_px` pixels per module, 4-module quiet zone.
std::string qr_svg(std::string_view text, int module_px = 8);
// PNG image (8-bit greyscale), same geometry.
Bytes qr_png(std::string_view text, int module_px = 8);

}  // namespace rsp::smdp
