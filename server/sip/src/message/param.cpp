#include "sipsite/sip/message/param.hpp"

#include "charset.hpp"
#include "param_scan.hpp"
#include "sipsite/sip/message/header_id.hpp"

namespace sipsite::sip {

const Param* find_param(const Params& params, std::string_view name) noexcept {
  for (const auto& p : params) {
    if (iequals(p.name, name)) return &p;
  }
  return nullptr;
}

namespace detail {

bool scan_generic_params(Scanner& in, Params& out) {
  while (true) {
    const std::size_t mark = in.pos();
    in.skip_ws();
    if (!in.consume(';')) {
      in.set_pos(mark);
      return true;
    }
    in.skip_ws();
    Param p;
    p.name = in.token();
    if (p.name.empty()) return false;
    const std::size_t after_name = in.pos();
    in.skip_ws();
    if (in.consume('=')) {
      in.skip_ws();
      if (in.peek() == '"') {
        const auto q = in.quoted_string();
        if (!q) return false;
        p.value = *q;
      } else if (in.peek() == '[') {
        const auto v = in.take_while([](char c) { return c != ']' && !is_ws(c) && c != ';' && c != ','; });
        if (!in.consume(']')) return false;
        const auto host = std::string_view(v.data(), v.size() + 1);
        if (!is_host(host)) return false;
        p.value = host;
      } else {
        const auto v = in.token();
        if (v.empty()) return false;
        p.value = v;
      }
    } else {
      in.set_pos(after_name);
    }
    out.push_back(p);
  }
}

}  // namespace detail

Result<Params> parse_generic_params(std::string_view text) {
  detail::Scanner in(text);
  Params out;
  if (!detail::scan_generic_params(in, out)) {
    return ParseError{ParseErrc::bad_params, MessageKind::request, "malformed parameter"};
  }
  in.skip_ws();
  if (!in.done()) {
    return ParseError{ParseErrc::bad_params, MessageKind::request, "unexpected text after parameters"};
  }
  return out;
}

std::string unquote(std::string_view text) {
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') return std::string(text);
  text = text.substr(1, text.size() - 2);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) ++i;
    out.push_back(text[i]);
  }
  return out;
}

}  // namespace sipsite::sip
