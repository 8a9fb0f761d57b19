#include "sipsite/sip/message/accessors.hpp"

#include "sipsite/sip/message/list.hpp"
#include "sipsite/sip/message/scalars.hpp"

#include <algorithm>
#include <string>

namespace sipsite::sip {
namespace {

ParseError error(const Message& m, ParseErrc code, std::string reason) {
  return ParseError{code, m.kind(), std::move(reason)};
}

// The value of a header that must appear at most once.
Result<std::optional<std::string_view>> single(const Message& m, HeaderId id) {
  if (m.count(id) > 1) {
    return error(m, ParseErrc::duplicate_header, "more than one " + std::string(canonical_name(id)));
  }
  return m.value(id);
}

Result<std::string_view> required(const Message& m, HeaderId id, ParseErrc missing) {
  auto v = single(m, id);
  if (!v) return v.error();
  if (!*v) return error(m, missing, "no " + std::string(canonical_name(id)));
  return **v;
}

Result<NameAddr> address(const Message& m, HeaderId id, ParseErrc missing, ParseErrc bad) {
  auto v = required(m, id, missing);
  if (!v) return v.error();
  auto na = parse_name_addr(*v);
  if (!na) return error(m, bad, std::string(canonical_name(id)) + ": " + na.error().reason);
  return na;
}

}  // namespace

Result<std::vector<Via>> via_headers(const Message& m) {
  std::vector<Via> out;
  for (const auto& h : m.headers()) {
    if (h.id != HeaderId::via) continue;
    auto list = parse_via_list(h.value);
    if (!list) return error(m, ParseErrc::bad_via, list.error().reason);
    for (auto& v : *list) out.push_back(std::move(v));
  }
  if (out.empty()) return error(m, ParseErrc::missing_via, "no Via");
  return out;
}

Result<NameAddr> from_header(const Message& m) {
  return address(m, HeaderId::from, ParseErrc::missing_from, ParseErrc::bad_from);
}

Result<NameAddr> to_header(const Message& m) {
  return address(m, HeaderId::to, ParseErrc::missing_to, ParseErrc::bad_to);
}

Result<std::string_view> call_id_header(const Message& m) {
  auto v = required(m, HeaderId::call_id, ParseErrc::missing_call_id);
  if (!v) return v.error();
  auto id = parse_call_id(*v);
  if (!id) return error(m, ParseErrc::bad_call_id, id.error().reason);
  return id;
}

Result<CSeq> cseq_header(const Message& m) {
  auto v = required(m, HeaderId::cseq, ParseErrc::missing_cseq);
  if (!v) return v.error();
  auto c = parse_cseq(*v);
  if (!c) return error(m, ParseErrc::bad_cseq, c.error().reason);
  return c;
}

Result<std::optional<std::uint32_t>> max_forwards_header(const Message& m) {
  auto v = single(m, HeaderId::max_forwards);
  if (!v) return v.error();
  if (!*v) return std::optional<std::uint32_t>{};
  auto n = parse_max_forwards(**v);
  if (!n) return error(m, ParseErrc::bad_max_forwards, n.error().reason);
  return std::optional<std::uint32_t>{*n};
}

Result<std::optional<std::uint32_t>> expires_header(const Message& m) {
  auto v = single(m, HeaderId::expires);
  if (!v) return v.error();
  if (!*v) return std::optional<std::uint32_t>{};
  auto n = parse_expires(**v);
  if (!n) return error(m, ParseErrc::bad_expires, n.error().reason);
  return std::optional<std::uint32_t>{*n};
}

Result<ContactList> contact_headers(const Message& m) {
  ContactList all;
  std::size_t lines = 0;
  for (const auto& h : m.headers()) {
    if (h.id != HeaderId::contact) continue;
    ++lines;
    auto list = parse_contact_list(h.value);
    if (!list) return error(m, ParseErrc::bad_contact, list.error().reason);
    all.star = all.star || list->star;
    for (auto& c : list->contacts) all.contacts.push_back(std::move(c));
  }
  if (all.star && (lines > 1 || !all.contacts.empty())) {
    return error(m, ParseErrc::bad_contact, "Contact: * must stand alone");
  }
  return all;
}

std::string_view call_id_of(const Message& m) {
  const auto id = call_id_header(m);
  return id ? *id : std::string_view{};
}

std::optional<std::string> user_of(const Uri& uri) {
  if (!uri.is_sip() || uri.sip_uri.user.empty()) return std::nullopt;
  return unescape(uri.sip_uri.user);
}

std::optional<std::uint32_t> forwarded_max_forwards(const Message& m) {
  constexpr std::uint32_t kDefault = 70;
  const auto mf = max_forwards_header(m);
  const std::uint32_t received = mf && *mf ? **mf : kDefault;
  if (received == 0) return std::nullopt;
  return std::min(received, kDefault + 1) - 1;
}

void pop_first_value(Message& m, HeaderId id) {
  const auto& headers = m.headers();
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (headers[i].id != id) continue;
    const std::string name(canonical_name(id));
    const auto parts = split_list(headers[i].value);
    std::string rest;
    for (std::size_t p = 1; p < parts.size(); ++p) {
      if (!rest.empty()) rest += ", ";
      rest += parts[p];
    }
    m.remove_header_at(i);
    if (!rest.empty()) m.insert_header(i, name, rest);
    return;
  }
}

}  // namespace sipsite::sip
