// libFuzzer target for the routing core: the input is a sequence of
// messages separated by "\n--\n"; the first byte of each chooses who sends
// it (one of four phones, UDP or TCP) and how far time moves before it.
// Phones "alice" and "bob" are registered and authenticated by the fakes of
// the unit tests ("Proxy-Authorization: Fake user=alice"). After the last
// message time runs on (after a clean stop, for inputs whose last byte is
// odd): every transaction, proxy context and timer must be gone (no leaks),
// and nothing may crash or trip a sanitizer.
//
// Built by tests/fuzz/CMakeLists.txt; run with tests/fuzz/run.sh --only core_fuzz.

#include "../unit/sip/fake_sender.hpp"
#include "../unit/sip/fake_services.hpp"
#include "sipsite/sip/core.hpp"
#include "sipsite/sip/manual_timers.hpp"
#include "steps.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace sipsite::sip;

void check(bool invariant) {
  if (!invariant) std::abort();
}

struct Source {
  Endpoint ep;
  FlowId flow;
};

const std::array<Source, 4> kSources = {{
    {{Protocol::udp, "10.0.0.2", 5060}, 0},
    {{Protocol::udp, "10.0.0.3", 5060}, 0},
    {{Protocol::tcp, "10.0.0.4", 5070}, 42},
    {{Protocol::tls, "2001:db8::5", 5061}, 43},
}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ManualTimers timers;
  test::FakeSender sender;
  test::CountingRandom random;
  test::FakeDirectory directory{"site.example", {"alice", "bob", "carol"}};
  test::FakeAuthenticator auth;
  test::FakeLocation location;
  test::FakeRegistrar registrar;
  Counters counters;
  for (std::size_t i = 0; i < 3; ++i) {
    Binding b;
    b.contact = "sip:bob@" + kSources[i].ep.host + ":" + std::to_string(kSources[i].ep.port);
    b.destination = Destination{kSources[i].ep, kSources[i].flow};
    location.bindings[i == 0 ? "alice" : "bob"].push_back(b);
  }
  CoreSettings settings;
  settings.listeners = {
      {Protocol::udp, "10.0.0.1", 5060}, {Protocol::tcp, "10.0.0.1", 5060}, {Protocol::tls, "10.0.0.1", 5061}};
  {
    Core core{settings, sender, timers, timers, random, directory, auth, location, registrar, counters};
    std::string_view input(reinterpret_cast<const char*>(data), size);
    sipsite::fuzz::for_each_step(input, [&](std::uint8_t control, std::string_view chunk) {
      const Source& s = kSources[control & 3];
      timers.advance(std::chrono::milliseconds(((control >> 2) & 7) * 400));
      if ((control & 0xE0) == 0xE0) core.on_send_failed(Destination{s.ep, s.flow});
      Endpoint local = settings.listeners[s.ep.protocol == Protocol::udp ? 0 : 1];
      core.receive(chunk, s.ep, s.flow, local);
      sender.sent.clear();
    });
    // Half the inputs end with a clean stop (SIGTERM): every dialog gets
    // its goodbyes, and those too must be gone once time runs on.
    if (size > 0 && (data[size - 1] & 1) != 0) {
      core.end_calls("fuzz");
      check(core.confirmed_dialogs() == 0);
    }
    timers.advance(std::chrono::minutes(10));
    check(core.transactions().alive() == 0);
    check(core.proxy_contexts() == 0);
    check(core.pending_goodbyes() == 0);
  }
  check(timers.pending() == 0);
  return 0;
}
