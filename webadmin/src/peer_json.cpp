#include <sipsite/webadmin/peer_json.hpp>

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/pairing.hpp>

namespace sipsite::webadmin {

namespace {

// The fields a fingerprint brings: grouped for reading aloud, and the
// pairing code with this site.
void add_fingerprint_fields(nlohmann::json& row, std::string_view fingerprint, std::string_view own_fingerprint) {
  const auto fp = pki::Fingerprint::parse(fingerprint);
  if (!fp) return;
  row["fingerprint_grouped"] = fp->to_grouped_string();
  if (const auto own = pki::Fingerprint::parse(own_fingerprint)) row["pairing_code"] = pki::pairing_code(*own, *fp);
}

}  // namespace

nlohmann::json peer_json(const store::PeerRecord& p, std::string_view own_fingerprint) {
  nlohmann::json row = {{"domain", p.domain},
                        {"fingerprint", p.fingerprint},
                        {"address", p.address},
                        {"state", store::to_string(p.state)},
                        {"created_at", pki::iso8601(p.created_at)},
                        {"updated_at", pki::iso8601(p.updated_at)}};
  add_fingerprint_fields(row, p.fingerprint, own_fingerprint);
  if (auto cert = pki::Certificate::from_pem(p.certificate_pem)) {
    row["certificate_not_after"] = pki::iso8601(std::chrono::system_clock::to_time_t(cert->not_after()));
  }
  return row;
}

nlohmann::json pending_json(const store::PendingRequest& r, std::string_view own_fingerprint) {
  nlohmann::json row = {{"fingerprint", r.fingerprint},
                        {"claimed_domain", r.claimed_domain},
                        {"source_address", r.source_address},
                        {"first_seen", pki::iso8601(r.first_seen)},
                        {"last_seen", pki::iso8601(r.last_seen)},
                        {"attempts", r.attempts},
                        {"impostor", r.impostor}};
  add_fingerprint_fields(row, r.fingerprint, own_fingerprint);
  return row;
}

}  // namespace sipsite::webadmin
