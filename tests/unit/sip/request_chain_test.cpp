// Each step of the request-processor chain (server/sip/src/chain/) alone:
// a request goes in, the test reads what the step did through a recorder
// of RequestActions and what it left in the RequestContext. The assembled
// chain's call flows are core_test.cpp's.

#include "fake_services.hpp"
#include "sipsite/sip/message/accessors.hpp"
#include "sipsite/sip/chain/steps.hpp"
#include "sipsite/sip/core.hpp"
#include "sipsite/sip/manual_timers.hpp"
#include "sipsite/sip/message/parser.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sipsite::sip {
namespace {

using Verdict = RequestProcessor::Verdict;

// What the steps asked for, in order of kind.
class RecordingActions final : public RequestActions {
 public:
  struct Answer {
    int code = 0;
    std::string reason;
    bool refused = false;  // refuse() rather than respond()
  };
  struct Forwarded {
    Message request;
    std::vector<ForwardTarget> targets;
  };
  struct Started {
    std::string callee;
    CallStart::Direction direction;
    std::string peer_domain;
  };

  void send_response(const RequestContext& /*ctx*/, const Message& response) override { sent.push_back(response); }
  void respond(const RequestContext& /*ctx*/, int code, std::string_view reason) override {
    answer = Answer{code, std::string(reason), false};
  }
  void refuse(const RequestContext& /*ctx*/, int code, std::string_view reason) override {
    answer = Answer{code, std::string(reason), true};
  }
  void stay_silent(const RequestContext& /*ctx*/) override { silent = true; }
  void forward(const RequestContext& /*ctx*/, Message request, std::vector<ForwardTarget> targets) override {
    forwarded = Forwarded{std::move(request), std::move(targets)};
  }
  void cancel(const RequestContext& /*ctx*/) override { cancelled = true; }
  void call_started(const RequestContext& /*ctx*/, std::string callee, CallStart::Direction direction,
                    std::string peer_domain) override {
    started = Started{std::move(callee), direction, std::move(peer_domain)};
  }
  void call_hung_up(const RequestContext& /*ctx*/) override { hung_up = true; }
  bool store_offline(const RequestContext& /*ctx*/, std::string_view user) override {
    if (!keeps_messages) return false;
    stored_for = std::string(user);
    return true;
  }

  // Nothing was done with the request (the step passed it on).
  [[nodiscard]] bool untouched() const {
    return sent.empty() && !answer && !silent && !forwarded && !cancelled && !started && !hung_up && !stored_for;
  }

  std::vector<Message> sent;
  std::optional<Answer> answer;
  bool silent = false;
  std::optional<Forwarded> forwarded;
  bool cancelled = false;
  std::optional<Started> started;
  bool hung_up = false;
  bool keeps_messages = false;
  std::optional<std::string> stored_for;
};

const Endpoint kSite{Protocol::udp, "10.0.0.1", 5060};
const Endpoint kAlice{Protocol::udp, "10.0.0.2", 5060};

// A request as a phone (or, with `peer`, a peer site) sends it.
Inbound request(std::string_view method, std::string_view uri, std::string extra = "", std::string peer = "",
                std::string from = "<sip:alice@site.example>;tag=a1", std::string to = "<sip:bob@site.example>") {
  std::string text = std::string(method) + " " + std::string(uri) +
                     " SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa1\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: " +
                     from + "\r\nTo: " + to +
                     "\r\n"
                     "Call-ID: call-1@10.0.0.2\r\n"
                     "CSeq: 1 " +
                     std::string(method) + "\r\n" + extra + "Content-Length: 0\r\n\r\n";
  auto parsed = parse_datagram(text);
  EXPECT_TRUE(parsed) << text;
  return Inbound{parsed ? std::move(*parsed) : Message{}, kAlice, 0, kSite, std::move(peer)};
}

// The context as the steps before `step` leave it: the Request-URI
// checked, the copy to forward made.
struct Prepared {
  Inbound in;
  RequestContext ctx;
  explicit Prepared(Inbound inbound, const SiteNames& names) : in(std::move(inbound)), ctx(1, in) {
    RecordingActions ignored;
    EXPECT_EQ(RequestUriCheck(names).process(ctx, ignored), Verdict::next);
    ctx.forwarded = in.message;
  }
};

class RequestChainTest : public ::testing::Test {
 protected:
  SiteNames names_{"site.example", {}, {kSite}};
  RecordingActions actions_;
};

// --- the runner

class Named final : public RequestProcessor {
 public:
  Named(std::string name, Verdict verdict, std::vector<std::string>& trace)
      : name_(std::move(name)), verdict_(verdict), trace_(trace) {}
  [[nodiscard]] std::string_view name() const override { return name_; }
  Verdict process(RequestContext& /*ctx*/, RequestActions& /*actions*/) override {
    trace_.push_back(name_);
    return verdict_;
  }

