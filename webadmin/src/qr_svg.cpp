#include <sipsite/webadmin/qr_svg.hpp>

#include <qrencode.h>

#include <memory>

namespace sipsite::webadmin {

std::optional<std::string> qr_svg(std::string_view text) {
  const std::string input(text);  // qrencode wants a NUL-terminated string
  struct Free {
    void operator()(QRcode* q) const { QRcode_free(q); }
  };
  std::unique_ptr<QRcode, Free> code(QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!code) return std::nullopt;
  const int width = code->width;
  constexpr int kQuiet = 4;
  const int size = width + 2 * kQuiet;
  std::string path;
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      if ((code->data[y * width + x] & 1) == 0) continue;
      path += "M" + std::to_string(x + kQuiet) + " " + std::to_string(y + kQuiet) + "h1v1h-1z";
    }
  }
  const std::string dim = std::to_string(size);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
         dim + " " + dim +
         "\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code of the invite\">"
         "<rect width=\"" +
         dim + "\" height=\"" + dim +
         "\" fill=\"#fff\"/>"
         "<path fill=\"#000\" d=\"" +
         path + "\"/></svg>\n";
}

}  // namespace sipsite::webadmin
