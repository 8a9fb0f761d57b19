#pragma once
// (Own namespace: other test files have fakes of the same names.)
// Fakes for the digest, registrar and location tests: a Directory with
// users added by password, a deterministic Random, and a simulated phone
// that builds REGISTERs and answers digest challenges as a real UA does.

#include "sipsite/sip/counters.hpp"
#include "sipsite/sip/auth/digest.hpp"
#include "sipsite/sip/io.hpp"
#include "sipsite/sip/message/message.hpp"
#include "sipsite/sip/message/parser.hpp"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::sip::regtest {

class FakeDirectory final : public Directory {
 public:
  explicit FakeDirectory(std::string domain) : domain_(std::move(domain)) {}

  void add_user(const std::string& username, std::string_view password) {
    users_[username] = UserCredentials{username, domain_, digest_ha1(DigestAlgorithm::md5, username, domain_, password),
                                       digest_ha1(DigestAlgorithm::sha256, username, domain_, password)};
  }

  const std::string& local_domain() const override { return domain_; }
  std::optional<UserCredentials> find_user(std::string_view username) const override {
    ++lookups;
    const auto it = users_.find(username);
    if (it == users_.end()) return std::nullopt;
    return it->second;
  }

  mutable int lookups = 0;

 private:
  std::string domain_;
  std::map<std::string, UserCredentials, std::less<>> users_;
};

// splitmix64: deterministic, and different at every call.
class SeqRandom final : public Random {
 public:
  std::uint64_t next() override {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_ = 42;
};

// A sample of the Prometheus text (no labels), -1 when absent.
inline long long metric(const Counters& counters, std::string_view name) {
  const std::string text = counters.prometheus();
  const std::string needle = "\n" + std::string(name) + " ";
  const auto at = text.find(needle);
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + needle.size()));
}

inline Message parse_or_throw(const std::string& text) {
  auto m = parse_datagram(text);
  if (!m) throw std::runtime_error("test message does not parse: " + m.error().reason + "\n" + text);
  return std::move(*m);
}

// A phone: one Call-ID, increasing CSeq, the last challenge it was given.
class SimPhone {
 public:
  SimPhone(std::string user, std::string password, std::string domain, Endpoint source, FlowId flow = 0)
      : user_(std::move(user)),
        password_(std::move(password)),
        domain_(std::move(domain)),
        source_(std::move(source)),
        flow_(flow),
        call_id_("reg-" + user_ + "-" + std::to_string(source_.port) + "@phone") {}

  // Extra header lines (each ending in CRLF) go in `extra`. Credentials
  // for the last challenge are added unless with_auth is false.
  Message make_register(const std::vector<std::string>& contacts, std::optional<std::uint32_t> expires,
                        const std::string& extra = {}, bool with_auth = true) {
    const std::string uri = "sip:" + domain_;
    std::string t = "REGISTER " + uri + " SIP/2.0\r\n";
    t += "Via: SIP/2.0/" + std::string(to_string(source_.protocol)) + " 192.168.1.20:5060;branch=z9hG4bK" +
         std::to_string(++branch_) + ";rport\r\n";
    t += "Max-Forwards: 70\r\n";
    t += "From: <sip:" + user_ + "@" + domain_ + ">;tag=ft" + std::to_string(source_.port) + "\r\n";
    t += "To: <sip:" + to_user_.value_or(user_) + "@" + domain_ + ">\r\n";
    t += "Call-ID: " + call_id_ + "\r\n";
    t += "CSeq: " + std::to_string(++cseq_) + " REGISTER\r\n";
    for (const auto& c : contacts) t += "Contact: " + c + "\r\n";
    if (expires) t += "Expires: " + std::to_string(*expires) + "\r\n";
    if (challenge_ && with_auth)
      t += std::string(proxy_ ? "Proxy-Authorization: " : "Authorization: ") + authorization("REGISTER", uri) + "\r\n";
    t += extra;
    t += "Content-Length: 0\r\n\r\n";
    return parse_or_throw(t);
  }

  Inbound inbound(Message m) const {
    return Inbound{std::move(m), source_, flow_, Endpoint{source_.protocol, "192.168.1.1", 5060}, {}};
  }

  // Takes the first challenge of the preferred algorithm from a 401/407
  // (else the first one). False when there is none.
  bool take_challenge(const Message& response, DigestAlgorithm preferred = DigestAlgorithm::sha256) {
    proxy_ = response.status_code() == 407;
    const auto values = response.values(proxy_ ? "Proxy-Authenticate" : "WWW-Authenticate");
    std::optional<DigestChallenge> first;
    for (const auto v : values) {
      auto c = parse_digest_challenge(v);
      if (!c) continue;
      if (!first) first = *c;
      if (c->algorithm == preferred) {
        first = *c;
        break;
      }
    }
    if (!first) return false;
    challenge_ = *first;
    nc_ = 0;
    return true;
  }

  // The credentials for the current challenge (increments nc).
  std::string authorization(std::string_view method, std::string_view uri) {
    const DigestChallenge& c = *challenge_;
    char nc[9];
    std::snprintf(nc, sizeof nc, "%08x", ++nc_);
    const std::string cnonce = "cn" + std::to_string(nc_);
    const std::string ha1 = digest_ha1(c.algorithm, user_, c.realm, password_);
    DigestResponseInput in{c.algorithm, ha1, c.nonce, cnonce, nc, std::string_view("auth"), method, uri};
    const std::string response = digest_response(in);
    std::string out = "Digest username=\"" + user_ + "\", realm=\"" + c.realm + "\", nonce=\"" + c.nonce +
                      "\", uri=\"" + std::string(uri) + "\", response=\"" + response +
                      "\", algorithm=" + std::string(to_string(c.algorithm)) + ", cnonce=\"" + cnonce +
                      "\", qop=auth, nc=" + nc;
    if (c.opaque) out += ", opaque=\"" + *c.opaque + "\"";
    return out;
  }

  void set_password(std::string p) { password_ = std::move(p); }
  void set_to_user(std::string u) { to_user_ = std::move(u); }
  void set_nc(std::uint32_t nc) { nc_ = nc; }
  void set_cseq(std::uint32_t c) { cseq_ = c; }
  void set_call_id(std::string c) { call_id_ = std::move(c); }
  void forget_challenge() { challenge_.reset(); }
  [[nodiscard]] const std::optional<DigestChallenge>& challenge() const { return challenge_; }
  [[nodiscard]] const Endpoint& source() const { return source_; }
  [[nodiscard]] std::uint32_t cseq() const { return cseq_; }

 private:
  std::string user_;
  std::string password_;
  std::string domain_;
  Endpoint source_;
  FlowId flow_;
  std::string call_id_;
  std::optional<std::string> to_user_;
  std::uint32_t cseq_ = 0;
  std::uint32_t branch_ = 0;
  std::uint32_t nc_ = 0;
  bool proxy_ = false;
  std::optional<DigestChallenge> challenge_;
};

}  // namespace sipsite::sip::regtest
