# Installing and starting gitlab-runner on an Amazon Linux 2023 runner host: the cpu fleet's
# runners (runner-bootstrap.sh) and the jobs-mode manager (runner-manager-bootstrap.sh).
# Inlined like preamble.sh (userdata/host-scripts.ts), and after it: it uses log, retry and
# remove_on_exit. The including script sets ROOT and RUNNER_BIN, and its EXIT trap runs
# remove_scratch.

# The network step, one chain of &&, for retry.
download_runner() { # <dir> <release url>
  curl -fsSL -o "$1/gitlab-runner" "$2/binaries/gitlab-runner-linux-amd64" &&
    curl -fsSL -o "$1/release.sha256" "$2/release.sha256"
}

# The official binary of exactly this release, checked against the release's sha256 list, and
# the system user it runs as. A mismatch fails (through the ERR trap, as any step); the
# download goes whether it was installed or not.
install_gitlab_runner() { # <version>
  local url="https://gitlab-runner-downloads.s3.amazonaws.com/v$1" tmp expected actual
  tmp=$(mktemp -d)
  remove_on_exit "$tmp"
  retry "downloading gitlab-runner $1" download_runner "$tmp" "$url"
  expected=$(awk '$2 ~ /^[*]?(\.\/)?binaries\/gitlab-runner-linux-amd64$/ { print $1 }' "$tmp/release.sha256")
  actual=$(sha256sum "$tmp/gitlab-runner" | cut -d' ' -f1)
  if [ -z "$expected" ] || [ "$expected" != "$actual" ]; then
    log "checksum mismatch: expected '$expected', got '$actual'"
    return 1
  fi
  install -m 0755 "$tmp/gitlab-runner" "$RUNNER_BIN"
  rm -rf "$tmp"
  id gitlab-runner > /dev/null 2>&1 || useradd --system --create-home --home-dir /home/gitlab-runner --shell /sbin/nologin gitlab-runner
}

# gitlab-runner's systemd service (installed once; a reboot finds it) and the runner started.
start_gitlab_runner() {
  install -d -m 0755 "$ROOT/var/log/gitlab-runner"
  [ -e "$ROOT/etc/systemd/system/gitlab-runner.service" ] ||
    "$RUNNER_BIN" install --user=gitlab-runner --working-directory=/home/gitlab-runner
  systemctl daemon-reload
  systemctl enable --now gitlab-runner
}
