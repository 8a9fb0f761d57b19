// RFC 4475 torture messages: every file in the shared corpus, byte-exact,
// through parse_datagram + validate, with the verdict each one must get, and
// the key facts of the valid ones checked one by one.

#include "sipsite/sip/message/accessors.hpp"
#include "sipsite/sip/message/parser.hpp"
#include "sipsite/sip/message/response.hpp"
#include "sipsite/sip/message/serializer.hpp"
#include "sipsite/sip/message/stream_framer.hpp"
#include "sipsite/sip/message/uri.hpp"
#include "sipsite/sip/message/validate.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace sipsite::sip {
namespace {

using test::rfc4475;

struct Verdict {
  std::optional<ParseErrc> error;  // nullopt: parses and validates
  int status = 0;                  // error_status code; 0 = drop
  bool answered = false;           // make_error_response produces bytes
};

constexpr Verdict kAccept{};
constexpr Verdict reject(ParseErrc e, int status, bool answered) { return {e, status, answered}; }

// The expected handling of every file in the corpus (INDEX.md). Liberal
// acceptance is allowed for several invalid messages; this parser is strict
// where the grammar is clear and never forwards what it cannot parse.
const std::map<std::string, Verdict>& expectations() {
  static const std::map<std::string, Verdict> table{
      // 3.1.1 valid messages
      {"wsinv", kAccept},
      {"intmeth", kAccept},
      {"esc01", kAccept},
      {"escnull", kAccept},
      {"esc02", kAccept},
      {"lwsdisp", kAccept},
      {"longreq", kAccept},
      {"dblreq", kAccept},
      {"semiuri", kAccept},
      {"transports", kAccept},
      {"mpart01", kAccept},
      {"unreason", kAccept},
      {"noreason", kAccept},
      // 3.1.2 invalid messages
      {"badinv01", reject(ParseErrc::bad_via, 400, false)},  // no usable Via to answer to
      {"clerr", reject(ParseErrc::body_truncated, 400, true)},
      {"ncl", reject(ParseErrc::bad_content_length, 400, true)},
      {"scalar02", reject(ParseErrc::bad_cseq, 400, true)},
      {"scalarlg", reject(ParseErrc::bad_cseq, 0, false)},  // response: drop
      {"quotbal", reject(ParseErrc::bad_to, 400, true)},
      {"ltgtruri", reject(ParseErrc::bad_request_uri, 400, true)},
      {"lwsruri", reject(ParseErrc::bad_start_line, 400, true)},
      {"lwsstart", reject(ParseErrc::bad_start_line, 400, true)},
      {"trws", reject(ParseErrc::bad_start_line, 400, true)},
      {"escruri", reject(ParseErrc::headers_in_request_uri, 400, true)},
      {"baddate", kAccept},  // Date is not used for processing: ignored
      {"regbadct", reject(ParseErrc::bad_contact, 400, true)},
      {"badaspec", reject(ParseErrc::bad_to, 400, true)},
      {"baddn", reject(ParseErrc::incomplete_headers, 400, true)},
      {"baddn.crlf-fixed", reject(ParseErrc::bad_from, 400, true)},
      {"badvers", reject(ParseErrc::bad_version, 505, true)},
      {"mismatch01", reject(ParseErrc::cseq_method_mismatch, 400, true)},
      {"mismatch02", reject(ParseErrc::cseq_method_mismatch, 400, true)},
      {"bigcode", reject(ParseErrc::bad_status_code, 0, false)},  // response: drop
      // 3.2 transaction layer semantics: syntax is fine
      {"badbranch", kAccept},
      // 3.3 application layer semantics
      {"insuf", reject(ParseErrc::missing_from, 400, false)},  // no From/To/Call-ID to answer with
      {"unkscm", kAccept},
      {"novelsc", kAccept},
      {"unksm2", kAccept},
      {"bext01", kAccept},
      {"invut", kAccept},
      {"regaut01", kAccept},
      {"multi01", reject(ParseErrc::duplicate_header, 400, true)},
      {"mcl01", reject(ParseErrc::multiple_content_length, 400, true)},
      {"bcast", kAccept},
      {"zeromf", kAccept},
      {"cparam01", kAccept},
      {"cparam02", kAccept},
      {"regescrt", kAccept},
      {"sdp01", kAccept},
      // 3.4 backward compatibility
      {"inv2543", kAccept},
      // stray archive member: no SIP-Version, a header line without colon
      {"test", reject(ParseErrc::bad_start_line, 400, false)},
  };
  return table;
}

Result<Message> parse_and_validate(std::string_view bytes) {
  auto m = parse_datagram(bytes);
  if (!m) return m;
  if (auto v = validate(*m); !v) return v.error();
  return m;
}

TEST(Rfc4475, TableCoversEveryFileInTheCorpus) {
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(test::rfc4475_dir())) {
    if (entry.path().extension() == ".sip") {
      files.insert(entry.path().filename().string().substr(0, entry.path().filename().string().size() - 4));
    }
  }
  std::set<std::string> table;
  for (const auto& [name, verdict] : expectations()) table.insert(name);
  EXPECT_EQ(files, table);
  EXPECT_EQ(files.size(), 51U);
}

