#!/usr/bin/env bash
# Makes sure the programs of dbswitch's sandbox are on this machine: MariaDB (server and
# mariadb-install-db), OpenSSH's sshd, and openssl. The sandbox starts private copies of them on
# loopback ports in a temp dir; nothing here starts or configures a system service.
#
# Installs the Debian packages when something is missing and we run as root with apt-get;
# otherwise prints exactly what to install and exits 1.
set -euo pipefail

# program -> Debian package that ships it
declare -A package_of=(
  [mariadbd]=mariadb-server
  [mariadb-install-db]=mariadb-server
  [mariadb]=mariadb-client
  [sshd]=openssh-server
  [ssh]=openssh-client
  [ssh-keygen]=openssh-client
  [openssl]=openssl
)

find_program() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]
}

missing=()
for program in "${!package_of[@]}"; do
  find_program "$program" || missing+=("${package_of[$program]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "dbswitch: installing the sandbox's Debian packages: $packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  apt-get install -y -qq --no-install-recommends $packages >/dev/null
  exit 0
fi

cat >&2 <<MSG
dbswitch: the sandbox needs programs that this machine lacks.
Install them, then run the command again:
  Debian/Ubuntu:  sudo apt-get install -y $packages
  macOS:          brew install mariadb openssh openssl
MSG
exit 1
