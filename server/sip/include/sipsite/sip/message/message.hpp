#pragma once
// A SIP request or response: start line, header fields in order, body.
//
// Ownership: every string_view handed out (start-line parts, Header name and
// value, body, and the views inside typed values parsed from them) points
// into immutable heap strings the Message owns through shared pointers.
// They stay valid for as long as the Message (or any copy of it) lives —
// moves and copies never invalidate them, and neither does mutation: a
// mutator stores new text beside the old and re-points the fields, so a view
// taken before a mutation still reads the old text.
//
// Thread safety: like a std::string — const use from several threads is
// fine, mutation needs exclusive access.

#include "sipsite/sip/message/header.hpp"
#include "sipsite/sip/message/header_id.hpp"
#include "sipsite/sip/message/parse_error.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::sip {

namespace detail {
struct MessageAccess;
}

class Message {
 public:
  // An empty request "SIP/2.0" with no method; use the factories.
  Message() = default;

  [[nodiscard]] static Message make_request(std::string_view method, std::string_view request_uri);
  [[nodiscard]] static Message make_response(int status_code, std::string_view reason_phrase);

  // --- start line
  [[nodiscard]] MessageKind kind() const noexcept { return kind_; }
  [[nodiscard]] bool is_request() const noexcept { return kind_ == MessageKind::request; }
  [[nodiscard]] bool is_response() const noexcept { return kind_ == MessageKind::response; }
  [[nodiscard]] std::string_view method() const noexcept { return method_; }         // requests
  [[nodiscard]] std::string_view request_uri() const noexcept { return uri_; }       // requests
  [[nodiscard]] int status_code() const noexcept { return status_; }                 // responses
  [[nodiscard]] std::string_view reason_phrase() const noexcept { return reason_; }  // responses
  [[nodiscard]] std::string_view version() const noexcept { return version_; }

  // --- headers, in order of appearance
  [[nodiscard]] const std::vector<Header>& headers() const noexcept { return headers_; }
  // Lookup by name is case-insensitive and treats compact forms as their
  // long names ("v" finds "Via"). nullptr / nullopt when absent.
  [[nodiscard]] const Header* find(HeaderId id) const noexcept;
  [[nodiscard]] const Header* find(std::string_view name) const noexcept;
  [[nodiscard]] std::optional<std::string_view> value(HeaderId id) const noexcept;
  [[nodiscard]] std::optional<std::string_view> value(std::string_view name) const noexcept;
  [[nodiscard]] std::size_t count(HeaderId id) const noexcept;
  [[nodiscard]] std::size_t count(std::string_view name) const noexcept;
  // Every value of a header across repeated header lines; list headers
  // (is_list_header) are also split on top-level commas, with empty
  // elements dropped. Other headers yield one value per line.
  [[nodiscard]] std::vector<std::string_view> values(HeaderId id) const;
  [[nodiscard]] std::vector<std::string_view> values(std::string_view name) const;

  // --- body, byte-exact (may contain NUL)
  [[nodiscard]] std::string_view body() const noexcept { return body_; }

  // --- mutation (for building requests/responses and for proxy rewrites).
  // Header names must be tokens (else the call does nothing and returns
  // false). CR and LF in values are replaced by SP so that no caller can
  // inject header lines; values are trimmed.
  void set_method(std::string_view method);
  void set_request_uri(std::string_view uri);
  void set_status(int code, std::string_view reason_phrase);
  bool add_header(std::string_view name, std::string_view value);        // at the end
  bool add_header_front(std::string_view name, std::string_view value);  // first (e.g. Via)
  bool insert_header(std::size_t index, std::string_view name, std::string_view value);
  // Replaces the first header of that name in place and removes the rest;
  // appends when there is none.
  bool set_header(std::string_view name, std::string_view value);
  std::size_t remove_headers(HeaderId id);
  std::size_t remove_headers(std::string_view name);
  void remove_header_at(std::size_t index);  // no-op when out of range
  // Replaces the body. The serializer writes Content-Length from it.
  void set_body(std::string_view body);

 private:
  friend struct detail::MessageAccess;

  std::string_view keep(std::string_view text);
  [[nodiscard]] bool matches(const Header& h, HeaderId id, std::string_view name) const noexcept;
  bool make_header(std::string_view name, std::string_view value, Header& out);

  MessageKind kind_ = MessageKind::request;
  std::string_view method_;
  std::string_view uri_;
  std::string_view version_ = "SIP/2.0";
  int status_ = 0;
  std::string_view reason_;
  std::vector<Header> headers_;
  std::string_view body_;
  std::vector<std::shared_ptr<const std::string>> storage_;
};

}  // namespace sipsite::sip
