#!/bin/sh
# Says, every few minutes, whether the backups' NFS share is there: writes Prometheus textfile
# metrics for GitLab's node_exporter, and the GitLabBackupShareUnavailable and
# GitLabBackupShareCheckStale alerts read them. The backup alerts alone would notice a missing
# share only a day later, when the next backup is overdue.
#
#   gitlab_backup_share_up                          1 when $NFS_DIR is a mounted share this
#                                                   container can write to and read back
#   gitlab_backup_share_check_timestamp_seconds     when this check last ran
#
# When the NAS is down as the host boots, Docker cannot mount the share and does not start the
# scheduler at all: nothing runs this check, its timestamp goes stale, and that alerts too.
# Runs in the backup scheduler container (busybox), from crond.
set -eu
umask 077

NFS_DIR=${NFS_DIR:-/nfs}
TEXTFILE_DIR=${TEXTFILE_DIR:-/textfile}
# A hung NFS server (a soft mount retries for minutes) must not hang the check.
PROBE_TIMEOUT=${PROBE_TIMEOUT:-30}

up=0
problem=""
if ! awk -v dir="$NFS_DIR" '$2 == dir { found = 1 } END { exit !found }' /proc/mounts; then
  problem="$NFS_DIR is not a mounted share"
else
  probe="$NFS_DIR/.share-check.$$"
  if timeout "$PROBE_TIMEOUT" sh -c 'echo probe > "$1" && [ "$(cat "$1")" = probe ]' sh "$probe"; then
    up=1
  else
    problem="$NFS_DIR cannot be written and read back within ${PROBE_TIMEOUT}s"
  fi
  timeout "$PROBE_TIMEOUT" rm -f "$probe" || true
fi

metrics_tmp="$TEXTFILE_DIR/.gitlab_backup_share.prom.$$"
{
  printf '# HELP gitlab_backup_share_up 1 if the backups NFS share is mounted and writable.\n'
  printf '# TYPE gitlab_backup_share_up gauge\ngitlab_backup_share_up %s\n' "$up"
  printf '# HELP gitlab_backup_share_check_timestamp_seconds Unix time the share was last checked.\n'
  printf '# TYPE gitlab_backup_share_check_timestamp_seconds gauge\ngitlab_backup_share_check_timestamp_seconds %s\n' "$(date +%s)"
} > "$metrics_tmp"
chmod 0644 "$metrics_tmp"
mv -f "$metrics_tmp" "$TEXTFILE_DIR/gitlab_backup_share.prom"

if [ "$up" -ne 1 ]; then
  echo "gitlab-backup-share-check: ERROR: $problem" >&2
  exit 1
fi
