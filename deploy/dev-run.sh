#!/usr/bin/env bash
# README command 1: installs dependencies, builds, initialises a site under
# ./sipsite-state (once) and runs the daemon in the foreground.
#   SIPSITE_DOMAIN=alpha.example deploy/dev-run.sh   (default: this host's FQDN)
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/install-deps.sh --build-only
build_dir=$(./deploy/build.sh | tail -n 1)
sipsite="$build_dir/server/app/sipsite"
state=./sipsite-state

domain="${SIPSITE_DOMAIN:-$(hostname -f 2>/dev/null || hostname)}"
case "$domain" in *.*) ;; *) domain="$domain.sipsite.test" ;; esac

if [ ! -f "$state/sipsite.db" ]; then
  init_output=$("$sipsite" init --domain "$domain" --state-dir "$state")
  password=$(printf '%s\n' "$init_output" | sed -n 's/^admin password: //p')
else
  password="(set at first run; issue a new one: $sipsite admin reset-password --state-dir $state)"
fi

echo "console URL:    https://127.0.0.1:8443/  (self-signed: check that the browser shows the fingerprint below)"
echo "admin password: $password"
echo "fingerprint:    $("$sipsite" fingerprint --state-dir "$state")"
echo "invite:         $("$sipsite" invite --state-dir "$state")"
echo
exec "$sipsite" run --state-dir "$state"