class Rfc4475File : public ::testing::TestWithParam<std::string> {};

TEST_P(Rfc4475File, GetsItsVerdict) {
  const auto& name = GetParam();
  const auto& expected = expectations().at(name);
  const auto bytes = rfc4475(name);
  const auto result = parse_and_validate(bytes);
  if (!expected.error) {
    ASSERT_TRUE(result) << name << ": " << to_string(result.error().code) << " " << result.error().reason;
    return;
  }
  ASSERT_FALSE(result) << name << " should be rejected";
  EXPECT_EQ(to_string(result.error().code), to_string(*expected.error)) << result.error().reason;
  const auto status = error_status(result.error());
  EXPECT_EQ(status.code, expected.status);
  EXPECT_EQ(status.action, expected.status == 0 ? ErrorAction::drop : ErrorAction::respond);

  const auto answer = make_error_response(bytes, result.error());
  ASSERT_EQ(answer.has_value(), expected.answered);
  if (answer) {
    // The answer parses as a response with the mapped status. From, To and
    // CSeq are echoed verbatim, so they are only as valid as the request's;
    // a To that parses gets a tag.
    const auto response = parse_datagram(*answer);
    ASSERT_TRUE(response) << *answer;
    EXPECT_EQ(response->status_code(), expected.status);
    EXPECT_EQ(response->reason_phrase(), status.reason);
    EXPECT_TRUE(via_headers(*response)) << *answer;
    EXPECT_TRUE(call_id_header(*response)) << *answer;
    const auto to = to_header(*response);
    if (to) {
      EXPECT_TRUE(to->tag()) << *answer;
    }
  }
}

// Valid messages survive serialize -> parse unchanged in meaning, and
// serializing is idempotent after the first pass.
class Rfc4475Valid : public ::testing::TestWithParam<std::string> {};

TEST_P(Rfc4475Valid, RoundTrips) {
  const auto& name = GetParam();
  const auto first = parse_datagram(rfc4475(name));
  ASSERT_TRUE(first);
  const auto wire = serialize(*first);
  const auto second = parse_and_validate(wire);
  ASSERT_TRUE(second) << name << ": " << second.error().reason << "\n" << wire;
  EXPECT_EQ(second->method(), first->method());
  EXPECT_EQ(second->request_uri(), first->request_uri());
  EXPECT_EQ(second->status_code(), first->status_code());
  EXPECT_EQ(second->reason_phrase(), first->reason_phrase());
  EXPECT_EQ(second->body(), first->body());
  ASSERT_EQ(second->headers().size(), first->headers().size() + (first->find(HeaderId::content_length) ? 0 : 1));
  EXPECT_EQ(serialize(*second), wire);
}

// Over a stream, framing is by Content-Length; the verdict must not depend
// on how the bytes are split, and nothing may crash.
TEST_P(Rfc4475File, StreamFramingIsSplitIndependent) {
  const auto bytes = rfc4475(GetParam());
  const auto run = [&bytes](std::size_t chunk) {
    StreamFramer framer;
    std::string trace;
    for (std::size_t i = 0; i < bytes.size(); i += chunk) {
      framer.feed(std::string_view(bytes).substr(i, chunk));
      for (auto ev = framer.next(); ev.type != StreamEvent::Type::need_more; ev = framer.next()) {
        trace += std::to_string(static_cast<int>(ev.type));
        if (ev.error) trace += to_string(ev.error->code);
        if (ev.message) trace += serialize(*ev.message);
        if (ev.type == StreamEvent::Type::fatal) return trace;
      }
    }
    return trace;
  };
  const auto whole = run(bytes.size());
  EXPECT_EQ(run(1), whole);
  EXPECT_EQ(run(7), whole);
}

