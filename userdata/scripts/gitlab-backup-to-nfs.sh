#!/bin/sh
# Backs GitLab up to an NFS share (seed 000: archives on the NAS and, separately, the config
# and secrets without which a restore is impossible). Runs in the backup scheduler container
# of the docker platform (docker:*-cli image: busybox sh/crond and the Docker CLI), started by
# crond on the configured schedule or by hand:
#   docker exec gitlab-backup-scheduler gitlab-backup-to-nfs
#
# Each run, in order:
#   1. `gitlab-backup create` inside the GitLab container (repositories, database, uploads,
#      registry: nothing skipped); GitLab writes the archive to its own data directory;
#   2. copies that new archive to $NFS_DIR/gitlab/ under a temporary name, verifies it
#      (sha256 of the copy read back from the NAS with O_DIRECT, past this host's page cache:
#      the bytes the NAS serves match the source; whether they reached its disks is the
#      export's sync setting), then renames it into place;
#   3. archives gitlab.rb, gitlab-secrets.json and the git SSH host keys (the image keeps them
#      in /etc/gitlab; without them a restored GitLab greets every client with a new host key)
#      into $NFS_DIR/config/ (mode 0600), the same way;
#   4. deletes archives of those two kinds older than RETENTION_DAYS on the share, nothing else
#      (only after a successful run, so failing backups never prune the last good ones);
#   5. writes Prometheus textfile metrics for GitLab's node_exporter, atomically.
# Any failure: a log line naming the step, gitlab_backup_last_status 0 (the last success time
# is kept), no half-written file left behind, non-zero exit. Output goes to crond's stdout,
# which is the container's log (`docker logs gitlab-backup-scheduler`).
#
# Paths default to the scheduler container's mounts; the environment can override them.
set -eu
umask 077

BACKUP_SOURCE_DIR=${BACKUP_SOURCE_DIR:-/gitlab-backups}
GITLAB_CONFIG_DIR=${GITLAB_CONFIG_DIR:-/gitlab-config}
NFS_DIR=${NFS_DIR:-/nfs}
TEXTFILE_DIR=${TEXTFILE_DIR:-/textfile}
GITLAB_CONTAINER=${GITLAB_CONTAINER:-gitlab}
RETENTION_DAYS=${RETENTION_DAYS:-14}

ARCHIVE_DIR=$NFS_DIR/gitlab
CONFIG_ARCHIVE_DIR=$NFS_DIR/config
METRICS_FILE=$TEXTFILE_DIR/gitlab_backup.prom

start=$(date +%s)
step="start"
partial=""
metrics_tmp=""
archive_size=""

log() { printf '%s gitlab-backup-to-nfs: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

# File $1's bytes as the NFS server serves them: O_DIRECT reads bypass this host's page
# cache, which still holds what cp just wrote (a plain read would check the cache against
# itself). On a read error the output ends in a marker, so a checksum of it never matches.
read_from_server() {
  dd if="$1" iflag=direct bs=1048576 2> /dev/null || echo "gitlab-backup-to-nfs: read back failed"
}
fail() {
  log "ERROR: $*" >&2
  exit 1
}
begin() {
  step=$1
  log "step: $step"
}

# The value of one sample in the existing metrics file, or nothing.
previous_value() {
  if [ -r "$METRICS_FILE" ]; then
    sed -n "s/^$1 \\([0-9][0-9.eE+]*\\)\$/\\1/p" "$METRICS_FILE" | tail -n 1
  fi
}

metric() {
  printf '# HELP %s %s\n# TYPE %s gauge\n%s %s\n' "$1" "$2" "$1" "$1" "$3"
}

# Writes the textfile atomically: node_exporter reads only *.prom, so the temporary name is
# never scraped, and rename within a directory replaces the file in one step.
write_metrics() {
  metrics_tmp=$TEXTFILE_DIR/.gitlab_backup.prom.$$
  {
    metric gitlab_backup_last_run_timestamp_seconds "Unix time the last backup run started." "$start"
    if [ -n "$last_success" ]; then
      metric gitlab_backup_last_success_timestamp_seconds "Unix time the last successful backup run finished (archive and config on the share)." "$last_success"
    fi
    metric gitlab_backup_last_status "1 if the last backup run succeeded, 0 if it failed." "$status"
    if [ -n "$last_size" ]; then
      metric gitlab_backup_last_size_bytes "Size of the last archive copied to the share, in bytes." "$last_size"
    fi
    metric gitlab_backup_duration_seconds "Duration of the last backup run, in seconds." "$((end - start))"
  } > "$metrics_tmp" || return 1
  # node_exporter runs as another user: the file must be world-readable.
  chmod 0644 "$metrics_tmp" || return 1
  mv -f "$metrics_tmp" "$METRICS_FILE" || return 1
  metrics_tmp=""
}

finish() {
  code=$?
  trap - EXIT
  set +e
  if [ -n "$partial" ]; then rm -f "$partial"; fi
  end=$(date +%s)
  if [ "$code" -eq 0 ]; then
    status=1
    last_success=$end
    last_size=$archive_size
  else
    log "FAILED at step '$step' (exit $code)" >&2
    status=0
    last_success=$(previous_value gitlab_backup_last_success_timestamp_seconds)
    last_size=$(previous_value gitlab_backup_last_size_bytes)
  fi
  if ! write_metrics; then
    log "ERROR: could not write metrics to $METRICS_FILE" >&2
    if [ -n "$metrics_tmp" ]; then rm -f "$metrics_tmp"; fi
    if [ "$code" -eq 0 ]; then code=1; fi
  fi
  if [ "$code" -eq 0 ]; then log "backup finished in $((end - start))s"; fi
  exit "$code"
}
trap finish EXIT
# Without these a signal (docker stop) would end the shell without running the EXIT trap.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

begin "check settings"
case $RETENTION_DAYS in
  '' | *[!0-9]* | 0) fail "RETENTION_DAYS must be a whole number of days, at least 1 (got '$RETENTION_DAYS')" ;;
