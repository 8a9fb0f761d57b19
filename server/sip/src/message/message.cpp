#include "sipsite/sip/message/message.hpp"

#include "charset.hpp"
#include "sipsite/sip/message/list.hpp"

#include <algorithm>

namespace sipsite::sip {
namespace {

constexpr std::string_view kVersion = "SIP/2.0";

std::string sanitize(std::string_view value) {
  std::string out(detail::trim(value));
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

}  // namespace

Message Message::make_request(std::string_view method, std::string_view request_uri) {
  Message m;
  m.kind_ = MessageKind::request;
  m.set_method(method);
  m.set_request_uri(request_uri);
  return m;
}

Message Message::make_response(int status_code, std::string_view reason_phrase) {
  Message m;
  m.kind_ = MessageKind::response;
  m.set_status(status_code, reason_phrase);
  return m;
}

std::string_view Message::keep(std::string_view text) {
  if (text.empty()) return {};
  auto s = std::make_shared<const std::string>(text);
  const std::string_view view(*s);
  storage_.push_back(std::move(s));
  return view;
}

bool Message::matches(const Header& h, HeaderId id, std::string_view name) const noexcept {
  if (id != HeaderId::unknown) return h.id == id;
  return h.id == HeaderId::unknown && iequals(h.name, name);
}

const Header* Message::find(HeaderId id) const noexcept {
  if (id == HeaderId::unknown) return nullptr;  // unknown headers are found by name
  for (const auto& h : headers_) {
    if (h.id == id) return &h;
  }
  return nullptr;
}

const Header* Message::find(std::string_view name) const noexcept {
  const auto id = header_id(name);
  for (const auto& h : headers_) {
    if (matches(h, id, name)) return &h;
  }
  return nullptr;
}

std::optional<std::string_view> Message::value(HeaderId id) const noexcept {
  const auto* h = find(id);
  return h != nullptr ? std::optional(h->value) : std::nullopt;
}

std::optional<std::string_view> Message::value(std::string_view name) const noexcept {
  const auto* h = find(name);
  return h != nullptr ? std::optional(h->value) : std::nullopt;
}

std::size_t Message::count(HeaderId id) const noexcept {
  if (id == HeaderId::unknown) return 0;
  return static_cast<std::size_t>(
      std::count_if(headers_.begin(), headers_.end(), [id](const Header& h) { return h.id == id; }));
}

std::size_t Message::count(std::string_view name) const noexcept {
  const auto id = header_id(name);
  return static_cast<std::size_t>(
      std::count_if(headers_.begin(), headers_.end(), [&](const Header& h) { return matches(h, id, name); }));
}

std::vector<std::string_view> Message::values(HeaderId id) const {
  std::vector<std::string_view> out;
  if (id == HeaderId::unknown) return out;
  for (const auto& h : headers_) {
    if (h.id != id) continue;
    if (!is_list_header(id)) {
      out.push_back(h.value);
      continue;
    }
    for (const auto v : split_list(h.value)) {
      if (!v.empty()) out.push_back(v);
    }
  }
  return out;
}

std::vector<std::string_view> Message::values(std::string_view name) const {
  const auto id = header_id(name);
  if (id != HeaderId::unknown) return values(id);
  std::vector<std::string_view> out;
  for (const auto& h : headers_) {
    if (matches(h, id, name)) out.push_back(h.value);
  }
  return out;
}

void Message::set_method(std::string_view method) { method_ = keep(sanitize(method)); }

void Message::set_request_uri(std::string_view uri) { uri_ = keep(sanitize(uri)); }

void Message::set_status(int code, std::string_view reason_phrase) {
  status_ = code;
  reason_ = keep(sanitize(reason_phrase));
  version_ = kVersion;
}

bool Message::make_header(std::string_view name, std::string_view value, Header& out) {
  if (!detail::is_token(name)) return false;
  const std::string clean = sanitize(value);
  // one allocation for both name and value
  const auto both = keep(std::string(name) + clean);
  out.id = header_id(name);
  out.name = both.substr(0, name.size());
  out.value = both.substr(name.size());
  return true;
}

bool Message::add_header(std::string_view name, std::string_view value) {
  return insert_header(headers_.size(), name, value);
}

bool Message::add_header_front(std::string_view name, std::string_view value) { return insert_header(0, name, value); }

bool Message::insert_header(std::size_t index, std::string_view name, std::string_view value) {
  Header h;
  if (!make_header(name, value, h)) return false;
  index = std::min(index, headers_.size());
  headers_.insert(headers_.begin() + static_cast<std::ptrdiff_t>(index), h);
  return true;
}

bool Message::set_header(std::string_view name, std::string_view value) {
  Header h;
  if (!make_header(name, value, h)) return false;
  const auto it =
      std::find_if(headers_.begin(), headers_.end(), [&](const Header& x) { return matches(x, h.id, name); });
  if (it == headers_.end()) {
    headers_.push_back(h);
    return true;
  }
  *it = h;
  const auto first = std::next(it);
  headers_.erase(std::remove_if(first, headers_.end(), [&](const Header& x) { return matches(x, h.id, name); }),
                 headers_.end());
  return true;
}

std::size_t Message::remove_headers(HeaderId id) {
  if (id == HeaderId::unknown) return 0;
  const auto before = headers_.size();
  std::erase_if(headers_, [id](const Header& h) { return h.id == id; });
  return before - headers_.size();
}

std::size_t Message::remove_headers(std::string_view name) {
  const auto id = header_id(name);
  const auto before = headers_.size();
  std::erase_if(headers_, [&](const Header& h) { return matches(h, id, name); });
  return before - headers_.size();
}

void Message::remove_header_at(std::size_t index) {
  if (index < headers_.size()) headers_.erase(headers_.begin() + static_cast<std::ptrdiff_t>(index));
}

void Message::set_body(std::string_view body) { body_ = keep(body); }

}  // namespace sipsite::sip
