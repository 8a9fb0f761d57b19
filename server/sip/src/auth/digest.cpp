#include "sipsite/sip/auth/digest.hpp"

#include "message/charset.hpp"
#include "sipsite/sip/message/header_id.hpp"
#include "sipsite/common/hex.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace sipsite::sip {
namespace {

struct RawParam {
  std::string_view name;
  std::string value;
};

bool is_qdtext_byte(unsigned char c) noexcept {
  // qdtext and quoted-pair both exclude CR and LF; we also refuse the other
  // controls (NUL included) since no Digest value needs them.
  return c == '\t' || (c >= 0x20 && c != 0x7F);
}

// Decodes a quoted-string starting at the opening quote; advances pos past
// the closing quote. nullopt on success.
std::optional<DigestErrc> decode_quoted(std::string_view s, std::size_t& pos, std::string& out) {
  ++pos;  // opening quote
  while (pos < s.size()) {
    const auto c = static_cast<unsigned char>(s[pos]);
    if (c == '"') {
      ++pos;
      if (out.size() > kMaxDigestValue) return DigestErrc::value_too_long;
      return std::nullopt;
    }
    if (c == '\\') {
      if (pos + 1 >= s.size()) return DigestErrc::bad_quoted_string;
      const auto e = static_cast<unsigned char>(s[pos + 1]);
      if (!is_qdtext_byte(e)) return DigestErrc::bad_quoted_string;
      out.push_back(static_cast<char>(e));
      pos += 2;
    } else {
      if (!is_qdtext_byte(c)) return DigestErrc::bad_quoted_string;
      out.push_back(static_cast<char>(c));
      ++pos;
    }
    if (out.size() > kMaxDigestValue) return DigestErrc::value_too_long;
  }
  return DigestErrc::bad_quoted_string;  // unterminated
}

struct ScanOutcome {
  bool ok = false;
  DigestErrc error = DigestErrc::malformed;
};

// Scans `Digest name=value, name=value, ...` into params.
ScanOutcome scan(std::string_view value, std::vector<RawParam>& params) {
  if (value.size() > kMaxDigestHeader) return {false, DigestErrc::too_long};
  value = detail::trim(value);
  std::size_t pos = 0;
  while (pos < value.size() && detail::is_token_char(value[pos])) ++pos;
  if (!iequals(value.substr(0, pos), "Digest")) return {false, DigestErrc::not_digest};
  if (pos < value.size() && !detail::is_ws(value[pos])) return {false, DigestErrc::not_digest};
  const auto skip_ws = [&] {
    while (pos < value.size() && detail::is_ws(value[pos])) ++pos;
  };
  while (true) {
    skip_ws();
    if (pos >= value.size()) break;
    if (value[pos] == ',') {  // empty list element (RFC 7230 §7 #rule): tolerated
      ++pos;
      continue;
    }
    const std::size_t name_start = pos;
    while (pos < value.size() && detail::is_token_char(value[pos])) ++pos;
    const std::string_view name = value.substr(name_start, pos - name_start);
    if (name.empty()) return {false, DigestErrc::malformed};
    skip_ws();
    if (pos >= value.size() || value[pos] != '=') return {false, DigestErrc::malformed};
    ++pos;
    skip_ws();
    if (params.size() >= kMaxDigestParams) return {false, DigestErrc::too_many_params};
    for (const auto& p : params) {
      if (iequals(p.name, name)) return {false, DigestErrc::duplicate_param};
    }
    RawParam param{name, {}};
    if (pos < value.size() && value[pos] == '"') {
      if (const auto e = decode_quoted(value, pos, param.value)) return {false, *e};
    } else {
      const std::size_t start = pos;
      while (pos < value.size() && detail::is_token_char(value[pos])) ++pos;
      if (pos == start) return {false, DigestErrc::malformed};
      if (pos - start > kMaxDigestValue) return {false, DigestErrc::value_too_long};
      param.value.assign(value.substr(start, pos - start));
    }
    params.push_back(std::move(param));
    skip_ws();
    if (pos < value.size()) {
      if (value[pos] != ',') return {false, DigestErrc::malformed};
      ++pos;
    }
  }
  if (params.empty()) return {false, DigestErrc::missing_param};
  return {true, {}};
}

std::optional<std::uint32_t> parse_nc(std::string_view s) noexcept {
  if (s.size() != 8) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s) {
    if (!detail::is_hex(c)) return std::nullopt;
    const int d = detail::is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
    v = (v << 4) | static_cast<std::uint32_t>(d);
  }
  return v;
}

