#!/usr/bin/env bash
# Checks that GitLab's data on the data volume belongs to the uids and gids gitlab.rb pins
# for Omnibus' accounts (git, gitlab-www, gitlab-redis, gitlab-psql, registry,
# gitlab-prometheus; README, "Accounts"). The volume outlives the instance: a replacement
# boots a fresh image, and without pinned ids Omnibus takes whatever system ids are free
# there, so repositories and database files would belong to the wrong accounts.
#
#   check  before `gitlab-ctl reconfigure`: exit 1, naming each path, when a path Omnibus
#          owns on the volume belongs to other ids. A blank volume passes.
#   adopt  once, for a volume written before the ids were pinned, with GitLab stopped: re-owns
#          every file of each old id to the pinned one (the mapping read from the same paths).
#
# The list: one line per path, relative to the data directory: <path> <uid> <gid or -> <label>.
set -euo pipefail

DATA_DIR="${DATA_DIR:-/var/opt/gitlab}"
OWNERS_LIST="${OWNERS_LIST:-/etc/gitlab-platform/data-owners.list}"

log() { echo "gitlab-data-owners: $*"; }

[ -r "$OWNERS_LIST" ] || { log "cannot read $OWNERS_LIST"; exit 2; }

# Prints "<path> <kind> <found> <expected> <label>" for every mismatch (kind: uid or gid).
mismatches() {
  local path uid gid label found_uid found_gid
  while read -r path uid gid label; do
    [ -n "$path" ] || continue
    [ -e "$DATA_DIR/$path" ] || continue
    read -r found_uid found_gid < <(stat -c '%u %g' "$DATA_DIR/$path")
    [ "$found_uid" = "$uid" ] || echo "$path uid $found_uid $uid $label"
    [ "$gid" = "-" ] || [ "$found_gid" = "$gid" ] || echo "$path gid $found_gid $gid $label"
  done < "$OWNERS_LIST"
}

check() {
  local found
  found=$(mismatches)
  if [ -z "$found" ]; then
    log "the data volume's owners match the pinned accounts"
    return 0
  fi
  local path kind had want label
  while read -r path kind had want label; do
    log "$DATA_DIR/$path: $kind is $had, but $label's $kind is pinned to $want"
  done <<< "$found"
  log "refusing to start GitLab: its accounts would not own their data on this volume."
  log "A volume written before the ids were pinned: run 'sudo /usr/local/sbin/gitlab-data-owners adopt'"
  log "once, then 'sudo /usr/local/sbin/gitlab-bootstrap' again (README, Accounts)."
  return 1
}

adopt() {
  local found
  found=$(mismatches)
  if [ -z "$found" ]; then
    log "nothing to adopt: the owners already match"
    return 0
  fi
  # One new id for each old one, and no old id that is also a new one (re-owning in turn
  # would then move files twice).
  declare -A uid_map=() gid_map=()
  local path kind had want label
  while read -r path kind had want label; do
    if [ "$kind" = uid ]; then
      [ -z "${uid_map[$had]:-}" ] || [ "${uid_map[$had]}" = "$want" ] ||
        { log "uid $had owns paths of two accounts (${uid_map[$had]} and $want): re-own by hand"; return 1; }
      uid_map[$had]=$want
    else
      [ -z "${gid_map[$had]:-}" ] || [ "${gid_map[$had]}" = "$want" ] ||
        { log "gid $had owns paths of two accounts (${gid_map[$had]} and $want): re-own by hand"; return 1; }
      gid_map[$had]=$want
    fi
  done <<< "$found"
  local id
  for id in "${!uid_map[@]}"; do
    [ -z "${uid_map[${uid_map[$id]}]:-}" ] || { log "uid ${uid_map[$id]} is both an old and a new owner: re-own by hand"; return 1; }
  done
  for id in "${!gid_map[@]}"; do
    [ -z "${gid_map[${gid_map[$id]}]:-}" ] || { log "gid ${gid_map[$id]} is both an old and a new group: re-own by hand"; return 1; }
  done
  for id in "${!uid_map[@]}"; do
    log "re-owning every file of uid $id under $DATA_DIR to ${uid_map[$id]}"
    find "$DATA_DIR" -xdev -uid "$id" -exec chown -h "${uid_map[$id]}" {} +
  done
  for id in "${!gid_map[@]}"; do
    log "re-grouping every file of gid $id under $DATA_DIR to ${gid_map[$id]}"
    find "$DATA_DIR" -xdev -gid "$id" -exec chgrp -h "${gid_map[$id]}" {} +
  done
  check
}

case "${1:-}" in
  check) check ;;
  adopt) adopt ;;
  *)
    echo "usage: gitlab-data-owners check|adopt" >&2
    exit 2
    ;;
esac
