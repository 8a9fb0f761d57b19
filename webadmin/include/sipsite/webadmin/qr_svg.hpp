#pragma once
// QR codes as SVG (libqrencode), for the invite on the dashboard.

#include <optional>
#include <string>
#include <string_view>

namespace sipsite::webadmin {

// A standalone SVG document: one path of dark modules on a white square with
// the standard four-module quiet zone, error correction level M. nullopt if
// the text does not fit in a QR code.
std::optional<std::string> qr_svg(std::string_view text);

}  // namespace sipsite::webadmin
