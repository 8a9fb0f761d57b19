#pragma once
// Lets the parser assemble a Message from views into a buffer it hands over.
// Internal header.

#include "sipsite/sip/message/message.hpp"

namespace sipsite::sip::detail {

struct MessageAccess {
  static void adopt(Message& m, std::shared_ptr<const std::string> buffer) { m.storage_.push_back(std::move(buffer)); }
  static void request_line(Message& m, std::string_view method, std::string_view uri, std::string_view version) {
    m.kind_ = MessageKind::request;
    m.method_ = method;
    m.uri_ = uri;
    m.version_ = version;
  }
  static void status_line(Message& m, std::string_view version, int code, std::string_view reason) {
    m.kind_ = MessageKind::response;
    m.version_ = version;
    m.status_ = code;
    m.reason_ = reason;
  }
  static std::vector<Header>& headers(Message& m) { return m.headers_; }
  static void body(Message& m, std::string_view body) { m.body_ = body; }
};

}  // namespace sipsite::sip::detail