 private:
  std::string name_;
  Verdict verdict_;
  std::vector<std::string>& trace_;
};

TEST_F(RequestChainTest, RunsStepsInOrderUntilOneIsDone) {
  std::vector<std::string> trace;
  RequestChain chain;
  chain.then(std::make_unique<Named>("a", Verdict::next, trace))
      .then(std::make_unique<Named>("b", Verdict::done, trace))
      .then(std::make_unique<Named>("c", Verdict::next, trace));
  auto in = request("OPTIONS", "sip:site.example");
  RequestContext ctx(1, in);
  EXPECT_EQ(chain.run(ctx, actions_), Verdict::done);
  EXPECT_EQ(trace, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(chain.names(), (std::vector<std::string_view>{"a", "b", "c"}));
}

TEST_F(RequestChainTest, ReportsNextWhenNoStepTookTheRequest) {
  std::vector<std::string> trace;
  RequestChain chain;
  chain.then(std::make_unique<Named>("a", Verdict::next, trace));
  auto in = request("OPTIONS", "sip:site.example");
  RequestContext ctx(1, in);
  EXPECT_EQ(chain.run(ctx, actions_), Verdict::next);
}

TEST_F(RequestChainTest, ContextKnowsWhetherTheRequestIsInADialog) {
  auto out = request("BYE", "sip:bob@site.example");
  auto in = request("BYE", "sip:bob@site.example", "", "", "<sip:alice@site.example>;tag=a1",
                    "<sip:bob@site.example>;tag=b1");
  EXPECT_FALSE(RequestContext(1, out).in_dialog);
  EXPECT_TRUE(RequestContext(2, in).in_dialog);
}

TEST_F(RequestChainTest, CoreAssemblesTheDocumentedOrder) {
  test::FakeDirectory directory("site.example", {"bob"});
  test::FakeAuthenticator authenticator;
  test::FakeLocation location;
  test::FakeRegistrar registrar;
  test::CountingRandom random;
  ManualTimers timers;
  class NullSender final : public Sender {
   public:
    void send(const Destination& /*to*/, Outgoing& /*out*/) override {}
    void send_wire(const Destination& /*to*/, std::string /*bytes*/) override {}
  } sender;
  Counters counters;
  CoreSettings settings;
  settings.listeners = {kSite};
  Core core(settings, sender, timers, timers, random, directory, authenticator, location, registrar, counters);
  EXPECT_EQ(core.request_steps(),
            (std::vector<std::string_view>{"cancel", "shutdown_gate", "request_uri_check", "registrar", "loose_route",
                                           "site_requests", "max_forwards", "dialog_route", "identity_gate",
                                           "local_route", "peer_site_route"}));
}

// --- cancel

TEST_F(RequestChainTest, CancelTakesOnlyCancel) {
  auto cancel = request("CANCEL", "sip:bob@site.example");
  RequestContext c(1, cancel);
  EXPECT_EQ(CancelStep().process(c, actions_), Verdict::done);
  EXPECT_TRUE(actions_.cancelled);

  RecordingActions other;
  auto invite = request("INVITE", "sip:bob@site.example");
  RequestContext i(2, invite);
  EXPECT_EQ(CancelStep().process(i, other), Verdict::next);
  EXPECT_TRUE(other.untouched());
}

// --- shutdown_gate

TEST_F(RequestChainTest, ShutdownGateTurnsAwayNewRequestsOnlyWhileStopping) {
  ShutdownState state;
  ShutdownGate gate(state);
  auto invite = request("INVITE", "sip:bob@site.example");
  RequestContext before(1, invite);
  EXPECT_EQ(gate.process(before, actions_), Verdict::next);
  EXPECT_TRUE(actions_.untouched());

  state = ShutdownState{true, "site restarting"};
  RequestContext during(2, invite);
  EXPECT_EQ(gate.process(during, actions_), Verdict::done);
  ASSERT_EQ(actions_.sent.size(), 1U);
  EXPECT_EQ(actions_.sent[0].status_code(), 503);
  EXPECT_EQ(actions_.sent[0].reason_phrase(), "Service Unavailable (site restarting)");
  EXPECT_EQ(actions_.sent[0].value(HeaderId::retry_after), "30");

  RecordingActions in_dialog_actions;
  auto bye =
      request("BYE", "sip:bob@10.0.0.3", "", "", "<sip:alice@site.example>;tag=a1", "<sip:bob@site.example>;tag=b1");
  RequestContext in_dialog(3, bye);
  EXPECT_EQ(gate.process(in_dialog, in_dialog_actions), Verdict::next);
  EXPECT_TRUE(in_dialog_actions.untouched());
}

// --- request_uri_check

TEST_F(RequestChainTest, RequestUriCheckRefusesWhatItCannotParseAndNamesTheSite) {
  auto garbled = request("INVITE", "sip:bob@site.example");
  garbled.message.set_request_uri("no-scheme-here");  // validate() would have said 400; the step still refuses it
  RequestContext bad(1, garbled);
  EXPECT_EQ(RequestUriCheck(names_).process(bad, actions_), Verdict::done);
  ASSERT_TRUE(actions_.answer);
  EXPECT_EQ(actions_.answer->code, 416);
  EXPECT_TRUE(actions_.answer->refused);

  auto ours = request("INVITE", "sip:bob@10.0.0.1:5060");
  RequestContext local(2, ours);
  RecordingActions ok;
  EXPECT_EQ(RequestUriCheck(names_).process(local, ok), Verdict::next);
  EXPECT_TRUE(local.for_site);
  ASSERT_TRUE(local.request_uri);
  EXPECT_EQ(local.request_uri->sip_uri.user, "bob");

  auto elsewhere = request("INVITE", "sip:carol@other.example");
  RequestContext remote(3, elsewhere);
  EXPECT_EQ(RequestUriCheck(names_).process(remote, ok), Verdict::next);
  EXPECT_FALSE(remote.for_site);
  EXPECT_TRUE(ok.untouched());
}

// --- registrar

TEST_F(RequestChainTest, RegistrarTakesRegisterForTheSiteFromTheLanOnly) {
  test::FakeRegistrar registrar;
  RegistrarStep step(registrar);

  Prepared lan(request("REGISTER", "sip:site.example", "Contact: <sip:alice@10.0.0.2>\r\n"), names_);
  EXPECT_EQ(step.process(lan.ctx, actions_), Verdict::done);
  ASSERT_EQ(registrar.seen.size(), 1U);
  ASSERT_EQ(actions_.sent.size(), 1U);
  EXPECT_EQ(actions_.sent[0].status_code(), 200);

  RecordingActions peer_actions;
  Prepared peer(request("REGISTER", "sip:site.example", "", "peer.example"), names_);
  EXPECT_EQ(step.process(peer.ctx, peer_actions), Verdict::done);
  ASSERT_TRUE(peer_actions.answer);
  EXPECT_EQ(peer_actions.answer->code, 403);
  EXPECT_EQ(peer_actions.answer->reason, "Forbidden (peer sites do not register)");

  RecordingActions other_actions;
  Prepared other(request("REGISTER", "sip:other.example"), names_);
  EXPECT_EQ(step.process(other.ctx, other_actions), Verdict::done);
  ASSERT_TRUE(other_actions.answer);
  EXPECT_EQ(other_actions.answer->reason, "Forbidden (not a domain of this site)");
  EXPECT_EQ(registrar.seen.size(), 1U);

  RecordingActions invite_actions;
  Prepared invite(request("INVITE", "sip:bob@site.example"), names_);
  EXPECT_EQ(step.process(invite.ctx, invite_actions), Verdict::next);
  EXPECT_TRUE(invite_actions.untouched());
}

// --- loose_route

TEST_F(RequestChainTest, LooseRoutePopsOurRouteAndKeepsItsTokenAndTheNext) {
  Prepared p(request("BYE", "sip:bob@10.0.0.3", "Route: <sip:10.0.0.1:5060;lr;rt=abc123>, <sip:next.example;lr>\r\n"),
             names_);
  EXPECT_EQ(LooseRoute(names_).process(p.ctx, actions_), Verdict::next);
  EXPECT_TRUE(actions_.untouched());
  EXPECT_TRUE(p.ctx.route_popped);
  EXPECT_EQ(p.ctx.route_token, "abc123");
  EXPECT_EQ(p.ctx.next_route, "sip:next.example;lr");
  EXPECT_EQ(p.in.message.values(HeaderId::route), (std::vector<std::string_view>{"<sip:next.example;lr>"}));
}

TEST_F(RequestChainTest, LooseRouteRefusesSomeoneElsesRoute) {
  Prepared p(request("INVITE", "sip:bob@site.example", "Route: <sip:relay.example;lr>\r\n"), names_);
  EXPECT_EQ(LooseRoute(names_).process(p.ctx, actions_), Verdict::done);
  ASSERT_TRUE(actions_.answer);
  EXPECT_EQ(actions_.answer->code, 403);
  EXPECT_EQ(actions_.answer->reason, "Forbidden (Route does not go through this site)");
  EXPECT_TRUE(actions_.answer->refused);
}

TEST_F(RequestChainTest, LooseRouteLeavesRequestsWithoutRoute) {
  Prepared p(request("INVITE", "sip:bob@site.example"), names_);
  EXPECT_EQ(LooseRoute(names_).process(p.ctx, actions_), Verdict::next);
  EXPECT_FALSE(p.ctx.route_popped);
  EXPECT_TRUE(actions_.untouched());
}

// --- site_requests

TEST_F(RequestChainTest, SiteRequestsAnswersOptionsAndRefusesOtherMethodsToTheSite) {
  SiteRequests step("INVITE, OPTIONS", "path");
  Prepared options(request("OPTIONS", "sip:site.example"), names_);
  EXPECT_EQ(step.process(options.ctx, actions_), Verdict::done);
  ASSERT_EQ(actions_.sent.size(), 1U);
  EXPECT_EQ(actions_.sent[0].status_code(), 200);
  EXPECT_EQ(actions_.sent[0].value("Allow"), "INVITE, OPTIONS");
  EXPECT_EQ(actions_.sent[0].value("Supported"), "path");

  RecordingActions info_actions;
  Prepared info(request("INFO", "sip:site.example"), names_);
  EXPECT_EQ(step.process(info.ctx, info_actions), Verdict::done);
  ASSERT_EQ(info_actions.sent.size(), 1U);
  EXPECT_EQ(info_actions.sent[0].status_code(), 405);
  EXPECT_EQ(info_actions.sent[0].value("Allow"), "OPTIONS, REGISTER");

  RecordingActions user_actions;
  Prepared to_user(request("OPTIONS", "sip:bob@site.example"), names_);
  EXPECT_EQ(step.process(to_user.ctx, user_actions), Verdict::next);
  EXPECT_TRUE(user_actions.untouched());
}

// --- max_forwards

TEST_F(RequestChainTest, MaxForwardsRefusesAtZeroAndDecrementsTheCopy) {
  auto zero = request("INVITE", "sip:bob@site.example");
  zero.message.set_header("Max-Forwards", "0");
  RequestContext z(1, zero);
  EXPECT_EQ(MaxForwards().process(z, actions_), Verdict::done);
  ASSERT_TRUE(actions_.answer);
  EXPECT_EQ(actions_.answer->code, 483);

  for (const auto& [received, forwarded] :
       std::vector<std::pair<std::string, std::string>>{{"70", "69"}, {"1", "0"}, {"4000", "70"}}) {
    auto in = request("INVITE", "sip:bob@site.example");
    in.message.set_header("Max-Forwards", received);
    RequestContext ctx(2, in);
    RecordingActions ok;
    EXPECT_EQ(MaxForwards().process(ctx, ok), Verdict::next);
    ASSERT_TRUE(ctx.forwarded);
    EXPECT_EQ(ctx.forwarded->value(HeaderId::max_forwards), forwarded) << received;
    EXPECT_EQ(in.message.value(HeaderId::max_forwards), received);  // the received request is untouched
  }
}

// --- dialog_route

class DialogRouteTest : public RequestChainTest {
 protected:
  test::CountingRandom random_;
  DialogTokens tokens_{random_};
  test::FakeLocation location_;
  RefusingPeerRouter peers_;
  NextHopResolver next_hop_{location_, peers_};
  DialogSet dialogs_;
  DialogRoute step_{tokens_, next_hop_, names_, dialogs_};

  Prepared in_dialog(std::string_view method, std::string_view token) {
    Prepared p(
        request(method, "sip:bob@10.0.0.3:5062", "Route: <sip:10.0.0.1:5060;lr;rt=" + std::string(token) + ">\r\n", "",
                "<sip:alice@site.example>;tag=a1", "<sip:bob@site.example>;tag=b1"),
        names_);
    RecordingActions ignored;
    EXPECT_EQ(LooseRoute(names_).process(p.ctx, ignored), Verdict::next);
    return p;
  }
};

TEST_F(DialogRouteTest, ForwardsToTheRemoteTargetWithTheCallIdsToken) {
  auto p = in_dialog("BYE", tokens_.token("call-1@10.0.0.2"));
  EXPECT_EQ(step_.process(p.ctx, actions_), Verdict::done);
  ASSERT_TRUE(actions_.forwarded);
  ASSERT_EQ(actions_.forwarded->targets.size(), 1U);
  EXPECT_EQ(actions_.forwarded->targets[0].request_uri, "");
  EXPECT_EQ(actions_.forwarded->targets[0].destination.endpoint, (Endpoint{Protocol::udp, "10.0.0.3", 5062}));
  EXPECT_TRUE(actions_.hung_up);  // a BYE ends the call record
}

TEST_F(DialogRouteTest, RefusesADialogTheSiteDidNotRecordRoute) {
  auto p = in_dialog("INFO", tokens_.token("another-call"));
  EXPECT_EQ(step_.process(p.ctx, actions_), Verdict::done);
  ASSERT_TRUE(actions_.answer);
  EXPECT_EQ(actions_.answer->code, 403);
  EXPECT_EQ(actions_.answer->reason, "Forbidden (not a dialog of this site)");
  EXPECT_FALSE(actions_.forwarded);
  EXPECT_FALSE(actions_.hung_up);
}

TEST_F(DialogRouteTest, RefusesWhenTheNextHopIsUnknown) {
  Prepared p(request("INFO", "sip:bob@unknown.example",
                     "Route: <sip:10.0.0.1:5060;lr;rt=" + tokens_.token("call-1@10.0.0.2") + ">\r\n", "",
                     "<sip:alice@site.example>;tag=a1", "<sip:bob@site.example>;tag=b1"),
             names_);
  RecordingActions ignored;
  ASSERT_EQ(LooseRoute(names_).process(p.ctx, ignored), Verdict::next);
  EXPECT_EQ(step_.process(p.ctx, actions_), Verdict::done);
  ASSERT_TRUE(actions_.answer);
  EXPECT_EQ(actions_.answer->code, 404);
}

TEST_F(DialogRouteTest, LeavesRequestsThatDidNotComeThroughOurRecordRoute) {
  Prepared p(request("INVITE", "sip:bob@site.example"), names_);
  EXPECT_EQ(step_.process(p.ctx, actions_), Verdict::next);
  EXPECT_TRUE(actions_.untouched());
}

TEST_F(RequestChainTest, DialogTokensAreKeyedPerProcess) {
  test::CountingRandom a;
  test::CountingRandom b;
  b.n = 7;
  const DialogTokens first(a);
  const DialogTokens second(b);
  EXPECT_EQ(first.token("call-1").size(), 16U);
  EXPECT_TRUE(first.matches("call-1", first.token("call-1")));
  EXPECT_FALSE(first.matches("call-2", first.token("call-1")));
  EXPECT_FALSE(first.matches("call-1", second.token("call-1")));
  EXPECT_FALSE(first.matches("call-1", ""));
}

// --- identity_gate

TEST_F(RequestChainTest, IdentityGateAuthenticatesLanRequestsAndConsumesTheCredentials) {
  test::FakeAuthenticator authenticator;
  IdentityGate gate(authenticator, names_);

  Prepared without(request("INVITE", "sip:bob@site.example"), names_);
  EXPECT_EQ(gate.process(without.ctx, actions_), Verdict::done);
  ASSERT_EQ(actions_.sent.size(), 1U);
  EXPECT_EQ(actions_.sent[0].status_code(), 407);

  RecordingActions ok;
  Prepared with(request("INVITE", "sip:bob@site.example", "Proxy-Authorization: Fake user=alice\r\n"), names_);
  EXPECT_EQ(gate.process(with.ctx, ok), Verdict::next);
  EXPECT_TRUE(ok.untouched());
  EXPECT_EQ(with.ctx.authenticated_user, "alice");
  EXPECT_FALSE(with.ctx.forwarded->value(HeaderId::proxy_authorization));
  EXPECT_EQ(authenticator.calls, (std::vector<bool>{true, true}));  // proxy authentication
}

TEST_F(RequestChainTest, IdentityGateRefusesAFromThatIsNotTheAuthenticatedUser) {
  test::FakeAuthenticator authenticator;
  Prepared p(request("INVITE", "sip:bob@site.example", "Proxy-Authorization: Fake user=mallory\r\n"), names_);
  EXPECT_EQ(IdentityGate(authenticator, names_).process(p.ctx, actions_), Verdict::done);
  ASSERT_TRUE(actions_.answer);
  EXPECT_EQ(actions_.answer->code, 403);
  EXPECT_EQ(actions_.answer->reason, "Forbidden (From is not the authenticated user)");
}

TEST_F(RequestChainTest, IdentityGateStaysSilentForARateLimitedSource) {
  test::FakeAuthenticator authenticator;
  authenticator.rate_limit = true;
  Prepared p(request("INVITE", "sip:bob@site.example"), names_);
  EXPECT_EQ(IdentityGate(authenticator, names_).process(p.ctx, actions_), Verdict::done);
  EXPECT_TRUE(actions_.silent);
  EXPECT_TRUE(actions_.sent.empty());
  EXPECT_FALSE(actions_.answer);
}

TEST_F(RequestChainTest, IdentityGateHoldsAPeerSiteToItsOwnDomainAndToLocalUsers) {
  test::FakeAuthenticator authenticator;
  IdentityGate gate(authenticator, names_);
  struct Case {
    std::string uri;
    std::string from;
    std::string extra;
    std::optional<std::string> refusal;  // nullopt: passed on
  };
  const std::vector<Case> cases{
      {"sip:bob@site.example", "<sip:carol@peer.example>;tag=c1", "", std::nullopt},
      {"sip:bob@site.example", "<sip:carol@elsewhere.example>;tag=c1", "",
       "Forbidden (From is not of the peer's domain)"},
      {"sip:bob@site.example", "<sip:carol@peer.example>;tag=c1", "P-Asserted-Identity: <sip:ceo@site.example>\r\n",
       "Forbidden (P-Asserted-Identity is not of the peer's domain)"},
      {"sip:dave@third.example", "<sip:carol@peer.example>;tag=c1", "", "Forbidden (not a user of this site)"},
  };
  for (const auto& c : cases) {
    RecordingActions actions;
    Prepared p(request("INVITE", c.uri, c.extra, "peer.example", c.from), names_);
    const Verdict v = gate.process(p.ctx, actions);
    if (c.refusal) {
      EXPECT_EQ(v, Verdict::done) << c.from << " " << c.uri;
      ASSERT_TRUE(actions.answer);
      EXPECT_EQ(actions.answer->code, 403);
      EXPECT_EQ(actions.answer->reason, *c.refusal);
    } else {
      EXPECT_EQ(v, Verdict::next) << c.from;
      EXPECT_TRUE(actions.untouched());
    }
  }
  EXPECT_TRUE(authenticator.calls.empty());  // a pinned link is the peer's credential
}

// --- local_route

class LocalRouteTest : public RequestChainTest {
 protected:
  test::FakeDirectory directory_{"site.example", {"bob", "carol"}};
  test::FakeLocation location_;
  LocalRoute step_{directory_, location_};
};

TEST_F(LocalRouteTest, ForksToEveryBindingAndStartsTheCallRecord) {
  location_.bindings["bob"] = {
      Binding{"sip:bob@10.0.0.3:5060", Destination{Endpoint{Protocol::udp, "10.0.0.3", 5060}, 0}, {}, 1000, "", 0},
      Binding{"sip:bob@10.0.0.4:5070;transport=tcp",
              Destination{Endpoint{Protocol::tcp, "10.0.0.4", 5070}, 42},
              {},
              1000,
              "",
              0}};
  Prepared p(request("INVITE", "sip:bob@site.example"), names_);
  EXPECT_EQ(step_.process(p.ctx, actions_), Verdict::done);
  ASSERT_TRUE(actions_.forwarded);
  ASSERT_EQ(actions_.forwarded->targets.size(), 2U);
  EXPECT_EQ(actions_.forwarded->targets[0].request_uri, "sip:bob@10.0.0.3:5060");
  EXPECT_EQ(actions_.forwarded->targets[1].destination.flow, 42U);
  ASSERT_TRUE(actions_.started);
  EXPECT_EQ(actions_.started->callee, "bob@site.example");
  EXPECT_EQ(actions_.started->direction, CallStart::Direction::local);
}

TEST_F(LocalRouteTest, AnUnknownUserIs404AndAnUnregisteredOne480) {
  Prepared unknown(request("INVITE", "sip:nobody@site.example"), names_);
  EXPECT_EQ(step_.process(unknown.ctx, actions_), Verdict::done);
  ASSERT_TRUE(actions_.answer);
  EXPECT_EQ(actions_.answer->code, 404);
  EXPECT_FALSE(actions_.started);

  RecordingActions away;
  Prepared carol(request("INVITE", "sip:carol@site.example", "", "peer.example", "<sip:x@peer.example>;tag=x"), names_);
  EXPECT_EQ(step_.process(carol.ctx, away), Verdict::done);
  ASSERT_TRUE(away.answer);
  EXPECT_EQ(away.answer->code, 480);
  ASSERT_TRUE(away.started);  // the attempt is recorded before it fails
  EXPECT_EQ(away.started->direction, CallStart::Direction::incoming);
  EXPECT_EQ(away.started->peer_domain, "peer.example");
}

TEST_F(LocalRouteTest, AMessageForAnUnregisteredUserIsKeptWhenTheSiteKeepsMessages) {
  Prepared none(request("MESSAGE", "sip:carol@site.example"), names_);
  EXPECT_EQ(step_.process(none.ctx, actions_), Verdict::done);
  ASSERT_TRUE(actions_.answer);
  EXPECT_EQ(actions_.answer->code, 480);  // no message store

  RecordingActions keeping;
  keeping.keeps_messages = true;
  Prepared kept(request("MESSAGE", "sip:carol@site.example"), names_);
  EXPECT_EQ(step_.process(kept.ctx, keeping), Verdict::done);
  EXPECT_EQ(keeping.stored_for, "carol");
  EXPECT_FALSE(keeping.answer);
}

TEST_F(LocalRouteTest, LeavesRequestsForOtherDomains) {
  Prepared p(request("INVITE", "sip:dave@other.example"), names_);
  EXPECT_EQ(step_.process(p.ctx, actions_), Verdict::next);
  EXPECT_TRUE(actions_.untouched());
}

// --- peer_site_route

class ScriptedPeers final : public PeerRouter {
 public:
  PeerRoute route(const Inbound& /*request*/, std::string_view user) override {
    users.emplace_back(user);
    return answer;
  }
  PeerRoute answer;
  std::vector<std::string> users;
};

TEST_F(RequestChainTest, PeerSiteRouteForwardsWhereTheRouterSaysAndRecordsTheOutgoingCall) {
  ScriptedPeers peers;
  peers.answer.action = PeerRoute::Action::forward;
  peers.answer.destination = Destination{Endpoint{Protocol::tls, "192.0.2.9", 5061}, 7};
  Prepared p(request("INVITE", "sip:dave@other.example"), names_);
  p.ctx.authenticated_user = "alice";
  EXPECT_EQ(PeerSiteRoute(peers).process(p.ctx, actions_), Verdict::done);
  EXPECT_EQ(peers.users, (std::vector<std::string>{"alice"}));
  ASSERT_TRUE(actions_.forwarded);
  EXPECT_EQ(actions_.forwarded->targets[0].destination.flow, 7U);
  ASSERT_TRUE(actions_.started);
  EXPECT_EQ(actions_.started->callee, "dave@other.example");
  EXPECT_EQ(actions_.started->direction, CallStart::Direction::outgoing);
  EXPECT_EQ(actions_.started->peer_domain, "other.example");
}

TEST_F(RequestChainTest, PeerSiteRouteAnswersTheRoutersRefusal) {
  ScriptedPeers peers;  // refuses by default
  Prepared p(request("MESSAGE", "sip:dave@other.example"), names_);
  p.ctx.authenticated_user = "alice";
  EXPECT_EQ(PeerSiteRoute(peers).process(p.ctx, actions_), Verdict::done);
  ASSERT_TRUE(actions_.answer);
  EXPECT_EQ(actions_.answer->code, 403);
  EXPECT_EQ(actions_.answer->reason, "Forbidden (not a domain of a trusted peer site)");
  EXPECT_FALSE(actions_.started);  // only an INVITE is a call
}

TEST_F(RequestChainTest, PeerSiteRouteNeverRoutesForAPeerOrAnUnauthenticatedRequest) {
  ScriptedPeers peers;
  peers.answer.action = PeerRoute::Action::forward;
  Prepared from_peer(request("INVITE", "sip:dave@other.example", "", "peer.example"), names_);
  from_peer.ctx.authenticated_user = "alice";
  EXPECT_EQ(PeerSiteRoute(peers).process(from_peer.ctx, actions_), Verdict::next);
  Prepared anonymous(request("INVITE", "sip:dave@other.example"), names_);
  EXPECT_EQ(PeerSiteRoute(peers).process(anonymous.ctx, actions_), Verdict::next);
  EXPECT_TRUE(actions_.untouched());
  EXPECT_TRUE(peers.users.empty());
}

}  // namespace
}  // namespace sipsite::sip
