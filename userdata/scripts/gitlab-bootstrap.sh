#!/usr/bin/env bash
# Bootstraps GitLab Omnibus on an Ubuntu EC2 instance. Run once by cloud-init.
#
# Order matters and every step must succeed: a half-configured GitLab on an unmounted
# data directory would write repositories to the root volume, which dies with the instance.
# Any failure is logged with its step, leaves /var/lib/gitlab-platform/bootstrap.failed and
# exits non-zero, so `cloud-init status` reports an error.
set -Eeuo pipefail

# Tests run this script against a scratch tree: BOOTSTRAP_ROOT (empty on the host) prefixes
# every path the script itself reads, writes or runs. Paths it hands to other commands
# (the mount point, the device, the agent's config) and writes into files stay host paths.
readonly ROOT="${BOOTSTRAP_ROOT:-}"
readonly CONFIG="$ROOT/etc/gitlab-platform/bootstrap.env"
readonly SECRETS_LIST="$ROOT/etc/gitlab-platform/secrets.list"
readonly SECRETS_DIR="$ROOT/etc/gitlab/secrets.d"
readonly STATE_DIR="$ROOT/var/lib/gitlab-platform"
readonly LOG="$ROOT/var/log/gitlab-bootstrap.log"
readonly SBIN="$ROOT/usr/local/sbin"
readonly DATA_DIR=/var/opt/gitlab
# On a fresh Ubuntu image unattended-upgrades and apt-daily hold the dpkg lock for minutes
# after boot: every apt call waits for it (up to this many seconds) instead of failing at once.
readonly DPKG_LOCK_TIMEOUT=900
readonly SCRIPT_NAME="gitlab-bootstrap"

# log, aws_api, retry, require_settings, on_bootstrap_error and remove_on_exit (inlined in
# the user data).
# shellcheck source-path=SCRIPTDIR source=lib/preamble.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"

mkdir -p "$STATE_DIR"
exec > >(tee -a "$LOG") 2>&1

trap on_bootstrap_error ERR
# A download that failed its check (or the script) is not left behind: see remove_on_exit.
trap remove_scratch EXIT

# apt-get and apt-mark wait for the dpkg lock; DEBIAN_FRONTEND keeps them from prompting.
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$DPKG_LOCK_TIMEOUT" "$@"; }
apt_mark() { apt-mark -o "DPkg::Lock::Timeout=$DPKG_LOCK_TIMEOUT" "$@"; }

# The network steps, each one command or a chain of &&, for retry.
install_rsyslog() { apt_get update -q && apt_get install -y -q rsyslog; }
download_agent() { # <dir> <package url>
  curl -fsSL -o "$1/agent.deb" "$2" &&
    curl -fsSL -o "$1/agent.deb.sig" "$2.sig" &&
    curl -fsSL -o "$1/agent.gpg" https://amazoncloudwatch-agent.s3.amazonaws.com/assets/amazon-cloudwatch-agent.gpg
}
fetch_secret() { # <arn> <file>
  aws_api secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$1" \
    --query SecretString --output text > "$2"
}
fetch_gitlab_key() { # <keyring>
  curl -fsSL https://packages.gitlab.com/gitlab/gitlab-ce/gpgkey | gpg --dearmor --yes -o "$1"
}

step="read /etc/gitlab-platform/bootstrap.env"
# shellcheck source=/dev/null
. "$CONFIG"
require_settings "$CONFIG" GITLAB_VERSION DATA_VOLUME_ID AWS_REGION METRIC_HOST
rm -f "$STATE_DIR/bootstrap.failed"

step="restrict SSH to the git user"
# The user data's sshd drop-in allows only GitLab's git user (admins use SSM, not SSH).
# sshd may have started before cloud-init wrote it: make the running sshd read it now.
systemctl try-reload-or-restart ssh.service

