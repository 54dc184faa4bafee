#!/bin/sh
# Entry point of the runner containers (runs as root): writes config.toml from its template
# with the runner token taken from the environment (never from a file in the image or the
# repo), gives the job user access to the host's Docker socket when this runner's jobs use
# it (JOBS_USE_DOCKER_SOCKET=1, the deploy runner only), then hands over to the image's own
# entry point.
#
# The RUNNER_ENTRYPOINT_* variables exist for the tests only; their defaults are the image's.
set -eu

config_dir="${RUNNER_ENTRYPOINT_CONFIG_DIR:-/etc/gitlab-runner}"
docker_socket="${RUNNER_ENTRYPOINT_DOCKER_SOCKET:-/var/run/docker.sock}"
group_file="${RUNNER_ENTRYPOINT_GROUP_FILE:-/etc/group}"
exec_target="${RUNNER_ENTRYPOINT_EXEC:-/usr/bin/dumb-init /entrypoint}"
template="$config_dir/config.toml.template"
config="$config_dir/config.toml"
# The user the image's command runs jobs as (`gitlab-runner run --user=gitlab-runner`).
job_user=gitlab-runner

: "${RUNNER_TOKEN:?RUNNER_TOKEN is not set: pass the runner authentication token as a sensitive variable}"
case "$RUNNER_TOKEN" in
  *[!A-Za-z0-9_.-]*)
    echo "runner-entrypoint: RUNNER_TOKEN contains characters a runner token never has" >&2
    exit 1
    ;;
esac

# The name of the group with gid $1 in the group file, or nothing.
group_of_gid() {
  awk -F: -v gid="$1" '$3 == gid { print $1; exit }' "$group_file"
}

# Whether user $1 is listed as a member of group $2.
is_member() {
  awk -F: -v user="$1" -v group="$2" '
    $1 == group { n = split($4, members, ","); for (i = 1; i <= n; i++) if (members[i] == user) found = 1 }
    END { exit !found }' "$group_file"
}

# Shell-executor jobs run as $job_user, not root. The socket is the host's (root:docker,
# 0660, with the HOST's docker gid, which no group in the image need have): put the job
# user in the group owning it. Idempotent, as a restarted container keeps /etc/group.
if [ "${JOBS_USE_DOCKER_SOCKET:-}" = 1 ]; then
  if [ ! -S "$docker_socket" ]; then
    echo "runner-entrypoint: JOBS_USE_DOCKER_SOCKET=1 but $docker_socket is not a socket: mount the host's Docker socket into this container" >&2
    exit 1
  fi
  gid=$(stat -c %g "$docker_socket")
  group=$(group_of_gid "$gid")
  if [ -z "$group" ]; then
    group=docker-host
    # A group of that name with another gid (the host's docker gid changed): keep both apart.
    if awk -F: -v name="$group" '$1 == name { found = 1 } END { exit !found }' "$group_file"; then group="docker-host-$gid"; fi
    addgroup -g "$gid" "$group"
  fi
  if ! is_member "$job_user" "$group"; then
    addgroup "$job_user" "$group"
  fi
  echo "runner-entrypoint: $job_user is in group $group (gid $gid), which owns $docker_socket"
fi

umask 077
sed -e "s|@@RUNNER_TOKEN@@|$RUNNER_TOKEN|" -e "s|{hostname}|$(hostname)|" "$template" > "$config.tmp"
if grep -q "@@" "$config.tmp"; then
  echo "runner-entrypoint: a placeholder is left in config.toml" >&2
  exit 1
fi
mv "$config.tmp" "$config"

# The token is in config.toml now; shell-executor jobs inherit the runner's environment.
unset RUNNER_TOKEN
# shellcheck disable=SC2086 # a command and its arguments, split on spaces
exec $exec_target "$@"
