// libFuzzer target for digest authentication input: the Authorization /
// WWW-Authenticate parsers, the challenge formatter round trip, and a
// REGISTER carrying the input as its Authorization header through
// DigestAuthenticator and Registrar. Any crash, sanitizer report or broken
// invariant (abort) is a bug.
//
// Not wired into CMake; build by hand, e.g.:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
//     -Iserver/sip/include tests/fuzz/digest_fuzz.cpp server/sip/src/*.cpp \
//     -Iserver/sip/src -lcrypto -o digest_fuzz

#include "sipsite/sip/counters.hpp"
#include "sipsite/sip/auth/digest.hpp"
#include "sipsite/sip/auth/digest_authenticator.hpp"
#include "sipsite/sip/registrar/location_service.hpp"
#include "sipsite/sip/manual_timers.hpp"
#include "sipsite/sip/message/parser.hpp"
#include "sipsite/sip/registrar/registrar.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace {

using namespace sipsite::sip;

void check(bool invariant) {
  if (!invariant) std::abort();
}

class OneUser final : public Directory {
 public:
  OneUser()
      : creds_{"alice", "alpha.example", digest_ha1(DigestAlgorithm::md5, "alice", "alpha.example", "pw"),
               digest_ha1(DigestAlgorithm::sha256, "alice", "alpha.example", "pw")} {}
  const std::string& local_domain() const override { return domain_; }
  std::optional<UserCredentials> find_user(std::string_view u) const override {
    if (u == creds_.username) return creds_;
    return std::nullopt;
  }

 private:
  std::string domain_ = "alpha.example";
  UserCredentials creds_;
};

class FixedRandom final : public Random {
 public:
  std::uint64_t next() override { return state_ += 0x9E3779B97F4A7C15ULL; }

 private:
  std::uint64_t state_ = 1;
};

void exercise_parsers(std::string_view text) {
  if (const auto c = parse_digest_credentials(text)) {
    check(c->username.size() <= kMaxDigestValue && c->uri.size() <= kMaxDigestValue);
    check(!c->qop || (c->nc_text.size() == 8));
  }
  if (const auto ch = parse_digest_challenge(text)) {
    check(ch->realm.size() <= kMaxDigestValue && ch->nonce.size() <= kMaxDigestValue);
    // What we format, we parse back to the same values.
    const std::string again = format_digest_challenge(*ch);
    const auto back = parse_digest_challenge(again);
    const bool fits = again.size() <= kMaxDigestHeader;
    check(!fits || back.has_value());
    if (back) {
      check(back->realm == ch->realm && back->nonce == ch->nonce && back->opaque == ch->opaque);
      check(back->algorithm == ch->algorithm && back->stale == ch->stale);
    }
  }
}

void exercise_registrar(std::string_view text) {
  static ManualTimers time;
  static FixedRandom random;
  static Counters counters;
  static OneUser directory;
  static DigestAuthenticator auth{directory, time, random, counters, DigestAuthenticatorSettings{}};
  static LocationService location{time, counters};
  static Registrar registrar{directory, auth, location, time, RegistrarSettings{}};

  auto m = parse_datagram(
      "REGISTER sip:alpha.example SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKfz\r\n"
      "From: <sip:alice@alpha.example>;tag=f\r\n"
      "To: <sip:alice@alpha.example>\r\n"
      "Call-ID: fuzz\r\n"
      "CSeq: 1 REGISTER\r\n"
      "Contact: <sip:alice@192.0.2.1>\r\n"
      "Content-Length: 0\r\n\r\n");
  check(m.has_value());
  m->add_header("Authorization", text);
  m->add_header("Proxy-Authorization", text);
  const Inbound in{std::move(*m), Endpoint{Protocol::udp, "192.0.2.1", 5060}, 0, {}};
  const Message r = registrar.handle_register(in);
  check(r.is_response() && r.status_code() >= 200);
  const AuthDecision d = auth.authenticate(in, true);
  check(d.verdict == AuthDecision::Verdict::accepted || d.response.has_value());
  time.advance(std::chrono::seconds(7));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  exercise_parsers(text);
  exercise_registrar(text);
  return 0;
}