void append_quoted(std::string& out, std::string_view v) {
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

const EVP_MD* md_for(DigestAlgorithm a) {
  // Fetched once: implicit fetching on every digest costs more than the
  // digest itself. Never freed (process lifetime).
  static EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  return is_sha256(a) ? sha256 : md5;
}

}  // namespace

std::string_view to_string(DigestAlgorithm a) noexcept {
  switch (a) {
    case DigestAlgorithm::md5: return "MD5";
    case DigestAlgorithm::md5_sess: return "MD5-sess";
    case DigestAlgorithm::sha256: return "SHA-256";
    case DigestAlgorithm::sha256_sess: return "SHA-256-sess";
  }
  return "MD5";
}

std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view token) noexcept {
  for (auto a :
       {DigestAlgorithm::md5, DigestAlgorithm::md5_sess, DigestAlgorithm::sha256, DigestAlgorithm::sha256_sess}) {
    if (iequals(token, to_string(a))) return a;
  }
  return std::nullopt;
}

std::string_view to_string(DigestErrc e) noexcept {
  switch (e) {
    case DigestErrc::not_digest: return "not_digest";
    case DigestErrc::too_long: return "too_long";
    case DigestErrc::malformed: return "malformed";
    case DigestErrc::bad_quoted_string: return "bad_quoted_string";
    case DigestErrc::duplicate_param: return "duplicate_param";
    case DigestErrc::too_many_params: return "too_many_params";
    case DigestErrc::value_too_long: return "value_too_long";
    case DigestErrc::missing_param: return "missing_param";
    case DigestErrc::bad_nc: return "bad_nc";
    case DigestErrc::unsupported_algorithm: return "unsupported_algorithm";
    case DigestErrc::bad_userhash: return "bad_userhash";
  }
  return "unknown";
}

void throw_exception_from_error(const DigestErrc& e, const boost::source_location&) {
  throw std::runtime_error("digest: " + std::string(to_string(e)));
}

namespace {

// The parameters of one header, each taken at most once by name (scan()
// has refused repeats).
struct ScannedParams {
  std::vector<RawParam> all;

  std::optional<std::string> take(std::string_view name) {
    for (auto& p : all) {
      if (!p.name.empty() && iequals(p.name, name)) {
        p.name = {};
        return std::move(p.value);
      }
    }
    return std::nullopt;
  }
};

// Scans the header, then takes what a challenge and credentials share:
// realm, nonce, opaque, algorithm and qop. Whether realm and nonce were both
// there, or the error of a malformed header or an unknown algorithm.
template <class Digest>
DigestResult<bool> scan_shared(std::string_view value, ScannedParams& params, Digest& d) {
  if (const auto s = scan(value, params.all); !s.ok) return s.error;
  auto realm = params.take("realm");
  auto nonce = params.take("nonce");
  if (const auto algorithm = params.take("algorithm")) {
    const auto a = parse_digest_algorithm(*algorithm);
    if (!a) return DigestErrc::unsupported_algorithm;
    d.algorithm = *a;
  }
  d.opaque = params.take("opaque");
  d.qop = params.take("qop");
  if (!realm || !nonce) return false;
  d.realm = std::move(*realm);
  d.nonce = std::move(*nonce);
  return true;
}

// Scans the parameters both headers share into `T`, then lets `finish`
// take the rest (an error, or nullopt when `T` is whole). Untrusted input
// never throws: std::bad_alloc (bounded input makes it theoretical) is
// "malformed".
template <class T, class Finish>
DigestResult<T> parse_digest(std::string_view value, Finish finish) noexcept {
  try {
    ScannedParams params;
    T out;
    const auto has_realm_and_nonce = scan_shared(value, params, out);
    if (!has_realm_and_nonce) return has_realm_and_nonce.error();
    if (const auto failed = finish(params, out, *has_realm_and_nonce)) return *failed;
    return out;
  } catch (...) {
    return DigestErrc::malformed;
  }
}

}  // namespace