step="wait for data volume"
# Nitro instances expose EBS volumes as NVMe devices named after the volume id.
device="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${DATA_VOLUME_ID//-/}"
for _ in $(seq 1 60); do
  [ -e "$ROOT$device" ] && break
  [ -e "$ROOT/dev/xvdf" ] && device=/dev/xvdf && break
  log "waiting for data volume $DATA_VOLUME_ID to be attached"
  sleep 5
done
[ -e "$ROOT$device" ] || { log "data volume $DATA_VOLUME_ID never appeared"; false; }

step="format data volume (only if blank)"
# blkid exits 2 when it finds no signature at all: only then is the volume new.
# (`|| probe=$?`, not `set +e`: the ERR trap fires even under `set +e`.)
probe=0
blkid -p "$device" > /dev/null 2>&1 || probe=$?
if [ "$probe" -eq 2 ]; then
  log "data volume is blank: creating ext4 filesystem"
  mkfs.ext4 -q -L gitlab-data "$device"
elif [ "$probe" -ne 0 ]; then
  log "blkid failed on $device (exit $probe); refusing to touch it"
  false
else
  log "data volume already has a filesystem: keeping it"
fi

step="mount data volume"
uuid=$(blkid -s UUID -o value "$device")
mkdir -p "$ROOT$DATA_DIR"
if ! grep -q "UUID=$uuid" "$ROOT/etc/fstab"; then
  echo "UUID=$uuid $DATA_DIR ext4 defaults,nofail,x-systemd.device-timeout=120 0 2" >> "$ROOT/etc/fstab"
fi
mountpoint -q "$DATA_DIR" || mount "$DATA_DIR"
mountpoint -q "$DATA_DIR"

step="install AWS CLI"
if ! command -v aws > /dev/null; then
  retry "snap install aws-cli" snap install aws-cli --classic
  export PATH="/snap/bin:$PATH"
fi

step="start the CloudWatch agent"
# Before GitLab itself, so a bootstrap that fails later still ships its log.
readonly CWAGENT_CONFIG=/etc/gitlab-platform/cloudwatch-agent.json
readonly CWAGENT_CTL=/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl
if [ -f "$ROOT$CWAGENT_CONFIG" ]; then
  command -v rsyslogd > /dev/null || retry "installing rsyslog" install_rsyslog
  if [ ! -x "$ROOT$CWAGENT_CTL" ]; then
    # AWS ships the agent for Ubuntu as a .deb in a bucket per region (no apt repository),
    # signed with the agent's key: installed only if the signature is by that key, whose
    # fingerprint AWS publishes (pinned here, so a key swapped in the bucket is refused).
    readonly CWAGENT_KEY_FINGERPRINT=937616F3450B7D806CBD9725D58167303B789C72
    agent=$(mktemp -d)
    remove_on_exit "$agent"
    url="https://amazoncloudwatch-agent-$AWS_REGION.s3.$AWS_REGION.amazonaws.com/ubuntu/amd64/latest/amazon-cloudwatch-agent.deb"
    retry "downloading the CloudWatch agent" download_agent "$agent" "$url"
    install -d -m 0700 "$agent/gnupg"
    gpg --homedir "$agent/gnupg" --batch --quiet --import "$agent/agent.gpg"
    fingerprints=$(gpg --homedir "$agent/gnupg" --batch --with-colons --fingerprint)
    [[ "$fingerprints" == *"fpr:::::::::$CWAGENT_KEY_FINGERPRINT:"* ]] ||
      { log "the CloudWatch agent's signing key is not the one AWS publishes"; false; }
    gpg --homedir "$agent/gnupg" --batch --verify "$agent/agent.deb.sig" "$agent/agent.deb"
    # Through apt (not dpkg -i), which waits for the dpkg lock; readable by apt's _apt user.
    chmod 0755 "$agent" && chmod 0644 "$agent/agent.deb"
    apt_get install -y -q "$agent/agent.deb"
    rm -rf "$agent"
  fi
  "$ROOT$CWAGENT_CTL" -a fetch-config -m ec2 -s -c "file:$CWAGENT_CONFIG"
