# SPDX-License-Identifier: MIT
# Shared by tools/test and tools/demo: install what is missing, configure,
# build. Sourced, not run.

XMPPC_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Everything the build, the tests and the demo need on Debian 12. Why each
# one is here is in the README ("Dependencies").
XMPPC_PACKAGES=(
    build-essential g++ pkg-config meson ninja-build python3
    libxml2-dev libgnutls28-dev libgsasl-dev libc-ares-dev libidn-dev
    gnutls-bin prosody lua-unbound ejabberd python3-slixmpp dnsmasq-base
    clang-format valgrind iproute2 procps
)

# The interpreter with Debian's python3 packages (slixmpp), whatever other
# python3 comes first on PATH.
XMPPC_PYTHON=/usr/bin/python3

say() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

missing_packages() {
    local p
    for p in "${XMPPC_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
            printf '%s\n' "$p"
    done
}

# Stops the system's own prosody/ejabberd if installing started them anyway.
# Identified by the Debian service's pid file and default node name, so
# private test servers are left alone; not through "service ... status",
# whose ejabberdctl call would leave an epmd listening on 0.0.0.0:4369.
stop_system_services() {
    if [ -s /run/prosody/prosody.pid ] && kill -0 "$(cat /run/prosody/prosody.pid)" 2>/dev/null; then
        say "stopping the system's prosody service (tests use private servers)"
        service prosody stop >/dev/null 2>&1 </dev/null || true
    fi
    if pgrep -f -- '-s?name ejabberd@localhost( |$)' >/dev/null 2>&1; then
        say "stopping the system's ejabberd service (tests use private servers)"
        service ejabberd stop >/dev/null 2>&1 </dev/null || true
        pkill -u ejabberd -x epmd 2>/dev/null || true
    fi
}

ensure_packages() {
    local missing
    mapfile -t missing < <(missing_packages)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        say "missing Debian packages: ${missing[*]}"
        say "install them as root, then run this again:"
        printf '  sudo apt-get update && sudo apt-get install -y --no-install-recommends %s\n' \
            "${missing[*]}" >&2
        exit 1
    fi
    say "installing: ${missing[*]}"
    # Installing prosody or ejabberd must not start the system's services
    # (they would listen on public interfaces); policy-rc.d exit status 101
    # forbids it for the duration of the install.
    local policy=/usr/sbin/policy-rc.d made_policy=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
    fi
    local rc=0
    {
        DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                --no-install-recommends "${missing[@]}"
    } </dev/null >&2 || rc=$?
    [ -n "$made_policy" ] && rm -f "$policy"
    if [ $rc -ne 0 ]; then
        say "apt-get failed with status $rc"
        exit 1
    fi
    stop_system_services
}

# Configures (once) and builds the build directory $1; further arguments
# are meson options for the first configuration.
build_dir() {
    local dir=$1
    shift
    if [ ! -f "$XMPPC_TOP/$dir/build.ninja" ]; then
        meson setup "$XMPPC_TOP/$dir" "$XMPPC_TOP" "$@" </dev/null >&2
    fi
    meson compile -C "$XMPPC_TOP/$dir" </dev/null >&2
}
