// QR code as SVG via libqrencode (Debian libqrencode-dev).
#include "http/qr.hpp"

#include <qrencode.h>

#include <memory>
#include <stdexcept>

namespace pg::http {

std::string qr_svg(std::string_view text) {
  const std::string s(text);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeString8bit(s.c_str(), 0, QR_ECLEVEL_M), &QRcode_free);
  if (!code) throw std::runtime_error("the request does not fit a QR code");
  constexpr int kQuiet = 4;
  const int w = code->width;
  const int size = w + 2 * kQuiet;
  std::string path;
  for (int y = 0; y < w; ++y) {
    for (int x = 0; x < w; ++x) {
      if (code->data[y * w + x] & 1) {
        path.push_back('M');
        path.append(std::to_string(x + kQuiet));
        path.push_back(' ');
        path.append(std::to_string(y + kQuiet));
        path.append("h1v1h-1z");
      }
    }
  }
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ";
  svg.append(std::to_string(size)).append(" ").append(std::to_string(size));
  svg.append(
      "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>");
  svg.append("<path fill=\"#000\" d=\"").append(path).append("\"/></svg>");
  return svg;
}

}  // namespace pg::http
