#!/usr/bin/env bash
# README command 1: installs dependencies, builds, initialises a site under
# ./sipsite-state (once) and runs the daemon in the foreground.
#   SIPSITE_DOMAIN=alpha.example deploy/dev-run.sh   (default: this host's FQDN)
#   SIPSITE_PUBLIC_ADDRESS=HOST[:PORT]                (default: the first non-loopback address)
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/install-deps.sh --build-only
build_dir=$(./deploy/build.sh | tail -n 1)
sipsite="$build_dir/server/app/sipsite"
state=./sipsite-state

domain="${SIPSITE_DOMAIN:-$(hostname -f 2>/dev/null || hostname)}"
case "$domain" in *.*) ;; *) domain="$domain.sipsite.test" ;; esac

if [ ! -f "$state/sipsite.db" ]; then
  init_output=$("$sipsite" init --domain "$domain" --state-dir "$state" \
                ${SIPSITE_PUBLIC_ADDRESS:+--public-address "$SIPSITE_PUBLIC_ADDRESS"})
  password=$(printf '%s\n' "$init_output" | sed -n 's/^admin password: //p')
  # The address other sites reach this one at (in the invite below): the
  # machine's first non-loopback address unless SIPSITE_PUBLIC_ADDRESS says.
  printf '%s\n' "$init_output" | grep '^public address: ' || true
else
  password="(set at first run; issue a new one: $sipsite admin reset-password --state-dir $state)"
fi

echo "console URL:    https://127.0.0.1:8443/  (self-signed: check that the browser shows the fingerprint below)"
echo "admin password: $password"
echo "fingerprint:    $("$sipsite" fingerprint --state-dir "$state")"
echo "invite:         $("$sipsite" invite --state-dir "$state")"
echo
exec "$sipsite" run --state-dir "$state"