fi

step="check who owns GitLab's data on the volume"
# gitlab.rb pins every Omnibus account's uid and gid; a volume written by other ids (an
# instance from before the ids were pinned) must be re-owned first, never started on.
env DATA_DIR="$ROOT$DATA_DIR" OWNERS_LIST="$ROOT/etc/gitlab-platform/data-owners.list" "$SBIN/gitlab-data-owners" check

step="fetch secrets"
install -d -m 0700 "$SECRETS_DIR"
if [ -s "$SECRETS_LIST" ]; then
  # Root-only for the secret files and nothing else: apt reads its keyring as the _apt
  # user, and GitLab's reconfigure expects the usual umask for what it creates.
  umask 077
  while read -r name arn; do
    [ -n "$name" ] || continue
    log "fetching secret '$name' from Secrets Manager"
    retry "fetching secret '$name'" fetch_secret "$arn" "$SECRETS_DIR/$name.tmp"
    [ -s "$SECRETS_DIR/$name.tmp" ] || { log "secret '$name' is empty"; false; }
    mv "$SECRETS_DIR/$name.tmp" "$SECRETS_DIR/$name"
  done < "$SECRETS_LIST"
  umask 022
fi

step="restore GitLab's secrets and SSH host keys from the data volume"
"$SBIN/gitlab-keep-identity" restore
# sshd reads host keys when it starts: serve the restored ones.
systemctl try-restart ssh.service

step="add GitLab package repository"
codename=$(. "$ROOT/etc/os-release" && echo "$VERSION_CODENAME")
readonly KEYRING=/etc/apt/keyrings/gitlab-ce.gpg
readonly APT_SOURCE=/etc/apt/sources.list.d/gitlab-ce.list
install -d -m 0755 "$ROOT/etc/apt/keyrings"
retry "downloading GitLab's package signing key" fetch_gitlab_key "$ROOT$KEYRING"
echo "deb [signed-by=$KEYRING] https://packages.gitlab.com/gitlab/gitlab-ce/ubuntu/ $codename main" \
  > "$ROOT$APT_SOURCE"
# apt verifies signatures as the unprivileged _apt user: both must be world-readable.
chmod 0644 "$ROOT$KEYRING" "$ROOT$APT_SOURCE"
retry "apt-get update" apt_get update -q

step="install gitlab-ce $GITLAB_VERSION"
# We run reconfigure ourselves, after the config and secrets are in place.
touch "$ROOT/etc/gitlab/skip-auto-reconfigure"
retry "installing gitlab-ce $GITLAB_VERSION" apt_get install -y -q "gitlab-ce=$GITLAB_VERSION"
apt_mark hold gitlab-ce

step="gitlab-ctl reconfigure"
gitlab-ctl reconfigure

step="keep GitLab's secrets and SSH host keys on the data volume"
"$SBIN/gitlab-keep-identity" save

step="apply application settings"
"$SBIN/gitlab-apply-settings"

step="enable host units"
if [ -n "${ENABLE_UNITS:-}" ]; then
  systemctl daemon-reload
  # shellcheck disable=SC2086 # a space-separated list of unit names
  systemctl enable --now $ENABLE_UNITS
fi

step="ensure the automation token"
# The admin token the environment's second stack gives GitLab's Terraform provider: made on
# first boot and put into its Secrets Manager secret, checked on every later boot. After the
# host units, so a failure here still leaves backups and the daily renewal timer (which heals
# a lost write) running.
if [ -n "${AUTOMATION_TOKEN_STORE:-}" ]; then
  AUTOMATION_TOKEN_STORE="$AUTOMATION_TOKEN_STORE" AWS_REGION="$AWS_REGION" "$SBIN/gitlab-automation-token"
fi

step="done"
date -u +%FT%TZ > "$STATE_DIR/bootstrap.done"
log "GitLab $GITLAB_VERSION is configured"
