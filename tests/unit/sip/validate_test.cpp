#include "sipsite/sip/message/accessors.hpp"
#include "sipsite/sip/message/parser.hpp"
#include "sipsite/sip/message/validate.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sipsite::sip {
namespace {

constexpr std::string_view kVia = "Via: SIP/2.0/UDP a.example;branch=z9hG4bK1\r\n";
constexpr std::string_view kTo = "To: <sip:bob@example.com>\r\n";
constexpr std::string_view kFrom = "From: <sip:alice@example.com>;tag=1\r\n";
constexpr std::string_view kCallId = "Call-ID: abc\r\n";
constexpr std::string_view kCSeq = "CSeq: 1 OPTIONS\r\n";

std::string build(std::string_view start, std::initializer_list<std::string_view> headers) {
  std::string s(start);
  s += "\r\n";
  for (auto h : headers) s += h;
  s += "\r\n";
  return s;
}

Result<void> check(const std::string& bytes) {
  auto m = parse_datagram(bytes);
  EXPECT_TRUE(m) << bytes;
  if (!m) return m.error();
  return validate(*m);
}

ParseErrc fails_with(const std::string& bytes) {
  auto r = check(bytes);
  EXPECT_FALSE(r) << bytes;
  return r ? ParseErrc::empty_message : r.error().code;
}

constexpr std::string_view kOptions = "OPTIONS sip:bob@example.com SIP/2.0";

TEST(Validate, MinimalRequestWithoutMaxForwards) {
  EXPECT_TRUE(check(build(kOptions, {kVia, kTo, kFrom, kCallId, kCSeq})));
}

TEST(Validate, MissingRequiredHeaders) {
  EXPECT_EQ(fails_with(build(kOptions, {kTo, kFrom, kCallId, kCSeq})), ParseErrc::missing_via);
  EXPECT_EQ(fails_with(build(kOptions, {kVia, kFrom, kCallId, kCSeq})), ParseErrc::missing_to);
  EXPECT_EQ(fails_with(build(kOptions, {kVia, kTo, kCallId, kCSeq})), ParseErrc::missing_from);
  EXPECT_EQ(fails_with(build(kOptions, {kVia, kTo, kFrom, kCSeq})), ParseErrc::missing_call_id);
  EXPECT_EQ(fails_with(build(kOptions, {kVia, kTo, kFrom, kCallId})), ParseErrc::missing_cseq);
}

TEST(Validate, DuplicatesAndMismatch) {
  EXPECT_EQ(fails_with(build(kOptions, {kVia, kTo, kTo, kFrom, kCallId, kCSeq})), ParseErrc::duplicate_header);
  EXPECT_EQ(
      fails_with(build(kOptions, {kVia, kTo, kFrom, kCallId, kCSeq, "Max-Forwards: 1\r\n", "Max-Forwards: 2\r\n"})),
      ParseErrc::duplicate_header);
  EXPECT_EQ(fails_with(build(kOptions, {kVia, kTo, kFrom, kCallId, "CSeq: 1 options\r\n"})),
            ParseErrc::cseq_method_mismatch);
}

TEST(Validate, MalformedValues) {
  EXPECT_EQ(fails_with(build(kOptions, {"Via: SIP/2.0/UDP\r\n", kTo, kFrom, kCallId, kCSeq})), ParseErrc::bad_via);
  EXPECT_EQ(fails_with(build(kOptions, {kVia, kTo, kFrom, kCallId, kCSeq, "Max-Forwards: x\r\n"})),
            ParseErrc::bad_max_forwards);
  EXPECT_EQ(fails_with(build(kOptions, {kVia, kTo, kFrom, kCallId, kCSeq, "Contact: <sip:a@b>;;\r\n"})),
            ParseErrc::bad_contact);
  EXPECT_EQ(fails_with(build(kOptions, {kVia, kTo, kFrom, kCallId, kCSeq, "Expires: soon\r\n"})),
            ParseErrc::bad_expires);
  EXPECT_EQ(fails_with(build(kOptions, {kVia, kTo, kFrom, "Call-ID: a b\r\n", kCSeq})), ParseErrc::bad_call_id);
  EXPECT_EQ(fails_with(build("OPTIONS sip:bob@example.com?Route=x SIP/2.0", {kVia, kTo, kFrom, kCallId, kCSeq})),
            ParseErrc::headers_in_request_uri);
}

TEST(Validate, Responses) {
  const auto ok = build("SIP/2.0 200 OK", {kVia, kTo, kFrom, kCallId, kCSeq});
  EXPECT_TRUE(check(ok));
  auto r = check(build("SIP/2.0 200 OK", {kVia, kTo, kFrom, kCSeq}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, MessageKind::response);
  EXPECT_EQ(error_status(r.error()).action, ErrorAction::drop);
}

TEST(Validate, ContactStar) {
  const auto m =
      parse_datagram(build("REGISTER sip:example.com SIP/2.0",
                           {kVia, kTo, kFrom, kCallId, "CSeq: 1 REGISTER\r\n", "Contact: *\r\n", "Expires: 0\r\n"}));
  ASSERT_TRUE(m);
  EXPECT_TRUE(validate(*m));
  EXPECT_TRUE(contact_headers(*m)->star);
  const auto two =
      parse_datagram(build("REGISTER sip:example.com SIP/2.0", {kVia, kTo, kFrom, kCallId, "CSeq: 1 REGISTER\r\n",
                                                                "Contact: *\r\n", "Contact: <sip:a@b>\r\n"}));
  EXPECT_EQ(validate(*two).error().code, ParseErrc::bad_contact);
}

}  // namespace
}  // namespace sipsite::sip
