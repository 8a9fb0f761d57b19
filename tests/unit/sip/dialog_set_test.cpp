// DialogSet: which dialogs the site would end on a clean stop.

#include "sipsite/sip/proxy/dialog_set.hpp"
#include "sipsite/sip/message/parser.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sipsite::sip {
namespace {

using namespace std::chrono_literals;

Message parse(const std::string& text) {
  auto m = parse_datagram(text);
  EXPECT_TRUE(m) << text;
  return m ? std::move(*m) : Message{};
}

Message invite(const std::string& call_id) {
  return parse(
      "INVITE sip:bob@site.example SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK1\r\n"
      "From: <sip:alice@site.example>;tag=at\r\nTo: <sip:bob@site.example>\r\nCall-ID: " +
      call_id + "\r\nCSeq: 7 INVITE\r\nContact: <sip:alice@10.0.0.2>\r\nContent-Length: 0\r\n\r\n");
}

Message ok(const std::string& call_id, const std::string& to_tag, bool contact = true) {
  return parse(
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK1\r\n"
      "From: <sip:alice@site.example>;tag=at\r\nTo: <sip:bob@site.example>;tag=" +
      to_tag + "\r\nCall-ID: " + call_id + "\r\nCSeq: 7 INVITE\r\n" +
      (contact ? "Contact: <sip:bob@10.0.0.3>\r\n" : "") + "Content-Length: 0\r\n\r\n");
}

Message in_dialog(const std::string& method, const std::string& call_id, const std::string& from_tag,
                  const std::string& to_tag, int cseq) {
  return parse(method +
               " sip:x@10.0.0.9 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK2\r\n"
               "From: <sip:x@site.example>;tag=" +
               from_tag + "\r\nTo: <sip:y@site.example>;tag=" + to_tag + "\r\nCall-ID: " + call_id +
               "\r\nCSeq: " + std::to_string(cseq) + " " + method + "\r\nContent-Length: 0\r\n\r\n");
}

const Destination kAliceAt{{Protocol::udp, "10.0.0.2", 5060}, 0};
const Destination kBobAt{{Protocol::tcp, "10.0.0.3", 5070}, 9};

TEST(DialogSetTest, ForkedAnswersAreTwoDialogsAndRepeatsAreOne) {
  DialogSet set;
  const TimePoint t{};
  set.confirm(invite("c1"), kAliceAt, ok("c1", "b1"), kBobAt, t);
  set.confirm(invite("c1"), kAliceAt, ok("c1", "b1"), kBobAt, t);  // retransmitted 2xx
  set.confirm(invite("c1"), kAliceAt, ok("c1", "b2"), kBobAt, t);
  EXPECT_EQ(set.size(), 2U);
  set.on_request(in_dialog("BYE", "c1", "b1", "at", 1));  // the callee of the first hangs up
  EXPECT_EQ(set.size(), 1U);
  const auto left = set.take_all();
  ASSERT_EQ(left.size(), 1U);
  EXPECT_EQ(left[0].callee.tag, "b2");
  EXPECT_EQ(set.size(), 0U);
}

TEST(DialogSetTest, AnswersWithoutTagOrContactAreNoDialog) {
  DialogSet set;
  set.confirm(invite("c1"), kAliceAt, ok("c1", "b1", /*contact=*/false), kBobAt, TimePoint{});
  EXPECT_EQ(set.size(), 0U);
}

TEST(DialogSetTest, GoodbyeCarriesThePartiesAndACSeqAboveTheSendersHighest) {
  DialogSet set;
  set.confirm(invite("c1"), kAliceAt, ok("c1", "b1"), kBobAt, TimePoint{});
  set.on_request(in_dialog("INFO", "c1", "b1", "at", 30));
  set.on_request(in_dialog("INFO", "c1", "b1", "at", 12));  // out of order: the highest counts
  set.on_request(in_dialog("UPDATE", "c1", "at", "b1", 9));
  set.on_request(in_dialog("INFO", "c1", "zz", "at", 99));  // not this dialog
  const auto all = set.take_all();
  ASSERT_EQ(all.size(), 1U);
  const Dialog& d = all[0];
  EXPECT_EQ(d.caller.cseq, 9U);
  EXPECT_EQ(d.callee.cseq, 30U);
  EXPECT_EQ(d.caller.destination.endpoint, kAliceAt.endpoint);
  EXPECT_EQ(d.callee.destination.endpoint, kBobAt.endpoint);
  EXPECT_EQ(d.callee.destination.flow, kBobAt.flow);

  const Message to_caller = make_goodbye(d, true, "stop \"now\"");
  EXPECT_EQ(to_caller.request_uri(), "sip:alice@10.0.0.2");
  EXPECT_EQ(*to_caller.value(HeaderId::from), "<sip:bob@site.example>;tag=b1");
  EXPECT_EQ(*to_caller.value(HeaderId::to), "<sip:alice@site.example>;tag=at");
  EXPECT_EQ(*to_caller.value(HeaderId::cseq), "31 BYE");
  EXPECT_EQ(*to_caller.value(HeaderId::reason), "SIP;cause=503;text=\"stop now\"");
  const Message to_callee = make_goodbye(d, false, "stop");
  EXPECT_EQ(to_callee.request_uri(), "sip:bob@10.0.0.3");
  EXPECT_EQ(*to_callee.value(HeaderId::cseq), "10 BYE");
}

TEST(DialogSetTest, OldAndExcessDialogsAreForgotten) {
  DialogSet set{DialogLimits{3, std::chrono::hours(1)}};
  TimePoint t{};
  for (int i = 0; i < 5; ++i) {
    set.confirm(invite("c" + std::to_string(i)), kAliceAt, ok("c" + std::to_string(i), "b"), kBobAt, t);
    t += 1s;
  }
  EXPECT_EQ(set.size(), 3U);  // the two oldest went
  set.confirm(invite("late"), kAliceAt, ok("late", "b"), kBobAt, t + 2h);
  EXPECT_EQ(set.size(), 1U);  // every hour-old one went
  EXPECT_EQ(set.take_all().front().call_id, "late");
}

TEST(DialogSetTest, ManyShortCallsLeaveNothingBehind) {
  DialogSet set;
  TimePoint t{};
  for (int i = 0; i < 10000; ++i) {
    const std::string id = "c" + std::to_string(i);
    set.confirm(invite(id), kAliceAt, ok(id, "b"), kBobAt, t);
    set.on_request(in_dialog("BYE", id, "at", "b", 8));
    t += 1ms;
  }
  EXPECT_EQ(set.size(), 0U);
  EXPECT_TRUE(set.take_all().empty());
}

}  // namespace
}  // namespace sipsite::sip
