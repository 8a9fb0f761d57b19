#pragma once
// Writing a Message to wire bytes.

#include "sipsite/sip/message/message.hpp"

#include <string>

namespace sipsite::sip {

// Start line, then every header in order as "Name: value" CRLF, then
// "Content-Length: <body size>", an empty line and the body byte-exact.
// Known headers are written with their canonical long name ("v" and "VIA"
// become "Via"); unknown ones as they were written. Any Content-Length
// headers in the message are ignored: the one written always matches the
// body, so edits never desynchronise framing.
[[nodiscard]] std::string serialize(const Message& message);
void serialize_to(const Message& message, std::string& out);

}  // namespace sipsite::sip
