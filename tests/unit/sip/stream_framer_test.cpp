#include "sipsite/sip/message/stream_framer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipsite::sip {
namespace {

using Type = StreamEvent::Type;

std::string message(std::string_view call_id, std::string_view body) {
  std::string s =
      "MESSAGE sip:bob@example.com SIP/2.0\r\n"
      "Via: SIP/2.0/TCP a.example;branch=z9hG4bK1\r\n"
      "To: <sip:bob@example.com>\r\n"
      "From: <sip:alice@example.com>;tag=1\r\n"
      "Call-ID: ";
  s += call_id;
  s += "\r\nCSeq: 1 MESSAGE\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  s += body;
  return s;
}

std::vector<StreamEvent> drain(StreamFramer& f) {
  std::vector<StreamEvent> out;
  for (auto ev = f.next(); ev.type != Type::need_more; ev = f.next()) {
    const bool fatal = ev.type == Type::fatal;
    out.push_back(std::move(ev));
    if (fatal) break;
  }
  return out;
}

TEST(StreamFramer, ByteAtATime) {
  const auto bytes = message("one", "hello\r\n\r\nworld") + "\r\n\r\n" + message("two", "");
  StreamFramer f;
  std::vector<StreamEvent> events;
  for (char c : bytes) {
    f.feed(std::string_view(&c, 1));
    for (auto& ev : drain(f)) events.push_back(std::move(ev));
  }
  ASSERT_EQ(events.size(), 3U);
  EXPECT_EQ(events[0].type, Type::message);
  EXPECT_EQ(events[0].message->body(), "hello\r\n\r\nworld");
  EXPECT_EQ(events[1].type, Type::ping);
  EXPECT_EQ(events[2].type, Type::message);
  EXPECT_EQ(*events[2].message->value("Call-ID"), "two");
  EXPECT_EQ(f.buffered(), 0U);
}

TEST(StreamFramer, SeveralMessagesInOneChunk) {
  StreamFramer f;
  f.feed(message("a", "1") + message("b", "22") + message("c", "333").substr(0, 40));
  auto events = drain(f);
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].message->body(), "1");
  EXPECT_EQ(events[1].message->body(), "22");
  f.feed(message("c", "333").substr(40));
  events = drain(f);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].message->body(), "333");
}

TEST(StreamFramer, CrlfKeepAlives) {
  StreamFramer f;
  f.feed("\r\n\r\n\r\n\r\n");
  auto events = drain(f);
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].type, Type::ping);
  EXPECT_EQ(events[1].type, Type::ping);
  // a lone CRLF (a pong, or stray) before a message is skipped
  f.feed("\r\n" + message("x", ""));
  events = drain(f);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].type, Type::message);
  // a partial ping waits
  f.feed("\r\n\r");
  EXPECT_TRUE(drain(f).empty());
  f.feed("\n");
  events = drain(f);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].type, Type::ping);
}

TEST(StreamFramer, MissingContentLengthIsFatal) {
  StreamFramer f;
  f.feed("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n");
  auto events = drain(f);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].type, Type::fatal);
  EXPECT_EQ(events[0].error->code, ParseErrc::missing_content_length);
  EXPECT_FALSE(events[0].raw.empty());
  EXPECT_TRUE(f.failed());
  f.feed(message("later", ""));
  EXPECT_EQ(f.next().type, Type::fatal);  // stays failed
}

TEST(StreamFramer, BadContentLengthIsFatal) {
  for (const char* cl : {"Content-Length: -999\r\n", "Content-Length: 13\r\nl: 5\r\n", "l: x\r\n"}) {
    StreamFramer f;
    f.feed(std::string("OPTIONS sip:a@b SIP/2.0\r\n") + cl + "\r\n");
    const auto ev = f.next();
    EXPECT_EQ(ev.type, Type::fatal) << cl;
  }
}

TEST(StreamFramer, MalformedButFramedMessageKeepsTheStream) {
  StreamFramer f;
  f.feed("OPTIONS <sip:a@b> SIP/2.0\r\nContent-Length: 2\r\n\r\nhi" + message("next", ""));
  const auto events = drain(f);
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].type, Type::bad_message);
  EXPECT_EQ(events[0].error->code, ParseErrc::bad_request_uri);
  EXPECT_EQ(events[0].raw.substr(0, 7), "OPTIONS");
  EXPECT_EQ(events[1].type, Type::message);
}

TEST(StreamFramer, Limits) {
  ParseLimits limits;
  limits.max_message_size = 512;
  {
    StreamFramer f(limits);
    f.feed("OPTIONS sip:a@b SIP/2.0\r\nX: ");
    for (int i = 0; i < 10; ++i) f.feed(std::string(100, 'a'));
    const auto ev = f.next();
    EXPECT_EQ(ev.type, Type::fatal);
    EXPECT_EQ(ev.error->code, ParseErrc::message_too_large);
  }
  {
    StreamFramer f(limits);
    f.feed("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 100000\r\n\r\n");
    const auto ev = f.next();
    EXPECT_EQ(ev.type, Type::fatal);
    EXPECT_EQ(ev.error->code, ParseErrc::message_too_large);
  }
}

TEST(StreamFramer, LongConnectionDoesNotGrow) {
  StreamFramer f;
  const auto one = message("loop", std::string(100, 'z'));
  for (int i = 0; i < 2000; ++i) {
    f.feed(one.substr(0, 50));
    EXPECT_TRUE(drain(f).empty());
    f.feed(one.substr(50));
    const auto events = drain(f);
    ASSERT_EQ(events.size(), 1U);
    ASSERT_EQ(events[0].type, Type::message);
  }
  EXPECT_EQ(f.buffered(), 0U);
}

}  // namespace
}  // namespace sipsite::sip
