#include <sipsite/webadmin/address_check.hpp>

#include <sipsite/pki/invite.hpp>

namespace sipsite::webadmin {

AddressCheck check_own_address(const CertificateProbe& probe, std::string_view invite,
                               std::string_view own_fingerprint) {
  AddressCheck out;
  const auto parsed = pki::Invite::parse(invite);
  if (!parsed) {
    out.detail = "the invite cannot be read: " + parsed.error().message;
    return out;
  }
  out.address = parsed->address.to_string();
  if (!probe) {
    out.detail = "this console cannot make TLS connections, so the address was not checked";
    return out;
  }
  const auto probed = probe(parsed->address);
  if (!probed.certificate) {
    out.detail = "the invite's address does not lead back to this site: " + probed.error +
                 ". Set site.public_address (behind a NAT: its public address, with the federation port "
                 "forwarded; a NAT that does not loop back fails this check from inside), restart, and send the "
                 "new invite";
    return out;
  }
  if (probed.certificate->fingerprint().to_string() != own_fingerprint) {
    // Grouped: the form a person reads (and compares with the dashboard's).
    out.detail = "another site answers at " + out.address + " (fingerprint " +
                 probed.certificate->fingerprint().to_grouped_string() +
                 "): set site.public_address to this site's own address, restart, and send the new invite";
    return out;
  }
  out.reaches_this_site = true;
  out.detail = out.address + " leads to this site's federation port";
  return out;
}

}  // namespace sipsite::webadmin
