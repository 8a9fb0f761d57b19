// init, fingerprint, cert, invite, rotate-key, admin reset-password,
// config-reference.

#include "commands.hpp"
#include "config.hpp"
#include "host_addresses.hpp"
#include "key_rotation.hpp"
#include "public_address.hpp"

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/domain_name.hpp>
#include <sipsite/pki/invite.hpp>
#include <sipsite/pki/rotation_proof.hpp>
#include <sipsite/store/admin_repository.hpp>
#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/unix_time.hpp>
#include <sipsite/store/state_dir.hpp>
#include <sipsite/webadmin/password.hpp>

#include <fcntl.h>
#include <iostream>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace sipsite::app {

namespace {

constexpr std::string_view kAdminUser = "admin";

// Files init created, removed again unless init completes.
class CreatedFiles {
 public:
  void add(std::filesystem::path p) { files_.push_back(std::move(p)); }
  void keep() { files_.clear(); }
  ~CreatedFiles() {
    for (const auto& f : files_) {
      std::error_code ec;
      std::filesystem::remove(f, ec);
    }
  }

 private:
  std::vector<std::filesystem::path> files_;
};

std::vector<std::filesystem::path> database_files(const std::filesystem::path& db) {
  return {db, db.string() + "-wal", db.string() + "-shm"};
}

int prepare_state_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(kExitRuntime, "cannot create state directory " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
    return kExitOk;
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    return fail(kExitUsage, "state directory " + dir.string() + " is not a directory");
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    std::cerr << "sipsite: warning: " << dir.string() << " is accessible by group or others; consider chmod 700"
              << std::endl;
  }
  return kExitOk;
}

// A fresh one-time admin password, stored as its hash with must_change set.
store::Result<std::string> reset_admin_password(store::Database& db) {
  std::string password = webadmin::generate_one_time_password();
  const auto hash = webadmin::hash_password(password);
  if (!hash) return store::Error{store::Errc::io, "cannot hash the admin password"};
  if (auto r = store::AdminRepository(db).put({std::string(kAdminUser), *hash, true, 0}); !r) return r.error();
  return password;
}

// An exclusive lock on the state directory for the duration of init, so two
// concurrent inits cannot interleave key and database creation.
class StateDirLock {
 public:
  explicit StateDirLock(const std::filesystem::path& dir)
      : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~StateDirLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;
  bool locked() const { return fd_ >= 0; }

 private:
  int fd_;
};

}  // namespace

int cmd_init(const GlobalOptions& g, const InitOptions& o) {
  const std::string domain = pki::lowercase_domain(o.domain);
  if (!pki::is_valid_domain_name(domain)) {
    return fail(kExitUsage, "--domain '" + o.domain + "' is not a valid domain name (e.g. alpha.example)");
  }
  if (o.validity_days < 1 || o.validity_days > 36500) {
    return fail(kExitUsage, "--validity-days must be between 1 and 36500");
  }
  const auto first_lan_address = o.public_address.empty() ? first_non_loopback_ipv4() : std::nullopt;
  const std::string public_address =
      !o.public_address.empty() ? o.public_address : first_lan_address.value_or("127.0.0.1");
  const std::string public_address_note =
      !o.public_address.empty() ? ""
      : first_lan_address
          ? " (this machine's first non-loopback address; choose another with 'init --public-address' or "
            "site.public_address in the configuration)"
          : " (this machine has no address but loopback: other sites cannot reach it; choose one with "
            "'init --public-address' or site.public_address in the configuration)";
  if (Config check; auto err = set_public_address(public_address, check)) {
    return fail(kExitUsage, "--public-address: " + *err);
  }
  if (int rc = prepare_state_dir(g.state_dir); rc != kExitOk) return rc;
  const StateDirLock lock(g.state_dir);
  if (!lock.locked()) return fail(kExitRuntime, "cannot lock state directory " + g.state_dir.string());

  const auto db_path = store::database_path(g.state_dir);
  const KeySource key_source = resolve_key_source(g);
  std::error_code ec;
  if (std::filesystem::exists(db_path, ec)) {
    if (!o.force) {
      return fail(kExitRuntime, "a site is already initialised in " + g.state_dir.string() +
                                    "; 'init --force' replaces it and destroys its identity, users and peers");
    }
    for (const auto& f : database_files(db_path)) std::filesystem::remove(f, ec);
    if (key_source.is_default) std::filesystem::remove(key_source.path, ec);
  }

  CreatedFiles created;
  std::optional<store::DbKey> key;
  if (std::filesystem::exists(key_source.path, ec)) {
    auto existing = store::read_key_file(key_source.path);
    if (!existing) return fail(existing.error());
    key = *existing;
  } else {
    auto fresh = store::DbKey::generate();
    if (!fresh) return fail(fresh.error());
    if (auto w = store::write_key_file(key_source.path, *fresh); !w) return fail(w.error());
    created.add(key_source.path);
    key = *fresh;
  }

  auto private_key = pki::PrivateKey::generate_p256();
  if (!private_key) return fail(kExitRuntime, private_key.error().message);
  auto cert =
      pki::Certificate::self_signed(*private_key, pki::CertificateOptions::valid_for_days(domain, o.validity_days));
  if (!cert) return fail(kExitRuntime, cert.error().message);

  auto db = store::Database::open(db_path, *key, store::OpenMode::create);
  if (!db) return fail(db.error());
  for (const auto& f : database_files(db_path)) created.add(f);
  std::string password;
  auto stored = db->transaction([&]() -> store::Result<void> {
    if (auto r = store::SiteRepository(*db).create({domain, cert->to_pem(), private_key->to_pem(), 0}); !r) return r;
    auto p = reset_admin_password(*db);
    if (!p) return p.error();
    password = std::move(*p);
    if (auto r = store_public_address(*db, public_address); !r) return r;
    return store::AuditRepository(*db).append(cli_actor(), "local", "site.init", domain);
  });
  if (!stored) return fail(stored.error());
  created.keep();

  std::cout << "site: " << domain << "\n"
            << "fingerprint: " << cert->fingerprint().to_string() << "\n"
            << "admin password: " << password << "\n"
            << "public address: " << public_address << public_address_note << "\n";
  std::cerr << "sipsite: the admin password is shown once; the console asks for a new one at first login\n"
            << "sipsite: database key: " << key_source.path.string()
            << " (keep a copy apart from database backups: without it the data is lost)" << std::endl;
  return kExitOk;
}

