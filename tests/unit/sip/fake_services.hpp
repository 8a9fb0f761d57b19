#pragma once
// Fakes of the core's services for call-flow tests: a Directory with a
// fixed user list, an Authenticator that accepts a request carrying
// "Proxy-Authorization: Fake user=<name>" (and challenges otherwise), a
// Location backed by a map, a registrar that records and answers 200, and
// a Random that counts.

#include "sipsite/sip/io.hpp"
#include "sipsite/sip/message/response.hpp"
#include "sipsite/sip/services.hpp"

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::sip::test {

class FakeDirectory final : public Directory {
 public:
  FakeDirectory(std::string domain, std::set<std::string> users)
      : domain_(std::move(domain)), users_(std::move(users)) {}
  const std::string& local_domain() const override { return domain_; }
  std::optional<UserCredentials> find_user(std::string_view username) const override {
    if (!users_.contains(std::string(username))) return std::nullopt;
    return UserCredentials{std::string(username), domain_, "", ""};
  }

 private:
  std::string domain_;
  std::set<std::string> users_;
};

class FakeAuthenticator final : public Authenticator {
 public:
  AuthDecision authenticate(const Inbound& request, bool proxy) override {
    calls.push_back(proxy);
    AuthDecision d;
    const auto creds = request.message.value(proxy ? "Proxy-Authorization" : "Authorization");
    if (rate_limit) {
      d.verdict = AuthDecision::Verdict::rate_limited;
      return d;
    }
    if (creds && creds->starts_with("Fake user=")) {
      d.verdict = AuthDecision::Verdict::accepted;
      d.username = std::string(creds->substr(10));
      return d;
    }
    d.verdict = AuthDecision::Verdict::challenge;
    auto r =
        make_response(request.message, proxy ? 407 : 401, proxy ? "Proxy Authentication Required" : "Unauthorized");
    r.add_header(proxy ? "Proxy-Authenticate" : "WWW-Authenticate", "Fake realm=\"site.example\"");
    d.response = std::move(r);
    return d;
  }
  std::vector<bool> calls;
  bool rate_limit = false;
};

class FakeLocation final : public Location {
 public:
  std::vector<Binding> lookup(std::string_view username) const override {
    const auto it = bindings.find(std::string(username));
    return it == bindings.end() ? std::vector<Binding>{} : it->second;
  }
  std::map<std::string, std::vector<Binding>> bindings;
};

class FakeRegistrar final : public RegistrationHandler {
 public:
  Message handle_register(const Inbound& request) override {
    seen.push_back(request);
    auto r = make_response(request.message, 200, "OK");
    if (const auto c = request.message.value("Contact")) r.add_header("Contact", *c);
    return r;
  }
  std::vector<Inbound> seen;
};

class CountingRandom final : public Random {
 public:
  std::uint64_t next() override { return ++n; }
  std::uint64_t n = 0xabc000;
};

}  // namespace sipsite::sip::test
