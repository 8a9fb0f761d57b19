#include "cli.hpp"

#include "backup_commands.hpp"
#include "commands.hpp"
#include "key_rotation.hpp"

#include <sipsite/metrics/build_info.hpp>
#include <sipsite/pki/certificate.hpp>

#include <CLI/CLI.hpp>

#include <functional>
#include <iostream>
#include <optional>
#include <string_view>
#include <utility>

namespace sipsite::app {

namespace {

// Flattens CLI11's message to one line.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

CLI::App* subcommand_named(CLI::App& level, const std::string& name) {
  auto found = level.get_subcommands([&name](CLI::App* s) { return s->check_name(name); });
  return found.empty() ? nullptr : found.front();
}

// True when `arg` is an option (of `level` or a command above it) that
// takes the next argument as its value.
bool takes_a_value(CLI::App& level, std::string_view arg) {
  if (arg.find('=') != std::string_view::npos) return false;
  for (CLI::App* app = &level; app != nullptr; app = app->get_parent()) {
    if (const CLI::Option* o = app->get_option_no_throw(std::string(arg))) return o->get_type_size_max() > 0;
  }
  return false;
}

// The command path the user typed ("sipsite peer") and the first word that
// stands where a command is expected but is none: CLI11 only says that a
// command is missing.
std::optional<std::pair<std::string, std::string>> unknown_command(CLI::App& app, int argc, char** argv) {
  CLI::App* level = &app;
  std::string path = "sipsite";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.starts_with('-')) {
      if (takes_a_value(*level, arg)) ++i;
      continue;
    }
    if (CLI::App* sub = subcommand_named(*level, arg)) {
      level = sub;
      path += " " + arg;
      continue;
    }
    if (level->get_subcommands([](CLI::App*) { return true; }).empty()) return std::nullopt;  // an argument
    return std::pair{path, arg};
  }
  return std::nullopt;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"sipsite: private SIP voice and messaging between trusted sites"};
  // The same identity as /metrics' sipsite_build_info.
  app.set_version_flag("--version", "sipsite " + std::string(metrics::build_version()) + " (commit " +
                                        std::string(metrics::build_commit()) + ")");
  app.require_subcommand(1);
  app.fallthrough();

  GlobalOptions g;
  std::string state_dir, key_file, config_file;
  app.add_option("--state-dir", state_dir, "State directory (default /var/lib/sipsite as root, else ./sipsite-state)");
  app.add_option("--db-key-file", key_file, "Database key file (default STATE/db.key)");
  app.add_option("--config", config_file, "Configuration file (default STATE/sipsite.toml if present)");
  app.add_option("--log-level", g.log_level, "LEVEL[,MODULE=LEVEL...], e.g. info,federation=debug (run only)");

  std::function<int()> command;
  const auto sub = [&](CLI::App& parent, const char* name, const char* help) {
    CLI::App* s = parent.add_subcommand(name, help);
    s->fallthrough();
    return s;
  };

  InitOptions init;
  init.validity_days = pki::kDefaultValidityDays;
  auto* init_cmd = sub(app, "init", "Create the site: keypair, certificate, encrypted database, admin password");
  init_cmd->add_option("--domain", init.domain, "The site's domain, e.g. alpha.example")->required();
  init_cmd->add_option("--public-address", init.public_address,
                       "HOST[:PORT] at which other sites reach this one, for invites and media (default: this "
                       "machine's first non-loopback IPv4 address)");
  init_cmd->add_option("--validity-days", init.validity_days, "Certificate validity (default 3650)");
  init_cmd->add_flag("--force", init.force, "Replace an existing site (destroys its identity and data)");
  init_cmd->callback([&] { command = [&] { return cmd_init(g, init); }; });

  bool check_only = false;
  auto* run_cmd = sub(app, "run", "Run the daemon (foreground; systemd Type=notify)");
  run_cmd->add_flag("--check", check_only, "Check the configuration and the site, then exit");
  run_cmd->callback([&] { command = [&] { return cmd_run(g, check_only); }; });
  sub(app, "fingerprint", "Print the site certificate's SHA-256 fingerprint")->callback([&] {
    command = [&] { return cmd_fingerprint(g); };
  });
  sub(app, "cert", "Print the site certificate (PEM)")->callback([&] { command = [&] { return cmd_cert(g); }; });
  sub(app, "invite", "Print a one-line invite for another site's admin")->callback([&] {
    command = [&] { return cmd_invite(g); };
  });
  RotateKeyOptions rotate;
  rotate.validity_days = pki::kDefaultValidityDays;
  auto* rotate_cmd =
      sub(app, "rotate-key", "New site key and certificate; trusted peers follow (proof signed with the old key)");
  rotate_cmd->add_option("--validity-days", rotate.validity_days, "Validity of the new certificate (default 3650)");
  rotate_cmd->add_flag("--force", rotate.force, "Rotate again within a day of the last rotation");
  rotate_cmd->callback([&] { command = [&] { return cmd_rotate_key(g, rotate); }; });
  sub(app, "config-reference", "Print the configuration reference (Markdown)")->callback([&] {
    command = [&] { return cmd_config_reference(); };
  });

  std::string backup_out;
  auto* backup = sub(app, "backup", "Write an encrypted snapshot of the database (safe while the daemon runs)");
  backup->add_option("--out", backup_out, "The new backup file (never overwritten)")->required();
  backup->callback([&] { command = [&] { return cmd_backup(g, backup_out); }; });
  std::string restore_in;
  auto* restore = sub(app, "restore", "Replace the database with a backup made with the same key (daemon stopped)");
  restore->add_option("--in", restore_in, "The backup file")->required();
  restore->callback([&] { command = [&] { return cmd_restore(g, restore_in); }; });

  auto* admin = sub(app, "admin", "Console administrator");
  admin->require_subcommand(1);
  sub(*admin, "reset-password", "Issue a new one-time admin password")->callback([&] {
    command = [&] { return cmd_admin_reset_password(g); };
  });

  auto* peer = sub(app, "peer", "Peer sites");
  peer->require_subcommand(1);
  PeerImportOptions import;
  auto* import_cmd = sub(*peer, "import", "Add a peer from its certificate (untrusted until you trust it)");
  auto* import_file = import_cmd->add_option("--file", import.file, "The peer's certificate, PEM");
  auto* import_bundle = import_cmd->add_option(
      "--bundle", import.bundle, "Many sites' certificates, PEM, one after the other: all imported or none");
  import_file->excludes(import_bundle);
  import_cmd->add_option("--address", import.address, "HOST:PORT of the peer's federation listener (with --file)")
      ->excludes(import_bundle);
  import_cmd->add_flag("--trust", import.trust, "With --bundle: store them trusted (you verified every fingerprint)")
      ->needs(import_bundle);
  import_cmd->callback([&] { command = [&] { return cmd_peer_import(g, import); }; });

  PeerSelector selector;
  std::string trust_address;
  std::vector<std::string> revoke_fingerprints;
  std::string revoke_file;
  for (const auto& [name, state, help] :
       {std::tuple{"trust", store::PeerState::trusted, "Trust a peer (after verifying its fingerprint)"},
        std::tuple{"revoke", store::PeerState::revoked, "Revoke a peer"}}) {
    auto* c = sub(*peer, name, help);
    const bool revoke = state == store::PeerState::revoked;
    auto* by_fp = revoke ? c->add_option("--fingerprint", revoke_fingerprints,
                                         "The peer's fingerprint (repeat it to revoke several at once)")
                         : c->add_option("--fingerprint", selector.fingerprint, "The peer's fingerprint");
    auto* by_domain = c->add_option("--domain", selector.domain, "The peer's domain");
    by_fp->excludes(by_domain);
    if (revoke) {
      auto* by_file = c->add_option("--file", revoke_file,
                                    "A file of fingerprints, one a line, all revoked at once ('#' comments)");
      by_file->excludes(by_domain);
    }
    if (state == store::PeerState::trusted) {
      c->add_option("--address", trust_address,
                    "HOST:PORT of its federation listener: where this site dials it from now on");
    }
    const store::PeerState target = state;
    c->callback([&, target] {
      command = [&, target] {
        if (target == store::PeerState::revoked) {
          if (revoke_fingerprints.size() > 1 || !revoke_file.empty()) {
            return cmd_peer_revoke_many(g, revoke_fingerprints, revoke_file);
          }
          if (!revoke_fingerprints.empty()) selector.fingerprint = revoke_fingerprints.front();
        }
        return cmd_peer_set_state(g, selector, target, trust_address);
      };
    });
  }
  std::string invite_text;
  auto* add = sub(*peer, "add", "Add and trust a site from its invite (its certificate is fetched and checked)");
  add->add_option("--invite", invite_text, "The one-line invite from the other site's admin")->required();
  add->callback([&] { command = [&] { return cmd_peer_add_invite(g, invite_text); }; });
  bool pending_json = false;
  auto* pending = sub(*peer, "pending", "List refused handshakes from unknown sites");
  pending->add_flag("--json", pending_json, "JSON output");
  pending->callback([&] { command = [&] { return cmd_peer_pending(g, pending_json); }; });
  std::string ignore_fp;
  auto* ignore = sub(*peer, "ignore", "Refuse a pending site for good (no new requests)");
  ignore->add_option("--fingerprint", ignore_fp, "The pending request's fingerprint")->required();
  ignore->callback([&] { command = [&] { return cmd_peer_ignore(g, ignore_fp); }; });
  std::string remove_fp;
  auto* remove = sub(*peer, "remove", "Delete a revoked or untrusted peer (revoke a trusted one first)");
  remove->add_option("--fingerprint", remove_fp, "The peer's fingerprint")->required();
  remove->callback([&] { command = [&] { return cmd_peer_remove(g, remove_fp); }; });
  bool json = false;
  auto* peer_list = sub(*peer, "list", "List peers");
  peer_list->add_flag("--json", json, "JSON output");
  peer_list->callback([&] { command = [&] { return cmd_peer_list(g, json); }; });

  auto* user = sub(app, "user", "Local users (AORs)");
  user->require_subcommand(1);
  std::string aor;
  bool password_stdin = false;
  auto* user_add = sub(*user, "add", "Add a user; the password is read from stdin");
  user_add->add_option("--aor", aor, "user@domain")->required();
  user_add->add_flag("--password-stdin", password_stdin, "Read the password from stdin (required)");
  user_add->callback([&] { command = [&] { return cmd_user_add(g, aor, password_stdin, std::cin); }; });
  auto* user_passwd = sub(*user, "passwd", "Change a user's password (read from stdin); their records stay");
  user_passwd->add_option("--aor", aor, "user@domain")->required();
  user_passwd->add_flag("--password-stdin", password_stdin, "Read the password from stdin (required)");
  user_passwd->callback([&] { command = [&] { return cmd_user_passwd(g, aor, password_stdin, std::cin); }; });
  auto* user_del = sub(*user, "del", "Delete a user");
  user_del->add_option("--aor", aor, "user@domain")->required();
  user_del->callback([&] { command = [&] { return cmd_user_del(g, aor); }; });
  auto* user_list = sub(*user, "list", "List users");
  user_list->add_flag("--json", json, "JSON output");
  user_list->callback([&] { command = [&] { return cmd_user_list(g, json); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --version
  } catch (const CLI::ParseError& e) {
    if (const auto unknown = unknown_command(app, argc, argv)) {
      return fail(kExitUsage, "unknown command '" + unknown->second + "' for '" + unknown->first + "' (see '" +
                                  unknown->first + " --help')");
    }
    return fail(kExitUsage, one_line(e.what()) + " (see 'sipsite --help')");
  }

  g.state_dir = state_dir.empty() ? default_state_dir() : std::filesystem::path(state_dir);
  if (!key_file.empty()) g.db_key_file = key_file;
  if (!config_file.empty()) g.config_file = config_file;
  if (!command) return fail(kExitUsage, "no command given (see 'sipsite --help')");
  return command();
}

}  // namespace sipsite::app
