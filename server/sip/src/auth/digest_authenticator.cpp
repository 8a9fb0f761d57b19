#include "sipsite/sip/auth/digest_authenticator.hpp"

#include <algorithm>

#include "sipsite/sip/message/header_id.hpp"
#include "sipsite/sip/message/response.hpp"
#include "sipsite/sip/message/uri.hpp"
#include "sipsite/common/ascii.hpp"

#include <cctype>

namespace sipsite::sip {
namespace {

// At most this many Authorization lines are looked at (a client has one per
// realm; more is noise or an attempt to make us parse a lot).
constexpr std::size_t kMaxCredentialHeaders = 4;

// Usernames are limited per key; long ones (never a real user) share a key
// by their prefix so that the limiter's memory stays small.
constexpr std::size_t kMaxUserKey = 128;

std::uint16_t effective_port(const SipUri& u) { return u.port.value_or(u.secure ? 5061 : 5060); }

}  // namespace

bool digest_uri_matches(std::string_view digest_uri, std::string_view request_uri) {
  if (digest_uri == request_uri) return true;
  const auto a = parse_uri(digest_uri);
  const auto b = parse_uri(request_uri);
  if (!a || !b || !a->is_sip() || !b->is_sip()) return false;
  const SipUri& x = a->sip_uri;
  const SipUri& y = b->sip_uri;
  if (x.secure != y.secure || !iequals(x.host, y.host) || effective_port(x) != effective_port(y)) return false;
  const auto ux = unescape(x.user);
  const auto uy = unescape(y.user);
  return ux && uy && *ux == *uy;
}

DigestAuthenticator::DigestAuthenticator(const Directory& directory, const Clock& clock, Random& random,
                                         Counters& counters, DigestAuthenticatorSettings settings)
    : directory_(directory),
      counters_(counters),
      settings_(std::move(settings)),
      nonces_(clock, random,
              DigestNonceSettings{settings_.secret, settings_.nonce_lifetime, settings_.max_tracked_nonces}),
      per_source_(clock, settings_.per_source),
      per_user_(clock, settings_.per_user) {
  // Unknown users are checked against these so that they cost what known
  // ones do. Their value is irrelevant (nobody can match an unknown user);
  // only the length must be right.
  const std::string seed = random.token();
  dummy_ha1_md5_ = digest_hash(DigestAlgorithm::md5, seed);
  dummy_ha1_sha256_ = digest_hash(DigestAlgorithm::sha256, seed);
  settings_.secret.clear();  // DigestNonces keeps its own copy
}

AuthDecision DigestAuthenticator::challenge(const Inbound& request, bool proxy, bool stale) {
  const std::string& realm = directory_.local_domain();
  Message response = proxy ? make_response(request.message, 407, "Proxy Authentication Required")
                           : make_response(request.message, 401, "Unauthorized");
  const std::string_view header = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
  DigestChallenge c;
  c.realm = realm;
  c.nonce = nonces_.issue(realm);
  c.opaque = nonces_.opaque(realm);
  c.qop = "auth";
  c.stale = stale;
  for (const DigestAlgorithm a : settings_.algorithms) {
    c.algorithm = a;
    response.add_header(header, format_digest_challenge(c));
  }
  AuthDecision d;
  d.verdict = AuthDecision::Verdict::challenge;
  d.response = std::move(response);
  return d;
}

bool DigestAuthenticator::offers(DigestAlgorithm a) const {
  return std::find(settings_.algorithms.begin(), settings_.algorithms.end(), a) != settings_.algorithms.end();
}

AuthDecision DigestAuthenticator::rate_limited(const Inbound& request, Duration remaining) {
  counters_.auth_rate_limited();
  Message response = make_response(request.message, 403, "Forbidden (too many failed attempts)");
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(remaining).count();
  response.add_header("Retry-After", std::to_string(seconds < 1 ? 1 : seconds));
  AuthDecision d;
  d.verdict = AuthDecision::Verdict::rate_limited;
  d.response = std::move(response);
  return d;
}

void DigestAuthenticator::record_failure(const std::string& source_key, const std::string* username) {
  counters_.auth_failure();
  per_source_.record_failure(source_key);
  if (username != nullptr) per_user_.record_failure(std::string_view(*username).substr(0, kMaxUserKey));
}

AuthDecision DigestAuthenticator::authenticate(const Inbound& request, bool proxy) {
  const std::string& realm = directory_.local_domain();
  const std::string source_key = rate_limit_source_key(request.source.host);
  if (const auto remaining = per_source_.blocked(source_key)) return rate_limited(request, *remaining);

  // The credentials for our realm, if any.
  const Message& m = request.message;
  std::optional<DigestCredentials> creds;
  bool malformed = false;
  std::size_t seen = 0;
  for (const auto& h : m.headers()) {
    if (h.id != (proxy ? HeaderId::proxy_authorization : HeaderId::authorization)) continue;
    if (++seen > kMaxCredentialHeaders) break;
    auto parsed = parse_digest_credentials(h.value);
    if (!parsed) {
      if (parsed.error() != DigestErrc::not_digest) malformed = true;
      continue;
    }
    if (parsed->realm != realm) continue;  // for another hop
    creds = std::move(*parsed);
    break;
  }
  if (!creds) {
    if (malformed) record_failure(source_key, nullptr);
    return challenge(request, proxy, false);
  }
  const std::string_view user_key = std::string_view(creds->username).substr(0, kMaxUserKey);
  std::string pair = std::string(user_key) + "\n" + source_key;
  if (const auto remaining = per_user_.blocked(user_key); remaining && !known_good_.contains(pair)) {
    return rate_limited(request, *remaining);
  }

  // Everything that does not depend on the user first; the outcome is
  // folded in at the end so that every path hashes once.
  const bool sha = is_sha256(creds->algorithm);
  bool acceptable = creds->qop.has_value() && iequals(*creds->qop, "auth") && !creds->userhash &&
                    offers(sha ? DigestAlgorithm::sha256 : DigestAlgorithm::md5) &&
                    digest_uri_matches(creds->uri, m.request_uri());
  // The opaque goes with the nonce (both change with the secret): a wrong
  // one with a right response is a stale challenge, not a failure.
  const bool opaque_ok = !creds->opaque || *creds->opaque == nonces_.opaque(realm);
  std::string_view ha1 = sha ? dummy_ha1_sha256_ : dummy_ha1_md5_;
  const auto user = directory_.find_user(creds->username);
  if (user) {
    const std::string& stored = sha ? user->ha1_sha256 : user->ha1_md5;
    if (stored.size() == ha1.size()) {
      ha1 = stored;
    } else {
      acceptable = false;  // no usable HA1 for this algorithm
    }
  } else {
    acceptable = false;
  }
  DigestResponseInput in;
  in.algorithm = creds->algorithm;
  in.ha1 = ha1;
  in.nonce = creds->nonce;
  in.cnonce = creds->cnonce;
  in.nc = creds->nc_text;
  in.qop = creds->qop ? std::optional<std::string_view>(*creds->qop) : std::nullopt;
  in.method = m.method();
  in.uri = creds->uri;
  const std::string expected = digest_response(in);
  const bool verified = digest_equal(expected, common::ascii_lower(creds->response)) && acceptable;

  if (!verified) {
    record_failure(source_key, &creds->username);
    return challenge(request, proxy, false);
  }
  if (!opaque_ok) return challenge(request, proxy, true);
  switch (nonces_.use(creds->nonce, realm, creds->nc)) {
    case NonceCheck::ok: break;
    case NonceCheck::replayed:
      counters_.auth_failure();  // a replay or a reordered request: not a password guess
      return challenge(request, proxy, true);
    case NonceCheck::invalid:
    case NonceCheck::expired: return challenge(request, proxy, true);
  }
  remember_good(std::move(pair));
  AuthDecision d;
  d.verdict = AuthDecision::Verdict::accepted;
  d.username = user->username;
  return d;
}

void DigestAuthenticator::remember_good(std::string pair) {
  if (known_good_.contains(pair)) return;
  if (known_good_.size() >= settings_.max_known_good && !known_good_order_.empty()) {
    known_good_.erase(known_good_order_.front());
    known_good_order_.pop_front();
  }
  known_good_.insert(pair);
  known_good_order_.push_back(std::move(pair));
}

}  // namespace sipsite::sip
