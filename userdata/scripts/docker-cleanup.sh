#!/bin/sh
# Frees disk on the Docker host (a full disk stops every job).
# Removes stopped containers, unused images, networks and build cache older than
# CLEANUP_OLDER_THAN, and unused anonymous volumes. Never touches anything labelled
# gitlab-platform.keep (every platform container, network and volume), and never host
# directories: GitLab, the registry, Prometheus and Grafana keep their data in bind mounts,
# which no prune command removes.
#
# Docker refuses `system prune --volumes` together with an `until` filter, so volumes are
# pruned in their own step (anonymous, unused volumes only: `docker volume prune` spares
# named volumes unless told `all=true`, which this script never does).
set -eu

older_than="${CLEANUP_OLDER_THAN:?CLEANUP_OLDER_THAN is not set, e.g. 4h}"
keep="label!=gitlab-platform.keep"

echo "docker-cleanup: pruning unused Docker data older than $older_than"
docker system prune --all --force --filter "until=$older_than" --filter "$keep"
docker volume prune --force --filter "$keep"
echo "docker-cleanup: done"
