#!/bin/sh
# Keeps CI build jobs off the LAN: installs the rules rendered by userdata/jobs-firewall.ts in
# the Docker host's firewall, and puts them back when something removes them (a firewall
# reload, `iptables -F`, a Docker restart that rebuilds its chains). Runs in the
# gitlab-jobs-firewall container (host network, NET_ADMIN):
#   jobs-firewall keep    apply, then re-apply every JOBS_FIREWALL_INTERVAL seconds (the default)
#   jobs-firewall apply   apply once
#   jobs-firewall check   exit 0 only if the rules are in place (the container's healthcheck)
#
# Applying: `iptables-restore --noflush` of the rules file (it replaces the contents of its two
# chains and nothing else), then one jump to each, first in DOCKER-USER (forwarded traffic)
# and in INPUT (traffic to the host), for packets coming in on JOBS_BRIDGE. IPv6 likewise when
# Docker manages ip6tables. Docker's chains can live in the nftables or the legacy iptables
# backend: the one holding DOCKER-USER is used.
set -eu

bridge="${JOBS_BRIDGE:?JOBS_BRIDGE is not set: the bridge build jobs run on, e.g. docker0}"
rules4="${JOBS_FIREWALL_RULES_V4:?JOBS_FIREWALL_RULES_V4 is not set}"
rules6="${JOBS_FIREWALL_RULES_V6:?JOBS_FIREWALL_RULES_V6 is not set}"
interval="${JOBS_FIREWALL_INTERVAL:-60}"
forward_chain=GITLAB-JOBS-FORWARD
input_chain=GITLAB-JOBS-INPUT

log() { echo "jobs-firewall: $*"; }

# The iptables command (of family $1: iptables or ip6tables) whose tables hold Docker's
# DOCKER-USER chain, or nothing.
backend() {
  for candidate in "$1-nft" "$1-legacy" "$1"; do
    command -v "$candidate" > /dev/null 2>&1 || continue
    if "$candidate" -w -S DOCKER-USER > /dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 0
}

# Whether $1 (iptables command) has the jump from chain $2 for $bridge to chain $3.
has_jump() {
  "$1" -w -C "$2" -i "$bridge" -j "$3" > /dev/null 2>&1
}

# Whether the chain $2 of $1 holds exactly what the rules file $3 puts there.
chain_matches() {
  expected=$(sed -n "s/^-A $2 //p" "$3")
  actual=$("$1" -w -S "$2" 2> /dev/null | sed -n "s/^-A $2 //p") || return 1
  [ "$actual" = "$expected" ]
}

in_place() {
  ipt=$1
  file=$2
  has_jump "$ipt" DOCKER-USER "$forward_chain" && has_jump "$ipt" INPUT "$input_chain" &&
    chain_matches "$ipt" "$forward_chain" "$file" && chain_matches "$ipt" "$input_chain" "$file"
}

# Applies rules file $2 with iptables command $1; prints what it changed.
apply_family() {
  ipt=$1
  file=$2
  if in_place "$ipt" "$file"; then return 0; fi
  "$ipt-restore" -w --noflush < "$file" 2> /dev/null || "$ipt-restore" --noflush < "$file"
  for hook in "DOCKER-USER:$forward_chain" "INPUT:$input_chain"; do
    from=${hook%%:*}
    to=${hook#*:}
    # Exactly one jump, first in its chain (Docker appends its own rules to DOCKER-USER).
    while has_jump "$ipt" "$from" "$to"; do "$ipt" -w -D "$from" -i "$bridge" -j "$to"; done
    "$ipt" -w -I "$from" 1 -i "$bridge" -j "$to"
  done
  log "rules for $bridge installed with $ipt"
}

require_bridge() {
  if ! ip link show dev "$bridge" > /dev/null 2>&1; then
    log "ERROR: no interface $bridge on this host: build jobs are not where the rules expect them" >&2
    return 1
  fi
}

apply_all() {
  require_bridge || return 1
  ipt4=$(backend iptables)
  if [ -z "$ipt4" ]; then
    log "ERROR: no DOCKER-USER chain in iptables (nft or legacy): is Docker's iptables integration on (the default)?" >&2
    return 1
  fi
  apply_family "$ipt4" "$rules4" || return 1
  ipt6=$(backend ip6tables)
  if [ -n "$ipt6" ]; then
    apply_family "$ipt6" "$rules6" || return 1
  fi
}

check_all() {
  require_bridge || return 1
  ipt4=$(backend iptables)
  [ -n "$ipt4" ] && in_place "$ipt4" "$rules4" || { log "IPv4 rules are not in place" >&2; return 1; }
  ipt6=$(backend ip6tables)
  if [ -n "$ipt6" ] && ! in_place "$ipt6" "$rules6"; then
    log "IPv6 rules are not in place" >&2
    return 1
  fi
}

case "${1:-keep}" in
  apply) apply_all ;;
  check) check_all ;;
  keep)
    trap 'exit 0' TERM INT
    while :; do
      apply_all || log "will retry in ${interval}s" >&2
      sleep "$interval" &
      wait $! || true
    done
    ;;
  *)
    echo "usage: jobs-firewall [keep|apply|check]" >&2
    exit 2
    ;;
esac