// The same, split into two reads at every offset, and with the message
// repeated three times in one read (several messages per read).
TEST_P(Rfc4475File, StreamFramingAtEveryOffsetAndBackToBack) {
  const auto bytes = rfc4475(GetParam());
  std::size_t events = 0;
  const auto trace_of = [&events](const std::vector<std::string_view>& reads) {
    StreamFramer framer;
    std::string trace;
    events = 0;
    for (const auto read : reads) {
      framer.feed(read);
      for (auto ev = framer.next(); ev.type != StreamEvent::Type::need_more; ev = framer.next()) {
        ++events;
        trace += std::to_string(static_cast<int>(ev.type));
        if (ev.error) trace += to_string(ev.error->code);
        if (ev.message) trace += serialize(*ev.message);
        if (ev.type == StreamEvent::Type::fatal) return trace;
      }
    }
    return trace;
  };
  const std::string_view all(bytes);
  const auto whole = trace_of({all});
  const bool single_message = events == 1 && whole.front() == '0' + static_cast<int>(StreamEvent::Type::message);
  for (std::size_t k = 1; k < bytes.size(); ++k) {
    ASSERT_EQ(trace_of({all.substr(0, k), all.substr(k)}), whole) << "split at " << k;
  }
  const std::string thrice = bytes + bytes + bytes;
  const auto repeated = trace_of({thrice});
  if (single_message) {
    // A message that frames exactly comes out three times.
    EXPECT_EQ(repeated, whole + whole + whole);
  }
}

