#pragma once
// The sipsite commands. Each returns the process exit code and writes its
// one-line error to stderr itself (see site_access.hpp).

#include "site_access.hpp"

#include <sipsite/store/peer_repository.hpp>

#include <iosfwd>
#include <string>

namespace sipsite::app {

struct InitOptions {
  std::string domain;
  std::string public_address;  // empty: default_public_address()
  int validity_days = 0;
  bool force = false;
};
int cmd_init(const GlobalOptions& g, const InitOptions& o);
int cmd_fingerprint(const GlobalOptions& g);
int cmd_cert(const GlobalOptions& g);
int cmd_invite(const GlobalOptions& g);
int cmd_admin_reset_password(const GlobalOptions& g);
int cmd_config_reference();

struct PeerImportOptions {
  std::string file;
  std::string address;  // optional: a peer that only dials in has none
  // Instead of `file`: a bundle of certificates, one per site, imported in
  // one transaction (--trust: stored trusted, the admin verified the list).
  std::string bundle;
  bool trust = false;
};
int cmd_peer_import(const GlobalOptions& g, const PeerImportOptions& o);

struct PeerSelector {
  std::string fingerprint;
  std::string domain;
};
// Trusting a fingerprint that is only a pending request makes it a peer
// (its address, if `address` is empty, stays unknown: it dials in).
int cmd_peer_set_state(const GlobalOptions& g, const PeerSelector& who, store::PeerState state,
                       const std::string& address = {});
// `peer revoke` naming several peers (--fingerprint repeated, or --file with
// one fingerprint a line): all revoked in one transaction, or none.
int cmd_peer_revoke_many(const GlobalOptions& g, const std::vector<std::string>& fingerprints, const std::string& file);
// Connects to the invite's address, checks the certificate presented
// against the invite's fingerprint, and stores the peer as trusted.
int cmd_peer_add_invite(const GlobalOptions& g, const std::string& invite);
int cmd_peer_pending(const GlobalOptions& g, bool json);
int cmd_peer_ignore(const GlobalOptions& g, const std::string& fingerprint);
int cmd_peer_list(const GlobalOptions& g, bool json);
// Deletes a revoked or untrusted peer (a trusted one must be revoked first).
int cmd_peer_remove(const GlobalOptions& g, const std::string& fingerprint);

int cmd_user_add(const GlobalOptions& g, const std::string& aor, bool password_stdin, std::istream& in);
// New digest credentials for an existing user; their records stay.
int cmd_user_passwd(const GlobalOptions& g, const std::string& aor, bool password_stdin, std::istream& in);
int cmd_user_del(const GlobalOptions& g, const std::string& aor);
int cmd_user_list(const GlobalOptions& g, bool json);

// check_only: validate configuration and site, print a summary, exit.
int cmd_run(const GlobalOptions& g, bool check_only);

}  // namespace sipsite::app
