#include "sipsite/sip/message/parser.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sipsite::sip {
namespace {

std::string request(std::string_view extra_headers = "", std::string_view body = "") {
  std::string s =
      "OPTIONS sip:bob@example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP a.example;branch=z9hG4bK1\r\n"
      "To: <sip:bob@example.com>\r\n"
      "From: <sip:alice@example.com>;tag=1\r\n"
      "Call-ID: abc\r\n"
      "CSeq: 1 OPTIONS\r\n";
  s += extra_headers;
  s += "\r\n";
  s += body;
  return s;
}

ParseErrc code_of(std::string_view bytes, const ParseLimits& limits = {}) {
  auto r = parse_datagram(bytes, limits);
  EXPECT_FALSE(r) << bytes;
  return r ? ParseErrc::empty_message : r.error().code;
}

TEST(Parser, MinimalRequest) {
  const auto m = parse_datagram(request());
  ASSERT_TRUE(m) << m.error().reason;
  EXPECT_EQ(m->method(), "OPTIONS");
  EXPECT_EQ(m->headers().size(), 5U);
  EXPECT_TRUE(m->body().empty());
}

TEST(Parser, LeadingCrlfsAreSkipped) { EXPECT_TRUE(parse_datagram("\r\n\r\n" + request())); }

TEST(Parser, FoldingIsUnfolded) {
  const auto m = parse_datagram(request("Subject: first\r\n  second \r\n\tthird\r\nX-Empty:\r\n  \r\n"));
  ASSERT_TRUE(m) << m.error().reason;
  EXPECT_EQ(*m->value("Subject"), "first second third");
  EXPECT_EQ(*m->value("X-Empty"), "");
}

TEST(Parser, BodyWithoutContentLengthIsTheRest) {
  const auto m = parse_datagram(request("", "hello\r\nworld"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body(), "hello\r\nworld");
}

TEST(Parser, ShortContentLengthIgnoresSurplus) {
  const auto m = parse_datagram(request("Content-Length: 5\r\n", "helloJUNK"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body(), "hello");
}

TEST(Parser, ContentLengthErrors) {
  EXPECT_EQ(code_of(request("Content-Length: 50\r\n", "short")), ParseErrc::body_truncated);
  EXPECT_EQ(code_of(request("l: -1\r\n")), ParseErrc::bad_content_length);
  EXPECT_EQ(code_of(request("l: 0\r\nContent-Length: 0\r\n")), ParseErrc::multiple_content_length);
  EXPECT_EQ(code_of(request("Content-Length: 99999999999\r\n")), ParseErrc::bad_content_length);
}

TEST(Parser, StartLineErrors) {
  EXPECT_EQ(code_of("OPTIONS sip:a@b\r\n\r\n"), ParseErrc::bad_start_line);
  EXPECT_EQ(code_of("OPTIONS  sip:a@b SIP/2.0\r\n\r\n"), ParseErrc::bad_start_line);
  EXPECT_EQ(code_of("OPTIONS sip:a@b SIP/2.0 \r\n\r\n"), ParseErrc::bad_start_line);
  EXPECT_EQ(code_of("OPT(IONS sip:a@b SIP/2.0\r\n\r\n"), ParseErrc::bad_start_line);
  EXPECT_EQ(code_of("OPTIONS <sip:a@b> SIP/2.0\r\n\r\n"), ParseErrc::bad_request_uri);
  EXPECT_EQ(code_of("OPTIONS sip:a@b SIP/3.0\r\n\r\n"), ParseErrc::bad_version);
  EXPECT_EQ(code_of("OPTIONS sip:a@b HTTP/1.1\r\n\r\n"), ParseErrc::bad_start_line);
  EXPECT_EQ(code_of("SIP/2.0 99 Low\r\n\r\n"), ParseErrc::bad_status_code);
  EXPECT_EQ(code_of("SIP/2.0 700 High\r\n\r\n"), ParseErrc::bad_status_code);
  EXPECT_EQ(code_of("SIP/2.0 2000 OK\r\n\r\n"), ParseErrc::bad_status_code);
  EXPECT_EQ(code_of("SIP/2.0\r\n\r\n"), ParseErrc::bad_start_line);
}

TEST(Parser, StatusLineForms) {
  auto m = parse_datagram("SIP/2.0 200 OK fine\r\nVia: SIP/2.0/UDP h\r\n\r\n");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->is_response());
  EXPECT_EQ(m->status_code(), 200);
  EXPECT_EQ(m->reason_phrase(), "OK fine");
  m = parse_datagram("sip/2.0 180\r\n\r\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->reason_phrase(), "");
}

TEST(Parser, HeaderLineErrors) {
  EXPECT_EQ(code_of(request("NoColon\r\n")), ParseErrc::bad_header_line);
  EXPECT_EQ(code_of(request("Bad Name: x\r\n")), ParseErrc::bad_header_line);
  EXPECT_EQ(code_of(request(": x\r\n")), ParseErrc::bad_header_line);
  EXPECT_EQ(code_of("OPTIONS sip:a@b SIP/2.0\r\n folded-start: x\r\n\r\n"), ParseErrc::bad_header_line);
  EXPECT_EQ(code_of(request("X: a\nY: b\r\n")), ParseErrc::bad_line_ending);
  EXPECT_EQ(code_of(request("X: a\rb\r\n")), ParseErrc::bad_line_ending);
}

TEST(Parser, TruncatedAndEmpty) {
  const auto full = request();
  EXPECT_EQ(code_of(""), ParseErrc::empty_message);
  EXPECT_EQ(code_of("\r\n\r\n"), ParseErrc::empty_message);
  for (std::size_t n = 1; n + 2 < full.size(); ++n) {
    const auto r = parse_datagram(std::string_view(full).substr(0, n));
    EXPECT_FALSE(r) << n;
  }
}

TEST(Parser, Limits) {
  ParseLimits limits;
  limits.max_message_size = 300;
  EXPECT_EQ(code_of(request("", std::string(400, 'x')), limits), ParseErrc::message_too_large);
  limits = {};
  limits.max_headers = 5;
  EXPECT_EQ(code_of(request("X: 1\r\n"), limits), ParseErrc::too_many_headers);
  limits = {};
  limits.max_line_length = 100;
  EXPECT_EQ(code_of(request("X: " + std::string(200, 'a') + "\r\n"), limits), ParseErrc::line_too_long);
  // default limits: a huge header and a huge header count
  EXPECT_EQ(code_of(request("X: " + std::string(9000, 'a') + "\r\n")), ParseErrc::line_too_long);
  std::string many;
  for (int i = 0; i < 200; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(code_of(request(many)), ParseErrc::too_many_headers);
  EXPECT_EQ(code_of(request("", std::string(70000, 'b'))), ParseErrc::message_too_large);
}

TEST(Parser, BinaryGarbageNeverCrashes) {
  std::mt19937 rng(4475);
  std::uniform_int_distribution<int> byte(0, 255);
  const auto base = request("Content-Length: 4\r\n", "body");
  for (int round = 0; round < 2000; ++round) {
    std::string s = base;
    const int flips = 1 + round % 8;
    for (int i = 0; i < flips; ++i) {
      s[static_cast<std::size_t>(rng()) % s.size()] = static_cast<char>(byte(rng));
    }
    (void)parse_datagram(s);
    std::string garbage(static_cast<std::size_t>(round % 300), '\0');
    for (auto& c : garbage) c = static_cast<char>(byte(rng));
    const auto r = parse_datagram(garbage);
    if (r) {
      EXPECT_TRUE(r->is_request() || r->is_response());
    }
  }
}

}  // namespace
}  // namespace sipsite::sip