esac
[ -d "$NFS_DIR" ] || fail "$NFS_DIR does not exist: is the NFS volume mounted?"

begin "gitlab-backup create"
docker exec "$GITLAB_CONTAINER" gitlab-backup create CRON=1 || fail "gitlab-backup create in container $GITLAB_CONTAINER exited $?"

begin "find the new archive"
# Archives are named <unix time>_<date>_<version>_gitlab_backup.tar; the new one is the
# newest that started after this run did (never an older archive left from a previous run).
archive=""
archive_time=0
for f in "$BACKUP_SOURCE_DIR"/*_gitlab_backup.tar; do
  [ -f "$f" ] || continue
  name=${f##*/}
  t=${name%%_*}
  case $t in '' | *[!0-9]*) continue ;; esac
  if [ "$t" -ge "$start" ] && [ "$t" -ge "$archive_time" ]; then
    archive=$f
    archive_time=$t
  fi
done
[ -n "$archive" ] || fail "gitlab-backup create left no new *_gitlab_backup.tar in $BACKUP_SOURCE_DIR"
name=${archive##*/}
log "new archive: $name"

begin "copy archive to NFS"
mkdir -p "$ARCHIVE_DIR" || fail "cannot create $ARCHIVE_DIR"
partial=$ARCHIVE_DIR/.$name.partial
cp "$archive" "$partial" || fail "copying $archive to $partial failed"
# Read the copy back from the NAS and compare checksums (and so sizes) before it gets its
# real name: a file with an archive's name on the share is always complete.
source_sum=$(sha256sum < "$archive") || fail "cannot read $archive"
copy_sum=$(read_from_server "$partial" | sha256sum) || fail "cannot read back $partial"
[ "$source_sum" = "$copy_sum" ] || fail "copy read back from the share differs from the source (sha256 ${copy_sum%% *}, expected ${source_sum%% *})"
archive_size=$(stat -c %s "$partial") || fail "cannot stat $partial"
archive_size=$((archive_size + 0))
chmod 0600 "$partial" || fail "chmod $partial failed"
mv -f "$partial" "$ARCHIVE_DIR/$name" || fail "renaming $partial into place failed"
partial=""
log "copied $name ($archive_size bytes) to $ARCHIVE_DIR"

begin "archive gitlab.rb, gitlab-secrets.json and the SSH host keys"
for f in gitlab.rb gitlab-secrets.json; do
  [ -f "$GITLAB_CONFIG_DIR/$f" ] || fail "$GITLAB_CONFIG_DIR/$f is missing: without it a restore is impossible"
done
set -- gitlab.rb gitlab-secrets.json
for key in "$GITLAB_CONFIG_DIR"/ssh_host_*_key "$GITLAB_CONFIG_DIR"/ssh_host_*_key.pub; do
  if [ -f "$key" ]; then set -- "$@" "${key##*/}"; fi
done
[ "$#" -gt 2 ] || log "no SSH host keys in $GITLAB_CONFIG_DIR: a restored GitLab will present new ones"
mkdir -p "$CONFIG_ARCHIVE_DIR" || fail "cannot create $CONFIG_ARCHIVE_DIR"
config_name=gitlab-config-$(date -u +%Y%m%dT%H%M%SZ).tar.gz
partial=$CONFIG_ARCHIVE_DIR/.$config_name.partial
tar -czf "$partial" -C "$GITLAB_CONFIG_DIR" "$@" || fail "tar of $GITLAB_CONFIG_DIR failed"
listing=$(read_from_server "$partial" | tar -tz) || fail "cannot read back $partial"
expected_listing=$(printf '%s\n' "$@")
[ "$listing" = "$expected_listing" ] || fail "config archive holds unexpected entries: $listing"
chmod 0600 "$partial" || fail "chmod $partial failed"
mv -f "$partial" "$CONFIG_ARCHIVE_DIR/$config_name" || fail "renaming $partial into place failed"
partial=""
log "saved $config_name to $CONFIG_ARCHIVE_DIR"

begin "delete archives older than $RETENTION_DAYS days"
minutes=$((RETENTION_DAYS * 1440))
# Only our own names, only directly in our two directories; leftovers of interrupted copies
# (.*.partial) go after a day.
find "$ARCHIVE_DIR" -maxdepth 1 -type f -name '*_gitlab_backup.tar' -mmin +"$minutes" -print -exec rm -f {} \; \
  || fail "retention in $ARCHIVE_DIR failed"
find "$CONFIG_ARCHIVE_DIR" -maxdepth 1 -type f -name 'gitlab-config-*.tar.gz' -mmin +"$minutes" -print -exec rm -f {} \; \
  || fail "retention in $CONFIG_ARCHIVE_DIR failed"
find "$ARCHIVE_DIR" "$CONFIG_ARCHIVE_DIR" -maxdepth 1 -type f \
  \( -name '.*_gitlab_backup.tar.partial' -o -name '.gitlab-config-*.tar.gz.partial' \) -mmin +1440 -print -exec rm -f {} \; \
  || fail "removing stale partial copies failed"
# The EXIT trap (finish) writes the metrics and sets the exit code.
