#include "sipsite/sip/message/accessors.hpp"
#include "sipsite/sip/message/parser.hpp"
#include "sipsite/sip/message/response.hpp"
#include "sipsite/sip/message/serializer.hpp"
#include "sipsite/sip/message/validate.hpp"

#include <gtest/gtest.h>

namespace sipsite::sip {
namespace {

constexpr std::string_view kRequest =
    "INVITE sip:bob@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP p1.example;branch=z9hG4bKa\r\n"
    "Via: SIP/2.0/UDP ua.example;branch=z9hG4bKb;rport\r\n"
    "Max-Forwards: 69\r\n"
    "To: Bob <sip:bob@example.com>\r\n"
    "From: Alice <sip:alice@example.com>;tag=9fxced76sl\r\n"
    "Call-ID: 3848276298220188511@ua.example\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Timestamp: 54\r\n"
    "Contact: <sip:alice@ua.example>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

TEST(Response, CopiesWhatRfc3261Requires) {
  const auto req = parse_datagram(kRequest);
  ASSERT_TRUE(req);
  const auto resp = make_response(*req, 486, "Busy Here", "totag1");
  EXPECT_TRUE(resp.is_response());
  EXPECT_EQ(resp.status_code(), 486);
  const auto vias = resp.values(HeaderId::via);
  ASSERT_EQ(vias.size(), 2U);
  EXPECT_EQ(vias[0], "SIP/2.0/UDP p1.example;branch=z9hG4bKa");
  EXPECT_EQ(*resp.value("From"), "Alice <sip:alice@example.com>;tag=9fxced76sl");
  EXPECT_EQ(*resp.value("To"), "Bob <sip:bob@example.com>;tag=totag1");
  EXPECT_EQ(*resp.value("Call-ID"), "3848276298220188511@ua.example");
  EXPECT_EQ(*resp.value("CSeq"), "314159 INVITE");
  EXPECT_FALSE(resp.find("Contact"));
  EXPECT_FALSE(resp.find("Timestamp"));
  const auto wire = parse_datagram(serialize(resp));
  ASSERT_TRUE(wire);
  EXPECT_TRUE(validate(*wire));
}

TEST(Response, TryingKeepsTimestampAndAddsNoTag) {
  const auto req = parse_datagram(kRequest);
  const auto resp = make_response(*req, 100, "Trying");
  EXPECT_EQ(*resp.value("Timestamp"), "54");
  EXPECT_EQ(*resp.value("To"), "Bob <sip:bob@example.com>");
}

TEST(Response, ExistingTagKeptAndStatelessTagDeterministic) {
  auto req = parse_datagram(kRequest);
  const auto a = make_response(*req, 404, "Not Found");
  const auto b = make_response(*req, 404, "Not Found");
  EXPECT_EQ(*a.value("To"), *b.value("To"));
  EXPECT_EQ(to_header(a)->tag()->size(), 16U);
  req->set_header("To", "<sip:bob@example.com>;tag=existing");
  EXPECT_EQ(*make_response(*req, 200, "OK").value("To"), "<sip:bob@example.com>;tag=existing");
  EXPECT_NE(stateless_to_tag("a", "b", "c"), stateless_to_tag("a", "b", "d"));
}

TEST(ErrorResponse, ForAMalformedRequest) {
  std::string bad(kRequest);
  bad.replace(bad.find("CSeq: 314159 INVITE"), 19, "CSeq: 314159 BYE");
  const auto m = parse_datagram(bad);
  ASSERT_TRUE(m);
  const auto v = validate(*m);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ParseErrc::cseq_method_mismatch);
  const auto answer = make_error_response(bad, v.error(), "t");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->substr(0, 52), "SIP/2.0 400 Bad Request (CSeq method does not match)");
  EXPECT_NE(answer->find("To: Bob <sip:bob@example.com>;tag=t\r\n"), std::string::npos);
  EXPECT_NE(answer->find("CSeq: 314159 BYE\r\n"), std::string::npos);
}

TEST(ErrorResponse, TooLargeAndVersion) {
  std::string big(kRequest);
  big += std::string(70000, 'x');
  const auto r = parse_datagram(big);
  ASSERT_FALSE(r);
  const auto answer = make_error_response(big, r.error());
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->substr(0, 29), "SIP/2.0 513 Message Too Large");
}

TEST(ErrorResponse, DropsResponsesAndUnanswerables) {
  const ParseError e{ParseErrc::bad_cseq, MessageKind::response, "x"};
  EXPECT_EQ(error_status(e).action, ErrorAction::drop);
  EXPECT_FALSE(make_error_response("SIP/2.0 200 OK\r\n\r\n", e));
  const ParseError req_err{ParseErrc::bad_start_line, MessageKind::request, "x"};
  EXPECT_FALSE(make_error_response("garbage", req_err));
  EXPECT_FALSE(make_error_response("", req_err));
  EXPECT_FALSE(
      make_error_response("INVITE x\r\nVia: nonsense\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 X\r\n\r\n", req_err));
  EXPECT_TRUE(make_error_response("INVITE x\nVia: SIP/2.0/UDP h\nFrom: a\nTo: b\nCall-ID: c\nCSeq: 1 X\n", req_err));
  EXPECT_FALSE(make_error_response("\r\n", ParseError{ParseErrc::empty_message, MessageKind::request, ""}));
}

TEST(ErrorStatus, Mapping) {
  const auto status = [](ParseErrc c) { return error_status(ParseError{c, MessageKind::request, ""}); };
  EXPECT_EQ(status(ParseErrc::bad_version).code, 505);
  EXPECT_EQ(status(ParseErrc::message_too_large).code, 513);
  EXPECT_EQ(status(ParseErrc::too_many_headers).code, 513);
  EXPECT_EQ(status(ParseErrc::bad_via).reason, "Bad Request (malformed Via)");
  EXPECT_EQ(status(ParseErrc::bad_status_code).action, ErrorAction::drop);
  EXPECT_EQ(status(ParseErrc::empty_message).action, ErrorAction::drop);
  for (int c = 0; c <= static_cast<int>(ParseErrc::headers_in_request_uri); ++c) {
    const auto code = static_cast<ParseErrc>(c);
    const auto s = status(code);
    EXPECT_NE(to_string(code), "unknown");
    if (s.action == ErrorAction::respond) {
      EXPECT_TRUE(s.code == 400 || s.code == 505 || s.code == 513) << to_string(code);
      EXPECT_FALSE(s.reason.empty());
    }
  }
}

}  // namespace
}  // namespace sipsite::sip
