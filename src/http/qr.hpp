// QR codes for proof requests: the text encoded with libqrencode, drawn as an SVG of squares.
#pragma once

#include <string>
#include <string_view>

namespace pg::http {

/// An SVG (one path, 4-module quiet zone, error correction level M) of a QR code holding `text`.
/// Throws std::runtime_error when the text does not fit a QR code.
std::string qr_svg(std::string_view text);

}  // namespace pg::http