int cmd_fingerprint(const GlobalOptions& g) {
  auto site = open_site(g);
  if (!site) return fail(site.error());
  auto cert = pki::Certificate::from_pem(site->site.certificate_pem);
  if (!cert) return fail(kExitRuntime, "stored site certificate: " + cert.error().message);
  std::cout << cert->fingerprint().to_string() << "\n";
  return kExitOk;
}

int cmd_cert(const GlobalOptions& g) {
  auto site = open_site(g);
  if (!site) return fail(site.error());
  std::cout << site->site.certificate_pem;
  return kExitOk;
}

int cmd_invite(const GlobalOptions& g) {
  Config config;
  if (auto path = resolve_config_path(g)) {
    auto loaded = load_config_file(*path);
    if (!loaded) return fail(kExitUsage, loaded.error().message);
    config = std::move(*loaded);
  }
  auto site = open_site(g);
  if (!site) return fail(site.error());
  use_stored_settings(config, site->db);
  auto cert = pki::Certificate::from_pem(site->site.certificate_pem);
  if (!cert) return fail(kExitRuntime, "stored site certificate: " + cert.error().message);
  pki::Invite invite;
  invite.domain = site->site.domain;
  invite.address.host = config.public_host.empty() ? site->site.domain : config.public_host;
  invite.address.port =
      config.public_federation_port != 0 ? config.public_federation_port : config.federation_listen.port;
  invite.fingerprint = cert->fingerprint();
  std::cout << invite.to_string() << "\n";
  return kExitOk;
}

int cmd_rotate_key(const GlobalOptions& g, const RotateKeyOptions& o) {
  if (o.validity_days < 1 || o.validity_days > 36500) {
    return fail(kExitUsage, "--validity-days must be between 1 and 36500");
  }
  auto site = open_site(g);
  if (!site) return fail(site.error());
  auto old_cert = pki::Certificate::from_pem(site->site.certificate_pem);
  auto old_key = pki::PrivateKey::from_pem(site->site.private_key_pem);
  if (!old_cert || !old_key || !old_cert->matches(*old_key)) {
    return fail(kExitRuntime, "the stored site certificate and key do not match; restore from backup");
  }
  // A second rotation names the first one's certificate as its previous:
  // a peer that has not connected since the first still pins the original
  // and would see an unknown certificate (one hop only).
  constexpr std::int64_t kRecentRotation = 24 * 3600;
  const std::int64_t now = store::unix_now();
  if (site->site.rotated_at != 0 && now - site->site.rotated_at < kRecentRotation && !o.force) {
    return fail(kExitRuntime, "the key was rotated less than a day ago (" + iso8601(site->site.rotated_at) +
                                  "); peers that have not connected since still pin the key before it and would "
                                  "not follow a second rotation; wait, or use --force");
  }
  auto new_key = pki::PrivateKey::generate_p256();
  if (!new_key) return fail(kExitRuntime, new_key.error().message);
  auto new_cert = pki::make_rotated_certificate(
      *new_key, pki::CertificateOptions::valid_for_days(site->site.domain, o.validity_days), *old_cert, *old_key);
  if (!new_cert) return fail(kExitRuntime, new_cert.error().message);
  const std::string old_fp = old_cert->fingerprint().to_string();
  const std::string new_fp = new_cert->fingerprint().to_string();
  auto r = site->db.transaction([&]() -> store::Result<void> {
    if (auto s = store::SiteRepository(site->db).rotate_identity(site->site.certificate_pem, new_cert->to_pem(),
                                                                 new_key->to_pem());
        !s) {
      return s;
    }
    return store::AuditRepository(site->db).append(cli_actor(), "local", "site.rotate_key", old_fp + " -> " + new_fp);
  });
  if (!r) return fail(r.error());
  std::cout << new_fp << "\n";
  std::cerr << "sipsite: new site key and certificate for " << site->site.domain << " (was " << old_fp << ")\n"
            << "sipsite: trusted peers follow automatically: the new certificate carries a proof signed with the "
               "old key, which they verify against the pin they hold (peers offline now follow when they next "
               "connect)\n"
            << "sipsite: a running daemon switches federation to the new certificate within a second; LAN SIP TLS "
               "and the console keep the old one until it restarts"
            << std::endl;
  return kExitOk;
}

int cmd_admin_reset_password(const GlobalOptions& g) {
  auto site = open_site(g);
  if (!site) return fail(site.error());
  std::string password;
  auto r = site->db.transaction([&]() -> store::Result<void> {
    auto p = reset_admin_password(site->db);
    if (!p) return p.error();
    password = std::move(*p);
    return store::AuditRepository(site->db).append(cli_actor(), "local", "admin.reset_password", kAdminUser);
  });
  if (!r) return fail(r.error());
  std::cout << "admin password: " << password << "\n";
  return kExitOk;
}

int cmd_config_reference() {
  std::cout << config_reference_markdown();
  return kExitOk;
}

}  // namespace sipsite::app
