#include "sip_text.hpp"

#include <openssl/evp.h>

#include <charconv>

namespace sipload {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::uint64_t to_uint(std::string_view s) {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// Finds the end of the header block ("\r\n\r\n"), npos if absent.
std::size_t header_end(std::string_view buf) { return buf.find("\r\n\r\n"); }

}  // namespace

bool parse(std::string_view text, SipMessage& out) {
  out = SipMessage{};
  const auto end = header_end(text);
  if (end == std::string_view::npos) return false;
  std::string_view head = text.substr(0, end + 2);
  auto eol = head.find("\r\n");
  const std::string_view start = head.substr(0, eol);
  head.remove_prefix(eol + 2);
  if (start.starts_with("SIP/2.0 ")) {
    out.response = true;
    out.status = static_cast<int>(to_uint(start.substr(8, 3)));
    if (out.status < 100 || out.status > 699) return false;
  } else {
    const auto sp1 = start.find(' ');
    const auto sp2 = start.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) return false;
    out.method = start.substr(0, sp1);
    out.request_uri = start.substr(sp1 + 1, sp2 - sp1 - 1);
  }
  while (!head.empty()) {
    eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "via") || iequals(name, "v")) {
      out.via.push(value);
    } else if (iequals(name, "call-id") || iequals(name, "i")) {
      out.call_id = value;
    } else if (iequals(name, "from") || iequals(name, "f")) {
      out.from = value;
    } else if (iequals(name, "to") || iequals(name, "t")) {
      out.to = value;
    } else if (iequals(name, "cseq")) {
      const auto sp = value.find(' ');
      out.cseq = static_cast<std::uint32_t>(to_uint(value.substr(0, sp)));
      if (out.response && sp != std::string_view::npos) out.method = trim(value.substr(sp + 1));
    } else if (iequals(name, "contact") || iequals(name, "m")) {
      if (out.contact.empty()) out.contact = value;
    } else if (iequals(name, "record-route")) {
      out.record_route.push(value);
    } else if (iequals(name, "www-authenticate") || iequals(name, "proxy-authenticate")) {
      // The first Digest challenge (MD5 when both are offered in that order
      // is not guaranteed: prefer an MD5 one).
      const bool md5 = digest_param(value, "algorithm").empty() || iequals(digest_param(value, "algorithm"), "MD5");
      if (out.challenge.empty() || (md5 && !iequals(digest_param(out.challenge, "algorithm"), "MD5"))) {
        out.challenge = value;
      }
    } else if (iequals(name, "content-length") || iequals(name, "l")) {
      out.content_length = static_cast<std::size_t>(to_uint(value));
    }
  }
  return !out.call_id.empty() && out.cseq != 0 && out.via.size != 0;
}

std::size_t frame_length(std::string_view buf, std::size_t& skip) {
  skip = 0;
  while (skip + 1 < buf.size() && buf[skip] == '\r' && buf[skip + 1] == '\n') skip += 2;
  buf.remove_prefix(skip);
  const auto end = header_end(buf);
  if (end == std::string_view::npos) return 0;
  std::size_t length = 0;
  std::string_view head = buf.substr(0, end + 2);
  while (!head.empty()) {
    const auto eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const auto name = trim(line.substr(0, colon));
    if (iequals(name, "content-length") || iequals(name, "l")) {
      length = static_cast<std::size_t>(to_uint(trim(line.substr(colon + 1))));
    }
  }
  const std::size_t total = end + 4 + length;
  return buf.size() >= total ? total : 0;
}

std::string_view tag_of(std::string_view name_addr) {
  const auto gt = name_addr.find('>');
  const auto from = gt == std::string_view::npos ? 0 : gt;
  const auto pos = name_addr.find(";tag=", from);
  if (pos == std::string_view::npos) return {};
  auto tag = name_addr.substr(pos + 5);
  const auto stop = tag.find_first_of(";, \t");
  return stop == std::string_view::npos ? tag : tag.substr(0, stop);
}

std::string_view uri_of(std::string_view name_addr) {
  const auto lt = name_addr.find('<');
  if (lt != std::string_view::npos) {
    const auto gt = name_addr.find('>', lt);
    if (gt != std::string_view::npos) return name_addr.substr(lt + 1, gt - lt - 1);
  }
  return name_addr.substr(0, name_addr.find(';'));
}

std::string_view user_of(std::string_view uri) {
  const auto colon = uri.find(':');
  if (colon == std::string_view::npos) return {};
  uri.remove_prefix(colon + 1);
  const auto at = uri.find('@');
  return at == std::string_view::npos ? std::string_view{} : uri.substr(0, at);
}

std::string_view digest_param(std::string_view challenge, std::string_view name) {
  std::size_t pos = 0;
  while (pos < challenge.size()) {
    pos = challenge.find(name, pos);
    if (pos == std::string_view::npos) return {};
    const bool starts =
        pos == 0 || challenge[pos - 1] == ' ' || challenge[pos - 1] == ',' || challenge[pos - 1] == '\t';
    std::size_t p = pos + name.size();
    while (p < challenge.size() && challenge[p] == ' ') ++p;
    if (!starts || p >= challenge.size() || challenge[p] != '=') {
      pos += name.size();
      continue;
    }
    ++p;
    while (p < challenge.size() && challenge[p] == ' ') ++p;
    if (p < challenge.size() && challenge[p] == '"') {
      const auto close = challenge.find('"', p + 1);
      if (close == std::string_view::npos) return {};
      return challenge.substr(p + 1, close - p - 1);
    }
    const auto stop = challenge.find_first_of(", \t", p);
    return stop == std::string_view::npos ? challenge.substr(p) : challenge.substr(p, stop - p);
  }
  return {};
}

std::string md5_hex(std::string_view text) {
  static EVP_MD* const kMd5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), digest, &n, kMd5, nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (unsigned int i = 0; i < n; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return out;
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

std::string digest_authorization(const DigestAnswer& a) {
  char nc[9];
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 7; i >= 0; --i) nc[7 - i] = kHex[(a.nc >> (4 * i)) & 0xF];
  nc[8] = '\0';
  std::string ha2_in;
  ha2_in.reserve(a.method.size() + a.uri.size() + 1);
  ha2_in.append(a.method).append(":").append(a.uri);
  const std::string ha2 = md5_hex(ha2_in);
  std::string resp_in;
  resp_in.reserve(160);
  resp_in.append(a.ha1).append(":").append(a.nonce).append(":").append(nc, 8).append(":");
  resp_in.append(a.cnonce).append(":auth:").append(ha2);
  const std::string response = md5_hex(resp_in);
  std::string out;
  out.reserve(300);
  out.append("Digest username=\"").append(a.user).append("\", realm=\"").append(a.realm);
  out.append("\", nonce=\"").append(a.nonce).append("\", uri=\"").append(a.uri);
  out.append("\", response=\"").append(response).append("\", algorithm=MD5, qop=auth, nc=");
  out.append(nc, 8).append(", cnonce=\"").append(a.cnonce).append("\"");
  if (!a.opaque.empty()) out.append(", opaque=\"").append(a.opaque).append("\"");
  return out;
}

}  // namespace sipload