std::vector<std::string> file_names(bool valid_only) {
  std::vector<std::string> names;
  for (const auto& [name, verdict] : expectations()) {
    if (!valid_only || !verdict.error) names.push_back(name);
  }
  return names;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& p) {
  std::string n = p.param;
  for (auto& c : n) {
    if (c == '.' || c == '-') c = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(AllFiles, Rfc4475File, ::testing::ValuesIn(file_names(false)), test_name);
INSTANTIATE_TEST_SUITE_P(ValidFiles, Rfc4475Valid, ::testing::ValuesIn(file_names(true)), test_name);

Message must_parse(std::string_view name) {
  auto m = parse_and_validate(rfc4475(name));
  if (!m) ADD_FAILURE() << name << ": " << m.error().reason;
  return m ? std::move(*m) : Message{};
}

TEST(Rfc4475Facts, Wsinv) {
  const auto m = must_parse("wsinv");
  EXPECT_EQ(m.method(), "INVITE");
  EXPECT_EQ(m.request_uri(), "sip:vivekg@chair-dnrc.example.com;unknownparam");
  EXPECT_EQ(*to_header(m)->tag(), "1918181833n");
  const auto from = from_header(m);
  EXPECT_EQ(from->display_name_text(), "J Rosenberg \\\"");
  EXPECT_EQ(*from->tag(), "98asjd8");
  EXPECT_EQ(**max_forwards_header(m), 68U);
  EXPECT_EQ(cseq_header(m)->number, 9U);
  EXPECT_EQ(cseq_header(m)->method, "INVITE");
  const auto vias = via_headers(m);
  ASSERT_EQ(vias->size(), 3U);
  EXPECT_EQ((*vias)[0].transport, "UDP");
  EXPECT_EQ((*vias)[0].host, "192.0.2.2");
  EXPECT_EQ(*(*vias)[0].branch(), "390skdjuw");
  EXPECT_EQ((*vias)[1].transport, "TCP");
  EXPECT_EQ((*vias)[1].host, "spindle.example.com");
  EXPECT_EQ(*(*vias)[1].branch(), "z9hG4bK9ikj8");
  EXPECT_EQ((*vias)[2].host, "192.168.255.111");
  EXPECT_EQ(*(*vias)[2].branch(), "z9hG4bK30239");
  EXPECT_EQ(*m.value("NewFangledHeader"), "newfangled value continued newfangled value");
  EXPECT_EQ(*m.value("UnknownHeaderWithUnusualValue"), ";;,,;;,;");
  EXPECT_EQ(*m.value(HeaderId::subject), "");
  const auto contacts = contact_headers(m);
  ASSERT_EQ(contacts->contacts.size(), 1U);
  EXPECT_EQ(contacts->contacts[0].display_name_text(), "Quoted string \"\"");
  EXPECT_EQ(*find_param(contacts->contacts[0].params, "q")->value, "0.33");
  EXPECT_EQ(*find_param(contacts->contacts[0].params, "newparam")->value, "newvalue");
  EXPECT_EQ(m.body().size(), 150U);
}

TEST(Rfc4475Facts, Intmeth) {
  const auto m = must_parse("intmeth");
  EXPECT_EQ(m.method(), "!interesting-Method0123456789_*+`.%indeed'~");
  EXPECT_EQ(cseq_header(m)->method, m.method());
  const auto uri = parse_uri(m.request_uri());
  ASSERT_TRUE(uri && uri->sip());
  EXPECT_EQ(uri->sip()->user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  EXPECT_EQ(*uri->sip()->password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  EXPECT_EQ(uri->sip()->host, "example.com");
  const auto to = to_header(m);
  EXPECT_EQ(to->display_name_text(), std::string("BEL:\x07 NUL:", 10) + std::string(1, '\0') + " DEL:\x7f");
  EXPECT_EQ(*from_header(m)->tag(), "_token~1'+`*%!-.");
  EXPECT_EQ(from_header(m)->display_name, "token1~` token2'+_ token3*%!.-");
  EXPECT_EQ(*call_id_header(m), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
  EXPECT_TRUE(m.find("extensionHeader-!.%*+_`'~"));
}

TEST(Rfc4475Facts, Esc01) {
  const auto m = must_parse("esc01");
  EXPECT_EQ(*unescape(parse_uri(m.request_uri())->sip()->user), "sips:user@example.com");
  EXPECT_EQ(*unescape(to_header(m)->uri.sip()->user), "user");
  EXPECT_EQ(*unescape(from_header(m)->uri.sip()->user), "I have spaces");
  const auto c = contact_headers(m)->contacts.at(0);
  EXPECT_EQ(*unescape(c.uri.sip()->user), "caller");
  ASSERT_EQ(c.uri.sip()->params.size(), 2U);
  EXPECT_EQ(*unescape(c.uri.sip()->params[0].name), "lr");
  EXPECT_EQ(*unescape(*c.uri.sip()->params[1].value), "value%41");
}

TEST(Rfc4475Facts, EscnullRegistersTwoDistinctContacts) {
  const auto m = must_parse("escnull");
  const auto contacts = contact_headers(m);
  ASSERT_EQ(contacts->contacts.size(), 2U);
  const auto a = *unescape(contacts->contacts[0].uri.sip()->user);
  const auto b = *unescape(contacts->contacts[1].uri.sip()->user);
  EXPECT_EQ(a, std::string(1, '\0'));
  EXPECT_EQ(b, std::string(2, '\0'));
  EXPECT_NE(a, b);
  EXPECT_EQ(unescape(to_header(m)->uri.sip()->user)->size(), 11U);  // "null-\0-null", not truncated
}

TEST(Rfc4475Facts, Esc02IsNotRegister) {
  const auto m = must_parse("esc02");
  EXPECT_EQ(m.method(), "RE%47IST%45R");
  EXPECT_NE(m.method(), "REGISTER");
  EXPECT_EQ(contact_headers(m)->contacts.size(), 2U);  // C%6Fntact is another header
  EXPECT_EQ(m.count("C%6Fntact"), 1U);
  EXPECT_EQ(to_header(m)->display_name_text(), "%Z%45");
  EXPECT_EQ(*via_headers(m)->front().branch(), "z9hG4bK209%fzsnel234");
}

TEST(Rfc4475Facts, Lwsdisp) { EXPECT_EQ(from_header(must_parse("lwsdisp"))->display_name, "caller"); }

TEST(Rfc4475Facts, Longreq) {
  const auto m = must_parse("longreq");
  const auto to = to_header(m);
  EXPECT_EQ(to->uri.sip()->port, 6000);
  EXPECT_EQ(to->uri.sip()->params.size(), 3U);
  EXPECT_GT(from_header(m)->tag()->size(), 150U);
  EXPECT_GE(via_headers(m)->size(), 7U);
  EXPECT_EQ(m.body().size(), 150U);
}

TEST(Rfc4475Facts, DblreqIgnoresTrailingOctets) {
  const auto m = must_parse("dblreq");
  EXPECT_EQ(m.method(), "REGISTER");
  EXPECT_TRUE(m.body().empty());
  const auto wire = serialize(m);
  EXPECT_EQ(wire.find("INVITE"), std::string::npos);
}

TEST(Rfc4475Facts, SemiuriUserPart) {
  const auto m = must_parse("semiuri");
  const auto uri = parse_uri(m.request_uri());
  ASSERT_TRUE(uri && uri->sip());
  EXPECT_EQ(*unescape(uri->sip()->user), "user;par=u@example.net");
  EXPECT_EQ(uri->sip()->host, "example.com");
  EXPECT_TRUE(uri->sip()->params.empty());
  EXPECT_EQ(m.values(HeaderId::accept).size(), 6U);
}

TEST(Rfc4475Facts, TransportsAreTokens) {
  const auto m = must_parse("transports");
  const auto vias = via_headers(m);
  ASSERT_EQ(vias->size(), 5U);
  EXPECT_EQ((*vias)[1].transport, "SCTP");
  EXPECT_EQ((*vias)[3].transport, "UNKNOWN");
}

TEST(Rfc4475Facts, Mpart01BodyIsByteExact) {
  const auto bytes = rfc4475("mpart01");
  const auto m = must_parse("mpart01");
  ASSERT_EQ(m.body().size(), 553U);
  EXPECT_EQ(m.body(), std::string_view(bytes).substr(bytes.size() - 553));
  EXPECT_NE(m.body().find('\0'), std::string_view::npos);
  const auto again = parse_datagram(serialize(m));
  EXPECT_EQ(again->body(), m.body());
}

TEST(Rfc4475Facts, UnusualAndEmptyReasonPhrases) {
  const auto bytes = rfc4475("unreason");
  const auto u = must_parse("unreason");
  EXPECT_EQ(u.status_code(), 200);
  EXPECT_EQ(u.reason_phrase(), std::string_view(bytes).substr(12, bytes.find("\r\n") - 12));
  const auto n = must_parse("noreason");
  EXPECT_EQ(n.status_code(), 100);
  EXPECT_EQ(n.reason_phrase(), "");
}

TEST(Rfc4475Facts, ContactParamsStayWhereTheyWereWritten) {
  const auto m1 = must_parse("cparam01");
  const auto c1 = contact_headers(m1)->contacts.at(0);
  EXPECT_TRUE(c1.uri.sip()->params.empty());
  EXPECT_TRUE(find_param(c1.params, "unknownparam"));
  const auto m2 = must_parse("cparam02");
  const auto c2 = contact_headers(m2)->contacts.at(0);
  EXPECT_TRUE(find_param(c2.uri.sip()->params, "unknownparam"));
  EXPECT_TRUE(c2.params.empty());
}

TEST(Rfc4475Facts, RegescrtKeepsTheEscapedHeaderInTheContact) {
  const auto m = must_parse("regescrt");
  const auto c = contact_headers(m)->contacts.at(0);
  ASSERT_EQ(c.uri.sip()->headers.size(), 1U);
  EXPECT_EQ(c.uri.sip()->headers[0].name, "Route");
  EXPECT_EQ(*unescape(*c.uri.sip()->headers[0].value), "<sip:sip.example.com>");
}

TEST(Rfc4475Facts, SemanticTestsParse) {
  EXPECT_EQ(parse_uri(must_parse("unkscm").request_uri())->scheme(), "nobodyKnowsThisScheme");
  EXPECT_EQ(parse_uri(must_parse("novelsc").request_uri())->scheme(), "soap.beep");
  const auto unksm2 = must_parse("unksm2");
  EXPECT_EQ(to_header(unksm2)->uri.scheme(), "isbn");
  EXPECT_FALSE(to_header(unksm2)->uri.is_sip());
  EXPECT_EQ(contact_headers(unksm2)->contacts.at(0).uri.scheme(), "name");
  EXPECT_EQ(must_parse("bext01").values(HeaderId::proxy_require).size(), 2U);
  EXPECT_EQ(**max_forwards_header(must_parse("zeromf")), 0U);
  EXPECT_EQ(via_headers(must_parse("bcast"))->at(1).host, "255.255.255.255");
  const auto badbranch_message = must_parse("badbranch");
  const auto badbranch = via_headers(badbranch_message)->front();
  EXPECT_EQ(*badbranch.branch(), "z9hG4bK");
  EXPECT_FALSE(badbranch.has_rfc3261_branch());
  const auto inv2543 = must_parse("inv2543");
  EXPECT_FALSE(*max_forwards_header(inv2543));
  EXPECT_FALSE(via_headers(inv2543)->front().branch());
  EXPECT_EQ(inv2543.body().size(), 105U);  // no Content-Length on UDP: the rest
}

TEST(Rfc4475Facts, Scalar02ExpiresWouldSaturate) {
  const auto m = parse_datagram(rfc4475("scalar02"));
  ASSERT_TRUE(m);
  EXPECT_EQ(**expires_header(*m), 0xFFFFFFFFU);
  EXPECT_EQ(**max_forwards_header(*m), 300U);
  EXPECT_FALSE(cseq_header(*m));
}

}  // namespace
}  // namespace sipsite::sip
