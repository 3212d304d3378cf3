// Activation codes as QR codes (SGP.22 4.1.1: the "LPA:1$..." text, byte
// mode, error correction level L or higher), rendered with libqrencode.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "rsp/bytes.hpp"

namespace rsp::smdp {

// SVG document, `module_px` pixels per module, 4-module quiet zone; each
// `caption` line is written as <text> under the code (the activation code
// and ICCID on a printed card).
std::string qr_svg(std::string_view text, int module_px = 8, const std::vector<std::string>& caption = {});
// PNG image (8-bit greyscale), same geometry.
Bytes qr_png(std::string_view text, int module_px = 8);
// For a terminal: two module rows per line with the UTF-8 half blocks, light
// modules and the quiet zone drawn, dark ones blank (as `qrencode -t UTF8`:
// dark on a light field in a light-on-dark terminal), each line ending "\n".
std::string qr_terminal(std::string_view text);

}  // namespace rsp::smdp
