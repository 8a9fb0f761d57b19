#include "static_assets.hpp"

#include "ui_files.hpp"

#include "sipsite/common/ascii.hpp"
#include "sipsite/common/hex.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <map>
#include <optional>

namespace sipsite::webadmin {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

using common::iequals;

// A q-value (RFC 9110 12.4.2) above zero; a malformed one counts as zero,
// so that a client that said something odd gets the plain bytes.
bool positive_qvalue(std::string_view q) {
  if (q.empty() || q.size() > 5) return false;
  if (q[0] == '1') {
    if (q.size() == 1) return true;
    if (q[1] != '.') return false;
    for (char c : q.substr(2)) {
      if (c != '0') return false;
    }
    return true;
  }
  if (q[0] != '0') return false;
  if (q.size() == 1) return false;
  if (q[1] != '.') return false;
  bool nonzero = false;
  for (char c : q.substr(2)) {
    if (c < '0' || c > '9') return false;
    nonzero = nonzero || c != '0';
  }
  return nonzero;
}

// FNV-1a, 64 bits: an entity tag needs to change with the bytes, not to
// resist anyone.
std::string hash_hex(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return common::to_hex(h);
}

// Every value of a field that may repeat, joined as one list.
std::string field_list(const Request& req, http::field f) {
  std::string out;
  for (auto [it, end] = req.equal_range(f); it != end; ++it) {
    if (!out.empty()) out += ',';
    out += it->value();
  }
  return out;
}

}  // namespace

StaticAsset make_static_asset(std::string_view plain, std::string_view gzip) {
  StaticAsset a;
  a.plain = plain;
  if (!gzip.empty() && gzip.size() < plain.size()) a.gzip = gzip;
  const std::string h = hash_hex(plain);
  a.etag = "\"" + h + "\"";
  a.etag_gzip = "\"" + h + "-gz\"";
  return a;
}

const StaticAsset* find_static_asset(std::string_view name) {
  static const auto table = [] {
    std::map<std::string, StaticAsset, std::less<>> t;
    const auto files = ui::embedded_files();
    for (const auto& f : files) {
      if (f.name.ends_with(".gz")) continue;
      std::string_view gz;
      for (const auto& g : files) {
        if (g.name.size() == f.name.size() + 3 && g.name.starts_with(f.name) && g.name.ends_with(".gz"))
          gz = g.contents;
      }
      t.emplace(std::string(f.name), make_static_asset(f.contents, gz));
    }
    return t;
  }();
  const auto it = table.find(name);
  return it == table.end() ? nullptr : &it->second;
}

bool accepts_gzip(std::string_view accept_encoding) {
  std::optional<bool> gzip;
  std::optional<bool> any;
  std::string_view rest = accept_encoding;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view member = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const auto semi = member.find(';');
    const std::string_view coding = trim(member.substr(0, semi));
    if (coding.empty()) continue;
    bool admitted = true;
    std::string_view params = semi == std::string_view::npos ? std::string_view() : member.substr(semi + 1);
    while (!params.empty()) {
      const auto next = params.find(';');
      const std::string_view param = trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      const auto eq = param.find('=');
      if (eq != std::string_view::npos && iequals(trim(param.substr(0, eq)), "q")) {
        admitted = positive_qvalue(trim(param.substr(eq + 1)));
      }
    }
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      gzip = gzip.value_or(false) || admitted;
    } else if (coding == "*") {
      any = any.value_or(false) || admitted;
    }
  }
  if (gzip) return *gzip;
  return any.value_or(false);
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  const std::string_view list = trim(if_none_match);
  if (list == "*") return true;
  std::string_view opaque = etag;
  if (opaque.starts_with("W/")) opaque.remove_prefix(2);
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && (list[i] == ' ' || list[i] == '\t' || list[i] == ',')) ++i;
    if (i >= list.size()) break;
    if (list.substr(i, 2) == "W/") i += 2;
    if (i >= list.size() || list[i] != '"') return false;
    const auto close = list.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    if (list.substr(i, close - i + 1) == opaque) return true;
    i = close + 1;
  }
  return false;
}

Response static_response(const Request& req, const StaticAsset& asset, std::string_view content_type) {
  const bool gzip = !asset.gzip.empty() && accepts_gzip(field_list(req, http::field::accept_encoding));
  const std::string& etag = gzip ? asset.etag_gzip : asset.etag;
  const auto set_validators = [&](Response& res) {
    res.set(http::field::etag, etag);
    res.set(http::field::vary, "Accept-Encoding");
    // Revalidate every time (cheap: a 304), so a new build shows at once.
    res.set(http::field::cache_control, "no-cache");
  };
  if (req.find(http::field::if_none_match) != req.end() &&
      etag_matches(field_list(req, http::field::if_none_match), etag)) {
    Response res{http::status::not_modified, 11};
    set_validators(res);
    return res;
  }
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, content_type);
  set_validators(res);
  if (gzip) res.set(http::field::content_encoding, "gzip");
  res.body() = std::string(gzip ? asset.gzip : asset.plain);
  return res;
}

}  // namespace sipsite::webadmin