DigestResult<DigestCredentials> parse_digest_credentials(std::string_view value) noexcept {
  return parse_digest<DigestCredentials>(
      value, [](ScannedParams& params, DigestCredentials& c, bool has_realm_and_nonce) -> std::optional<DigestErrc> {
        auto username = params.take("username");
        auto uri = params.take("uri");
        auto response = params.take("response");
        auto cnonce = params.take("cnonce");
        if (auto nc_text = params.take("nc")) {
          const auto nc = parse_nc(*nc_text);
          if (!nc) return DigestErrc::bad_nc;
          c.nc = *nc;
          c.nc_text = std::move(*nc_text);
        }
        if (const auto userhash = params.take("userhash")) {
          if (!iequals(*userhash, "true") && !iequals(*userhash, "false")) return DigestErrc::bad_userhash;
          c.userhash = iequals(*userhash, "true");
        }
        // Anything else is an auth-param extension: ignored.
        if (!username || !uri || !response || !has_realm_and_nonce) return DigestErrc::missing_param;
        if (c.qop && (!cnonce || c.nc_text.empty())) return DigestErrc::missing_param;
        c.username = std::move(*username);
        c.uri = std::move(*uri);
        c.response = std::move(*response);
        c.cnonce = cnonce.value_or(std::string());
        return std::nullopt;
      });
}

std::string format_digest_challenge(const DigestChallenge& c) {
  std::string out = "Digest realm=";
  out.reserve(64 + c.realm.size() + c.nonce.size() + (c.opaque ? c.opaque->size() : 0));
  append_quoted(out, c.realm);
  out += ", nonce=";
  append_quoted(out, c.nonce);
  if (c.opaque) {
    out += ", opaque=";
    append_quoted(out, *c.opaque);
  }
  out += ", algorithm=";
  out += to_string(c.algorithm);
  if (c.qop) {
    out += ", qop=";
    append_quoted(out, *c.qop);
  }
  if (c.stale) out += ", stale=true";
  return out;
}

DigestResult<DigestChallenge> parse_digest_challenge(std::string_view value) noexcept {
  return parse_digest<DigestChallenge>(
      value, [](ScannedParams& params, DigestChallenge& c, bool has_realm_and_nonce) -> std::optional<DigestErrc> {
        if (const auto stale = params.take("stale")) c.stale = iequals(*stale, "true");
        if (!has_realm_and_nonce) return DigestErrc::missing_param;
        return std::nullopt;
      });
}

std::string digest_hash(DigestAlgorithm a, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  const EVP_MD* type = md_for(a);
  if (type == nullptr || EVP_Digest(data.data(), data.size(), md.data(), &len, type, nullptr) != 1) {
    return {};  // the provider refuses the hash (e.g. FIPS without MD5): nothing ever matches
  }
  return common::to_hex(std::span<const std::uint8_t>(md.data(), len));
}

std::string digest_ha1(DigestAlgorithm a, std::string_view username, std::string_view realm,
                       std::string_view password) {
  std::string in;
  in.reserve(username.size() + realm.size() + password.size() + 2);
  in.append(username).append(":").append(realm).append(":").append(password);
  std::string ha1 = digest_hash(a, in);
  OPENSSL_cleanse(in.data(), in.size());  // A1 holds the password
  return ha1;
}

std::string digest_response(const DigestResponseInput& in) {
  std::string ha1(in.ha1);
  if (is_sess(in.algorithm)) {
    std::string s;
    s.append(in.ha1).append(":").append(in.nonce).append(":").append(in.cnonce);
    ha1 = digest_hash(in.algorithm, s);
  }
  std::string a2;
  a2.reserve(in.method.size() + in.uri.size() + 1);
  a2.append(in.method).append(":").append(in.uri);
  const std::string ha2 = digest_hash(in.algorithm, a2);
  std::string kd;
  kd.reserve(ha1.size() + ha2.size() + in.nonce.size() + in.cnonce.size() + 32);
  kd.append(ha1).append(":").append(in.nonce).append(":");
  if (in.qop) kd.append(in.nc).append(":").append(in.cnonce).append(":").append(*in.qop).append(":");
  kd.append(ha2);
  return digest_hash(in.algorithm, kd);
}

bool digest_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sipsite::sip
