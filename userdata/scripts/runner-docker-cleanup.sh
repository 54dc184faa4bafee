#!/bin/sh
# Frees the disk the CI runners use on a shared Docker host (the homelab), and touches nothing
# else. Other services live on this host too: a compose service stopped for maintenance, its
# volumes and its images are not ours to prune. Runs in the docker-cleanup scheduler container
# (docker:*-cli image: busybox and the Docker CLI) from crond.
#
# Removes, in order:
#   1. stopped containers the runners created (label com.gitlab.gitlab-runner.managed=true)
#      older than CLEANUP_OLDER_THAN;
#   2. the runners' cache volumes (same label) created more than CLEANUP_CACHE_OLDER_THAN ago
#      and used by no container (`docker volume rm` refuses a volume in use); a cache is only
#      a cache: the next job fills it again;
#   3. dangling images (no tag left, e.g. the previous image of a tag pulled again) older than
#      CLEANUP_OLDER_THAN. Never a tagged image: `until` compares the image's creation time,
#      not its last use, so it would remove the job and helper images every job needs;
#   4. build cache older than CLEANUP_OLDER_THAN.
# Dedicated runner hosts (the AWS fleet) use docker-cleanup.sh, seed 004's broad prune.
#
# Durations are Docker's: a number and s, m or h (e.g. 4h, 168h).
set -eu

older_than="${CLEANUP_OLDER_THAN:?CLEANUP_OLDER_THAN is not set, e.g. 4h}"
cache_older_than="${CLEANUP_CACHE_OLDER_THAN:?CLEANUP_CACHE_OLDER_THAN is not set, e.g. 168h}"
runner_label=com.gitlab.gitlab-runner.managed=true

log() { echo "runner-docker-cleanup: $*"; }

# Seconds in a Docker duration like 4h, 90m or 30s.
seconds_of() {
  case $1 in
    *[!0-9smh]* | '' | [smh]*) echo "runner-docker-cleanup: '$1' is not a duration like 4h, 90m or 30s" >&2; return 1 ;;
    *h) echo $((${1%h} * 3600)) ;;
    *m) echo $((${1%m} * 60)) ;;
    *s) echo "${1%s}" ;;
    *) echo "runner-docker-cleanup: '$1' has no unit (s, m or h)" >&2; return 1 ;;
  esac
}

# Unix time of a Docker timestamp: 2026-01-15T02:00:00Z, with fractions or a +hh:mm offset.
epoch_of() {
  stamp=$1
  local_part=$(echo "$stamp" | cut -c1-19 | tr T ' ')
  offset=$(echo "$stamp" | sed -n 's/.*\([+-]\)\([0-9][0-9]\):\([0-9][0-9]\)$/\1 \2 \3/p')
  base=$(date -u -d "$local_part" +%s) || return 1
  if [ -n "$offset" ]; then
    # shellcheck disable=SC2086 # three words: sign, hours, minutes
    set -- $offset
    shift_seconds=$(((${2#0} * 60 + ${3#0}) * 60))
    if [ "$1" = "+" ]; then base=$((base - shift_seconds)); else base=$((base + shift_seconds)); fi
  fi
  echo "$base"
}

cache_max_age=$(seconds_of "$cache_older_than")
seconds_of "$older_than" > /dev/null

log "removing stopped runner containers older than $older_than"
docker container prune --force --filter "label=$runner_label" --filter "until=$older_than"

log "removing unused runner cache volumes created more than $cache_older_than ago"
now=$(date -u +%s)
for volume in $(docker volume ls --quiet --filter "label=$runner_label"); do
  created=$(docker volume inspect --format '{{.CreatedAt}}' "$volume")
  created_at=$(epoch_of "$created") || { log "cannot read the creation time of $volume ('$created'), kept"; continue; }
  if [ $((now - created_at)) -lt "$cache_max_age" ]; then continue; fi
  if docker volume rm "$volume" > /dev/null 2>&1; then
    log "removed volume $volume"
  else
    log "kept volume $volume (in use)"
  fi
done

log "removing dangling images older than $older_than"
docker image prune --force --filter "until=$older_than"

log "removing build cache older than $older_than"
docker builder prune --force --filter "until=$older_than"

log "done"
