#include "sipsite/media/rtcp_privacy.hpp"

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <vector>

namespace sipsite::media {

namespace {

constexpr std::uint8_t kSdes = 202;
constexpr std::uint8_t kBye = 203;
constexpr std::uint8_t kApp = 204;
constexpr std::uint8_t kCname = 1;

std::uint16_t length_words(const unsigned char* p) { return static_cast<std::uint16_t>((p[2] << 8) | p[3]); }

// The length is a placeholder, set by finish() once the body is written.
void append_header(std::vector<unsigned char>& out, unsigned count, std::uint8_t type) {
  out.insert(out.end(), {static_cast<unsigned char>(0x80 | (count & 0x1f)), type, 0, 0});
}

void finish(std::vector<unsigned char>& out, std::size_t start) {
  while ((out.size() - start) % 4 != 0) out.push_back(0);
  const std::size_t words = (out.size() - start) / 4 - 1;
  out[start + 2] = static_cast<unsigned char>(words >> 8);
  out[start + 3] = static_cast<unsigned char>(words);
}

// SDES chunks: SSRC, items up to a null item, padding to 32 bits. False:
// malformed (the packet is then dropped rather than passed on unread).
bool rewrite_sdes(const unsigned char* p, std::size_t len, std::string_view cname, std::vector<unsigned char>& out) {
  const unsigned chunks = p[0] & 0x1f;
  std::size_t at = 4;
  const std::size_t start = out.size();
  append_header(out, chunks, kSdes);
  for (unsigned c = 0; c < chunks; ++c) {
    if (at + 4 > len) return false;
    out.insert(out.end(), p + at, p + at + 4);  // SSRC/CSRC
    at += 4;
    while (true) {
      if (at >= len) return false;
      const std::uint8_t type = p[at];
      if (type == 0) break;
      if (at + 2 > len || at + 2 + p[at + 1] > len) return false;
      at += 2 + p[at + 1];
    }
    at = (at + 4) & ~std::size_t{3};  // past the null item and the padding
    if (at > len) return false;
    out.push_back(kCname);
    out.push_back(static_cast<unsigned char>(cname.size()));
    out.insert(out.end(), cname.begin(), cname.end());
    out.push_back(0);
    while ((out.size() - start) % 4 != 0) out.push_back(0);
  }
  finish(out, start);
  return true;
}

void rewrite_bye(const unsigned char* p, std::size_t len, std::vector<unsigned char>& out) {
  const unsigned sources = p[0] & 0x1f;
  const std::size_t keep = std::min<std::size_t>(len, 4 + std::size_t{sources} * 4);
  const std::size_t start = out.size();
  append_header(out, static_cast<unsigned>((keep - 4) / 4), kBye);
  out.insert(out.end(), p + 4, p + keep);
  finish(out, start);
}

}  // namespace

std::size_t anonymize_rtcp(unsigned char* data, std::size_t n, std::size_t capacity, std::string_view cname) {
  if (cname.size() > kMaxOpaqueCname) cname = cname.substr(0, kMaxOpaqueCname);
  // First pass: is this a compound packet of plain RTCP, exactly?
  bool touches = false;
  for (std::size_t at = 0; at < n;) {
    if (n - at < 4 || (data[at] >> 6) != 2 || data[at + 1] < 192 || data[at + 1] > 223) return n;
    const std::size_t len = (std::size_t{length_words(data + at)} + 1) * 4;
    if (len > n - at) return n;
    const std::uint8_t type = data[at + 1];
    touches = touches || type == kSdes || type == kBye || type == kApp;
    at += len;
  }
  if (!touches) return n;

  std::vector<unsigned char> out;
  out.reserve(n + 64);
  for (std::size_t at = 0; at < n;) {
    const unsigned char* p = data + at;
    const std::size_t len = (std::size_t{length_words(p)} + 1) * 4;
    at += len;
    // Padding (the P bit) belongs to the last packet only; rebuilt packets
    // carry none, kept ones keep theirs.
    switch (p[1]) {
      case kSdes: {
        const std::size_t before = out.size();
        if (!rewrite_sdes(p, len, cname, out)) out.resize(before);
        break;
      }
      case kBye: rewrite_bye(p, len, out); break;
      case kApp: break;
      default: out.insert(out.end(), p, p + len);
    }
  }
  if (out.empty() || out.size() > capacity) return 0;
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

}  // namespace sipsite::media
