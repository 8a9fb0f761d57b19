#pragma once
// The site's admin operations, one function each, for every front end (the
// command line and the console's REST API). Each validates what the admin
// gave, writes in one transaction with its audit record, and returns what it
// did or an OpError; front ends only parse input and format output, so the
// two cannot disagree. A change reaches a running daemon through the
// database (it polls PRAGMA data_version).
//
// Not thread-safe: use one SiteOperations per Database connection, from the
// thread that owns the connection.

#include <sipsite/admin/network_settings.hpp>
#include <sipsite/admin/operation_error.hpp>

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/invite.hpp>
#include <sipsite/store/api_token_repository.hpp>
#include <sipsite/store/database.hpp>
#include <sipsite/store/peer_repository.hpp>
#include <sipsite/store/pending_repository.hpp>
#include <sipsite/store/retention_settings.hpp>
#include <sipsite/store/user_repository.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sipsite::admin {

// Who acts, for the audit log: "cli:root" from "local", or the console
// admin's name (or "token:NAME") from the client's address.
struct Actor {
  std::string name;
  std::string source;
};

// This site, as the checks need it.
struct SiteIdentity {
  std::string domain;       // lowercase
  std::string fingerprint;  // colon form; empty when the certificate is unreadable
};

// A peer named by the admin: exactly one of the two is set.
struct PeerRef {
  std::string fingerprint;  // any form pki::Fingerprint::parse accepts
  std::string domain;
};

struct PeerImport {
  pki::Certificate certificate;
  // When set, the certificate must be the one the invite names (fingerprint
  // and domain), and the invite's address is the peer's unless `address`
  // is given.
  std::optional<pki::Invite> invite;
  std::string address;  // HOST:PORT text; empty: none (a peer that only dials in)
  // The admin has verified the peer already (`peer add --invite`): stored
  // trusted with the audit action "peer.add"; else untrusted, "peer.import".
  bool trust = false;
};

// What trust_peer() / revoke_peer() did.
struct PeerChange {
  store::PeerRecord peer;     // as stored afterwards
  bool changed = false;       // false: it was in that state already
  bool from_pending = false;  // a pending request became a trusted peer
  // Revoking named the peer by its key before a rotation (an old pin).
  std::optional<store::PreviousPin> old_pin;
};

// What issue_token() did: the stored record and the token itself, which
// exists nowhere else (only its hash is stored) and is shown this once.
struct IssuedToken {
  store::ApiTokenRecord record;
  std::string token;  // "sst_" + 43 base64url characters
};

// What change_settings() did.
struct SettingsChange {
  store::RetentionSettings settings;  // as stored afterwards
  std::string changes;                // "name=value ..." of what changed; empty: nothing did
};

class SiteOperations {
 public:
  SiteOperations(store::Database& db, SiteIdentity site, Actor actor);

  // --- users (AORs of this site; passwords are never stored, only HA1s)

  // Adds `aor` (user@domain or sip:user@domain, of this site's domain) with
  // digest credentials for `password`. Audit "user.add".
  OpResult<store::UserRecord> add_user(std::string_view aor, std::string_view password);
  // Replaces the user's digest credentials; their messages, call records
  // and registrations stay (a phone with the old password fails its next
  // registration refresh). Audit "user.password_change".
  OpResult<store::UserRecord> change_user_password(std::string_view aor, std::string_view password);
  // The one account deletion (store::UserRepository::delete_account).
  OpResult<store::DeletedAccount> delete_user(std::string_view aor);

  // --- peers

  // Stores a peer from its certificate (see PeerImport). Refuses this
  // site's own certificate or domain, a certificate outside its dates, and
  // a fingerprint or domain already known.
  OpResult<store::PeerRecord> import_peer(const PeerImport& import);
  // Many peers at once (migrating a federation): every certificate checked
  // as import_peer() checks one, then all stored in one transaction with an
  // audit record each ("peer.import", or "peer.trust" when `trust`: the
  // admin verified the whole list), or none: a certificate that fails, or a
  // fingerprint or domain already known or given twice, refuses the whole
  // import with an error naming it (1-based position and domain). No
  // addresses: the peers dial in, or get one when trusted again.
  OpResult<std::vector<store::PeerRecord>> import_peers(const std::vector<pki::Certificate>& certificates, bool trust);
  // Trusts a known peer (its stored certificate must be within its dates)
  // and, when `address` (HOST:PORT) is given, dials it there from now on
  // (trusting a trusted peer again only to give it an address is a change);
  // or turns a pending request with that fingerprint into a trusted peer at
  // `address` (or none). Audit "peer.trust".
  OpResult<PeerChange> trust_peer(const PeerRef& who, std::string_view address);
  // Revokes a peer. A fingerprint that is a peer's old pin after its key
  // rotation revokes that peer. Audit "peer.revoke".
  OpResult<PeerChange> revoke_peer(const PeerRef& who);
  // Revokes every peer named, in one transaction with an audit record each,
  // or none when one of them is unknown (the error names it). Peers revoked
  // already are reported unchanged.
  OpResult<std::vector<PeerChange>> revoke_peers(const std::vector<PeerRef>& who);
  // Refuses a pending request's fingerprint for good. Audit "peer.ignore".
  OpResult<void> ignore_pending(std::string_view fingerprint);
  // Deletes a revoked or untrusted peer (never a trusted one: revoke it
  // first, so that its links and calls end). If that site connects again it
  // is an unknown site: a pending request. Audit "peer.remove".
  OpResult<store::PeerRecord> remove_peer(std::string_view fingerprint);

  // --- API tokens (for scripts; see store::ApiTokenRepository)

  // A new token named `name` (1-64 letters, digits or -_.), created by the
  // actor. Audit "token.create" (the name, never the token).
  OpResult<IssuedToken> issue_token(std::string_view name);
  // Deletes the token with that id. Audit "token.revoke" (the id).
  OpResult<store::ApiTokenRecord> revoke_token(std::int64_t id);

  // --- settings

  // Stores `next` (store::validate's rules: OpErrc::bad_setting with its
  // words). Audit "settings.change" naming each changed value, only when
  // something changed.
  OpResult<SettingsChange> change_settings(const store::RetentionSettings& next);
  // Stores network settings for the daemon's next start (a setting without
  // a value goes back to its default), every value checked first
  // (OpErrc::bad_setting naming the key): all or nothing. Returns them
  // normalised. Audit "settings.change" ("KEY=VALUE ...", "(default)" for a
  // cleared one). Whether the configuration file sets a key, and so
  // overrides it, is the front end's to tell the admin.
  OpResult<std::vector<NetworkSetting>> change_network_settings(const std::vector<NetworkSetting>& settings);

 private:
  enum class UserWrite { add, replace_credentials };
  OpResult<store::UserRecord> write_user(std::string_view aor, std::string_view password, UserWrite write);
  OpResult<std::optional<store::PeerRecord>> find_peer(const PeerRef& who, std::string& fingerprint);
  OpResult<PeerChange> trust_pending(const store::PendingRequest& request, const std::string& address);
  // `address`, when not empty, replaces the peer's in the same transaction.
  OpResult<PeerChange> set_state(const store::PeerRecord& peer, store::PeerState state, std::string_view address = {});
  // The peer a revocation names: by fingerprint, domain, or an old pin kept
  // after its key rotation (then `old_pin` is set).
  OpResult<PeerChange> peer_to_revoke(const PeerRef& who);
  store::Result<void> audit(std::string_view action, std::string_view detail);

  store::Database& db_;
  SiteIdentity site_;
  Actor actor_;
};

}  // namespace sipsite::admin
