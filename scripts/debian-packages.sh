#!/usr/bin/env bash
# Install the Debian packages the test rig needs, only those missing.
# Used by `npm test` (scripts/bootstrap.mjs) and so by .ci/run. Idempotent and
# quick when everything is present.
#
#   chromium, firefox-esr: browser tests (strace: the browsers' network audit)
#   magic-wormhole (+ mailbox server, transit relay): interop peers
#   coturn: TURN tests; redis-server: the gateway's shared store (--store redis://);
#   haproxy: the load balancer in front of several gateways (failover tests)
#   iproute2 + util-linux: the private network namespace
set -euo pipefail

packages=(
  chromium
  firefox-esr
  strace
  magic-wormhole
  python3-magic-wormhole-mailbox-server
  magic-wormhole-transit-relay
  coturn
  redis-server
  haproxy
  iproute2
  util-linux
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "debian: all present"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: the tests need these Debian packages and apt-get is not here: ${missing[*]}" >&2
  exit 1
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "error: installing ${missing[*]} needs root, and sudo is not available" >&2
    exit 1
  fi
fi
echo "debian: installing ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
