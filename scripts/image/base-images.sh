#!/usr/bin/env bash
# Makes the two base images the Dockerfile names, locally, from Debian's packages and this machine's Rust
# toolchain, so that `buildah bud --pull=never` builds the unchanged Dockerfile with no image registry:
#   debian:bookworm-slim  debootstrap's minbase variant, slimmed as Docker's official slim image is
#                         (dpkg path-excludes for docs, man pages and locales; apt/dpkg settings for containers),
#                         with bookworm's security and point-release updates applied;
#   rust:1-bookworm       that image plus the C toolchain the crates need (libsqlite3-sys compiles SQLite with cc)
#                         and the active rustup toolchain, laid out as the official image lays it out
#                         (RUSTUP_HOME=/usr/local/rustup, CARGO_HOME=/usr/local/cargo, cargo/bin on PATH).
# Each image is remade only when what goes into it changes: its recipe (the function that makes it, as text),
# its base image, and for the Rust image the toolchain's version. KMS_IMAGE_REBUILD_BASE=1 remakes both.
# Needs root (debootstrap, chroot). Usage: scripts/image/base-images.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

work=$(mktemp -d)
ctr=""
cleanup() {
  if [ -n "$ctr" ]; then bah rm "$ctr" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$IMAGE_CACHE/keys"

# --- debian:bookworm-slim ----------------------------------------------------------------------------------

make_slim() {
  # debootstrap's download, kept as a tarball: a remake of the image then needs no package download
  # besides the updates.
  local tarball=$IMAGE_CACHE/debootstrap-bookworm-minbase-amd64.tgz rootfs=$work/rootfs
  if [ ! -s "$tarball" ]; then
    say "debootstrap: downloading bookworm minbase"
    debootstrap --variant=minbase --arch=amd64 --make-tarball="$tarball.part" bookworm "$work/download" \
      "$DEBIAN_MIRROR" >"$work/debootstrap-download.log" 2>&1 || { cat "$work/debootstrap-download.log"; return 1; }
    mv "$tarball.part" "$tarball"
  fi
  say "debootstrap: installing bookworm minbase"
  debootstrap --variant=minbase --arch=amd64 --unpack-tarball="$tarball" bookworm "$rootfs" "$DEBIAN_MIRROR" \
    >"$work/debootstrap.log" 2>&1 || { cat "$work/debootstrap.log"; return 1; }

  # The slim variant: dpkg leaves out documentation, man pages and translations (copyright files stay, for
  # the licences), now and for every package installed later.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# Slim image: files a container never reads are not unpacked.
path-exclude /usr/share/doc/*
# copyright files stay, for the licences
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  local dir
  for dir in groff info linda lintian/overrides locale man; do
    rm -rf "${rootfs:?}/usr/share/$dir"
  done

  # apt and dpkg as in a container: no package caches or translations kept, no services started by
  # maintainer scripts, no fsync per file.
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  printf 'Acquire::GzipIndexes "true";\nAcquire::CompressionTypes::Order:: "gz";\n' \
    >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
  echo 'force-unsafe-io' >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 0755 "$rootfs/usr/sbin/policy-rc.d"

  # The suites the official image follows: the release, its updates and its security updates.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $DEBIAN_SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

  ctr=$(bah from scratch)
  cp -a "$rootfs/." "$(bah mount "$ctr")/"
  bah umount "$ctr" >/dev/null
  say "applying bookworm's updates"
  bah run --isolation chroot "$ctr" -- sh -ec '
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq
    apt-get clean
    rm -rf /var/lib/apt/lists/* /var/cache/ldconfig/aux-cache
    find /var/log -type f -exec truncate -s 0 {} +
    : > /etc/resolv.conf; : > /etc/hostname' >"$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log"; return 1; }
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd '["bash"]' \
    --created-by "debian:bookworm-slim, made here: debootstrap --variant=minbase bookworm, slimmed, updated" "$ctr"
  bah commit --quiet --format docker --rm "$ctr" "$SLIM_IMAGE" >/dev/null
  ctr=""
  rm -rf "$rootfs"
}

# --- rust:1-bookworm ---------------------------------------------------------------------------------------

make_rust() {
  local sysroot toolchain version host
  sysroot=$(rustc --print sysroot)
  version=$(rustc -V | awk '{print $2}')
  host=$(rustc -vV | sed -n 's/^host: //p')
  toolchain=$version-$host

  ctr=$(bah from --pull=never "$SLIM_IMAGE")
  say "installing the C toolchain (gcc, libc6-dev, make, pkg-config) and ca-certificates"
  bah run --isolation chroot "$ctr" -- sh -ec '
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates gcc libc6-dev make pkg-config
    rm -rf /var/lib/apt/lists/*
    find /var/log -type f -exec truncate -s 0 {} +' >"$work/install.log" 2>&1 || { cat "$work/install.log"; return 1; }

  say "copying this machine's Rust toolchain $toolchain (from $sysroot, without its HTML docs)"
  local mnt
  mnt=$(bah mount "$ctr")
  mkdir -p "$mnt/usr/local/rustup/toolchains/$toolchain" "$mnt/usr/local/cargo/bin"
  tar -C "$sysroot" --exclude=./share/doc -cf - . | tar -C "$mnt/usr/local/rustup/toolchains/$toolchain" -xf -
  local rustup_bin proxy
  if rustup_bin=$(command -v rustup); then
    # As rustup-init leaves it: rustup itself in CARGO_HOME/bin, and every tool a proxy to it.
    install -m 0755 "$(readlink -f "$rustup_bin")" "$mnt/usr/local/cargo/bin/rustup"
    for proxy in "$sysroot"/bin/*; do
      ln -s rustup "$mnt/usr/local/cargo/bin/$(basename "$proxy")"
    done
  else
    for proxy in "$sysroot"/bin/*; do
      ln -s "/usr/local/rustup/toolchains/$toolchain/bin/$(basename "$proxy")" "$mnt/usr/local/cargo/bin/"
    done
  fi
  chmod -R a+w "$mnt/usr/local/rustup" "$mnt/usr/local/cargo"
  # The builder downloads crates over HTTPS. Where this machine reaches the internet through a proxy whose
  # CA it trusts (Debian's place for such CAs is /usr/local/share/ca-certificates), the builder must trust
  # it too, as an image made inside a company network does. The runtime image is not touched.
  local local_cas=(/usr/local/share/ca-certificates/*.crt)
  if [ -e "${local_cas[0]}" ]; then
    say "trusting this machine's local CAs in the builder: ${local_cas[*]##*/}"
    cp "${local_cas[@]}" "$mnt/usr/local/share/ca-certificates/"
  fi
  bah umount "$ctr" >/dev/null

  bah config \
    --env RUSTUP_HOME=/usr/local/rustup \
    --env CARGO_HOME=/usr/local/cargo \
    --env PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env RUST_VERSION="$version" \
    --created-by "rust:1-bookworm, made here: C toolchain and the rustup toolchain $toolchain" \
    "$ctr"
  # rustup writes its own settings (offline: the toolchain is already in place), then the tools must answer.
  bah run --isolation chroot "$ctr" -- sh -ec "
    update-ca-certificates >/dev/null 2>&1
    if command -v rustup >/dev/null; then rustup default $toolchain >/dev/null 2>&1; rustup --version 2>/dev/null; fi
    cargo --version
    rustc --version
    cc --version | head -1" | sed 's/^/   in the image: /'
  bah commit --quiet --format docker --rm "$ctr" "$RUST_IMAGE" >/dev/null
  ctr=""
}

