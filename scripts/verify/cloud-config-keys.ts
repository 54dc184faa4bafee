// Top-level keys cloud-init modules read. `cloud-init schema` accepts unknown top-level keys
// (a typo like `write_file:` validates and then silently does nothing on boot), so we keep our
// own list. Taken from cloud-init's schema-cloud-config-v1.json (22.4) plus later releases;
// add a key here only after checking it is read by a real module.
export const CLOUD_CONFIG_KEYS: ReadonlySet<string> = new Set([
  // packages and repositories
  "package_update", "package_upgrade", "package_reboot_if_required", "packages",
  "apt", "apt_pipelining", "apt_update", "apt_upgrade", "apt_reboot_if_required",
  "yum_repos", "yum_repo_dir", "zypper", "apk_repos", "snap", "drivers",
  // files, commands, storage
  "write_files", "runcmd", "bootcmd", "mounts", "mount_default_fields", "swap",
  "disk_setup", "fs_setup", "growpart", "resize_rootfs", "device_aliases",
  // identity and access
  "users", "user", "groups", "ssh_pwauth", "ssh_authorized_keys", "ssh_keys", "ssh_deletekeys",
  "ssh_genkeytypes", "ssh_quiet_keygen", "ssh_publish_hostkeys", "ssh_import_id", "ssh",
  "disable_root", "disable_root_opts", "allow_public_ssh_keys", "no_ssh_fingerprints",
  "authkey_hash", "ssh_fp_console_blacklist", "ssh_key_console_blacklist", "chpasswd", "password",
  // host settings
  "hostname", "fqdn", "preserve_hostname", "prefer_fqdn_over_hostname", "create_hostname_file",
  "manage_etc_hosts", "timezone", "locale", "locale_configfile", "keyboard", "ntp",
  "manage_resolv_conf", "resolv_conf", "ca_certs", "ca-certs", "random_seed", "rsyslog",
  "disable_ec2_metadata", "byobu_by_default", "fan", "grub_dpkg", "grub-dpkg", "updates",
  // lifecycle and reporting
  "final_message", "power_state", "phone_home", "reporting", "output", "vendor_data",
  "merge_how", "merge_type",
  // configuration management and services
  "ansible", "chef", "puppet", "salt_minion", "mcollective", "landscape", "lxd",
  "ubuntu_advantage", "ubuntu_pro", "rh_subscription", "spacewalk", "wireguard",
]);
