#pragma once
// Character classes of the RFC 3261 grammar (section 25.1), and a small
// cursor over a string_view used by every typed parser. Internal header.

#include <cstddef>
#include <optional>
#include <string_view>

namespace sipsite::sip::detail {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_alnum(char c) noexcept { return is_digit(c) || is_alpha(c); }
constexpr bool is_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t'; }
constexpr bool in(char c, std::string_view set) noexcept { return set.find(c) != std::string_view::npos; }

// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
constexpr bool is_token_char(char c) noexcept { return is_alnum(c) || in(c, "-.!%*_+`'~"); }
// unreserved = alphanum / mark
constexpr bool is_unreserved(char c) noexcept { return is_alnum(c) || in(c, "-_.!~*'()"); }
// user = 1*( unreserved / escaped / user-unreserved )
constexpr bool is_user_char(char c) noexcept { return is_unreserved(c) || in(c, "&=+$,;?/"); }
// password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )
constexpr bool is_password_char(char c) noexcept { return is_unreserved(c) || in(c, "&=+$,"); }
// paramchar = param-unreserved / unreserved / escaped
constexpr bool is_param_char(char c) noexcept { return is_unreserved(c) || in(c, "[]/:&+$"); }
// hname / hvalue = hnv-unreserved / unreserved / escaped
constexpr bool is_hnv_char(char c) noexcept { return is_unreserved(c) || in(c, "[]/?:+$"); }
// word (Call-ID) = token chars plus ( ) < > : \ DQUOTE / [ ] ? { }
constexpr bool is_word_char(char c) noexcept { return is_token_char(c) || in(c, "()<>:\\\"/[]?{}"); }
// uric without escapes, for the opaque part of absolute URIs of other schemes
constexpr bool is_uric_char(char c) noexcept { return is_unreserved(c) || in(c, ";/?:@&=+$,[]#"); }
// hostname characters; '_' is not in the grammar but real deployments use it
constexpr bool is_host_char(char c) noexcept { return is_alnum(c) || c == '-' || c == '.' || c == '_'; }

// True if s consists of chars accepted by pred or well-formed %HH escapes.
template <class Pred>
constexpr bool all_escaped(std::string_view s, Pred pred) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
    } else if (!pred(s[i])) {
      return false;
    }
  }
  return true;
}

constexpr bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

constexpr std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

// Validates host = hostname / IPv4address / IPv6reference (lenient on
// hostname label rules, strict on the character set).
bool is_host(std::string_view host) noexcept;

// Parses 1*DIGIT into an unsigned value no larger than max.
std::optional<unsigned long long> parse_decimal(std::string_view s, unsigned long long max) noexcept;

class Scanner {
 public:
  explicit Scanner(std::string_view s) noexcept : s_(s) {}

  [[nodiscard]] bool done() const noexcept { return pos_ >= s_.size(); }
  [[nodiscard]] char peek() const noexcept { return done() ? '\0' : s_[pos_]; }
  [[nodiscard]] std::size_t pos() const noexcept { return pos_; }
  [[nodiscard]] std::string_view rest() const noexcept { return s_.substr(pos_); }
  void set_pos(std::size_t p) noexcept { pos_ = p; }

  // Header values are unfolded before parsing, so LWS is just SP / HTAB.
  void skip_ws() noexcept {
    while (!done() && is_ws(s_[pos_])) ++pos_;
  }
  bool consume(char c) noexcept {
    if (!done() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  template <class Pred>
  std::string_view take_while(Pred pred) noexcept {
    const std::size_t start = pos_;
    while (!done() && pred(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  std::string_view token() noexcept { return take_while(is_token_char); }

  // quoted-string; returns the whole string including the quotes.
  std::optional<std::string_view> quoted_string() noexcept;

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace sipsite::sip::detail