# --- cache ---------------------------------------------------------------------------------------------

# ensure NAME KEY MAKER: keeps the image NAME when it was made from KEY, else runs MAKER.
ensure() {
  local name=$1 key=$2 maker=$3 keyfile id started
  keyfile=$IMAGE_CACHE/keys/$(echo "$name" | tr '/:' '__')
  id=$(image_id "$name")
  if [ -z "${KMS_IMAGE_REBUILD_BASE:-}" ] && [ -n "$id" ] && [ "$(cat "$keyfile" 2>/dev/null)" = "$key $id" ]; then
    say "$name: cached ($(short_id "$id"))"
    return
  fi
  say "$name: making it"
  started=$(now)
  "$maker"
  id=$(image_id "$name")
  echo "$key $id" >"$keyfile"
  say "$name: made in $(since "$started") s ($(short_id "$id"), $(bah images --noheading --format '{{.Size}}' "$name"))"
}

recipe_key() { # recipe_key WORDS... -> a digest of the words and of this script's shared settings
  { printf '%s\n' "$@"; echo "$DEBIAN_MIRROR $DEBIAN_SECURITY_MIRROR"; } | sha256sum | cut -c1-32
}

ensure "$SLIM_IMAGE" "$(recipe_key "$(declare -f make_slim)")" make_slim
ensure "$RUST_IMAGE" "$(recipe_key "$(declare -f make_rust)" "$(image_id "$SLIM_IMAGE")" \
  "$(rustc -vV)" "$(cargo -V)" "$(command -v rustup >/dev/null && rustup --version 2>/dev/null)" \
  "$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null)")" make_rust
