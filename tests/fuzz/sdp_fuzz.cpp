// libFuzzer target for server/media's SDP code: parse_sdp, serialize, and
// rewrite_sdp (anchoring at a relay, or stripping private candidates), with
// invariants: what parses serializes into something that parses to the same
// bytes; a rewrite with a complete plan succeeds; after anchoring every c=
// and candidate names the relay; after stripping no private candidate is
// left. The first input byte chooses the rewrite options.

#include "sipsite/media/sdp.hpp"
#include "sipsite/media/sdp_rewrite.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace sipsite::media;

void check(bool invariant) {
  if (!invariant) std::abort();
}

void check_reparses(const std::string& text) {
  const auto again = parse_sdp(text);
  check(again.has_value());
  check(serialize(*again) == text);
}

void rewrite(Sdp sdp, std::uint8_t options) {
  RewritePlan plan;
  plan.anchor = (options & 1U) == 0;
  plan.address = (options & 2U) != 0 ? "2001:db8::7" : "203.0.113.7";
  plan.anonymize_origin = (options & 4U) == 0;
  const bool mux = (options & 8U) != 0;
  std::uint16_t port = 40000;
  for (const auto& m : sdp.media) {
    if (m.m.port == 0) {
      plan.streams.emplace_back();
    } else {
      plan.streams.push_back(StreamEndpoint{port, static_cast<std::uint16_t>(mux ? port : port + 1)});
      port = static_cast<std::uint16_t>(port + 2);
    }
  }
  const auto r = rewrite_sdp(sdp, plan);
  check(r.has_value());
  const auto out = serialize(sdp);
  check_reparses(out);
  const auto again = parse_sdp(out);
  for (std::size_t i = 0; i < again->media.size(); ++i) {
    const auto& section = again->media[i];
    for (const auto& l : section.lines) {
      if (l.type == 'a' && attribute_name(l.value) == "candidate") {
        const auto c = parse_candidate(attribute_value(l.value));
        check(c.has_value());
        if (plan.anchor)
          check(c->address == plan.address);
        else
          check(!is_private_address(c->address));
      }
      if (l.type == 'c' && plan.anchor) check(parse_connection(l.value)->address == plan.address);
    }
    if (plan.anchor && section.m.port != 0) check(again->connection_for(i)->address == plan.address);
  }
  if (plan.anchor) {
    const auto c = again->connection();
    check(!c || c->address == plan.address);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto sdp = parse_sdp(text);
  if (!sdp) {
    check(!sdp.error().reason.empty());
    check(sdp.error().sip_status() == 488);
    return 0;
  }
  check_reparses(serialize(*sdp));
  rewrite(*sdp, data[0]);
  return 0;
}
