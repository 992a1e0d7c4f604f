#!/bin/sh
# Installs the Debian tools infragen's tests run for real, when they are missing:
# nix-bin (nix-instantiate), pdns-server + pdns-backend-bind (a real PowerDNS),
# pdns-backend-sqlite3 (a database for PowerDNS's HTTP API), nftables (nft -c),
# iproute2 (veth pairs between the network namespaces of the firewall packet tests),
# nodejs (runs the CI example's comment script), cloud-init (its schema check and
# network-config parser), docker.io (a private dockerd: compose's network step is replayed
# against it). Needs root; otherwise it names what is missing (and, under
# CI=true, fails).
set -eu

missing=""
command -v nix-instantiate >/dev/null 2>&1 || missing="$missing nix-bin"
command -v pdns_server >/dev/null 2>&1 || missing="$missing pdns-server"
[ -e /usr/lib/x86_64-linux-gnu/pdns/libbindbackend.so ] || ls /usr/lib/*/pdns/libbindbackend.so >/dev/null 2>&1 || missing="$missing pdns-backend-bind"
ls /usr/lib/*/pdns/libgsqlite3backend.so >/dev/null 2>&1 || missing="$missing pdns-backend-sqlite3"
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing="$missing nftables"
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || missing="$missing iproute2"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v cloud-init >/dev/null 2>&1 || missing="$missing cloud-init"
command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ] || missing="$missing docker.io"

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "setup-system: missing Debian packages:$missing (run as root, or install them)" >&2
    # Locally the tests that need them skip; in CI they must run, so missing tools fail.
    [ -n "${CI:-}" ] && exit 1
    exit 0
fi
echo "setup-system: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The package's own service would hold port 53; tests start their own server.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now pdns >/dev/null 2>&1 || true; fi
# cloud-init is installed for its schema check and parser only: it must not configure this
# machine at its next boot.
mkdir -p /etc/cloud && touch /etc/cloud/cloud-init.disabled
