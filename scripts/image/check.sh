#!/usr/bin/env bash
# The container image, built and started without a Docker engine (what `.ci/run` runs when `docker info`
# fails). Needs root and Debian's package mirror; installs what it lacks with apt.
#   1. makes the Dockerfile's base images locally from Debian's packages (scripts/image/base-images.sh);
#   2. builds the unchanged Dockerfile with buildah (chroot isolation, --pull=never, layer cache kept);
#   3. runs the image as a container would: its root filesystem mounted, its entrypoint, command, environment,
#      working directory and user from the image config, under chroot in a network namespace of its own;
#      then its HEALTHCHECK command and the README walk-through against it, and a SIGTERM stop;
#   4. prints the runtime image's size, layer by layer;
#   5. checks docker-compose.yml with Compose's own `config` and against the README and the image.
# Usage: scripts/image/check.sh      (state: KMS_IMAGE_STATE, default /var/lib/kms-emulator-image)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=scripts/image
# shellcheck source=lib.sh
. "$here/lib.sh"

IMAGE=localhost/kms-emulator:local # docker-compose.yml's image name, kms-emulator:local
SIZE_TARGET_MB=40

if [ "$(id -u)" != 0 ]; then
  echo "scripts/image/check.sh needs root: debootstrap, chroot, mounts and a network namespace" >&2
  exit 1
fi

check_started=$(now)
work=$(mktemp -d)
ctr="" mnt="" netns="" server_pid=""
mounted=()

stop_server() { # stop_server GRACE_SECONDS -> the server's exit status
  local rc=0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 $(($1 * 10))); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || rc=$?
  server_pid=""
  return "$rc"
}

cleanup() {
  local rc=$?
  set +e
  [ -n "$server_pid" ] && stop_server 2
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}"
  done
  [ -n "$netns" ] && ip netns delete "$netns"
  if [ -n "$ctr" ]; then
    bah umount "$ctr" >/dev/null 2>&1
    bah rm "$ctr" >/dev/null 2>&1
  fi
  rm -rf "$work"
  [ "$rc" = 0 ] || echo "image check FAILED (exit $rc) after $(since "$check_started") s" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step_started=""
step() {
  [ -n "$step_started" ] && say "($(since "$step_started") s)"
  step_started=$(now)
  printf -- '-- %s\n' "$*"
}

# --- tools -------------------------------------------------------------------------------------------------

compose() { if docker compose version >/dev/null 2>&1; then docker compose "$@"; else docker-compose "$@"; fi; }

step "tools"
missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v ip >/dev/null || missing+=(iproute2)
command -v curl >/dev/null || missing+=(curl)
# Compose v2 (the `docker compose` plugin) is not in Debian; Debian's docker-compose is Compose v1 (1.29), the
# same project's previous generation, whose `config` validates and resolves the file without an engine.
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || missing+=(docker-compose)
/usr/bin/python3 -c 'import yaml' 2>/dev/null || missing+=(python3-yaml)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
say "$(buildah --version); $(compose version 2>/dev/null | head -1)"

# One check at a time per state directory; leftovers of a run that was killed outright are cleared first.
mkdir -p "$IMAGE_STATE"
exec 9>"$IMAGE_STATE/lock"
flock 9
for stale in $(ip netns list 2>/dev/null | awk '/^kms-image-/ {print $1}'); do ip netns delete "$stale"; done
{ findmnt -rn -o TARGET | grep -E "^$IMAGE_STORAGE/.*/merged/(proc|dev)\$" || true; } | xargs -r -n1 umount -l
bah rm --all >/dev/null 2>&1 || true

# --- 1. base images ----------------------------------------------------------------------------------------

step "base images: debian:bookworm-slim and rust:1-bookworm, from Debian's packages"
bash "$here/base-images.sh"

# --- 2. build ------------------------------------------------------------------------------------------------

step "buildah bud --isolation chroot --pull=never (the unchanged Dockerfile)"
# --format docker: the OCI format has no HEALTHCHECK. --layers: unchanged steps come from the cache.
# --force-rm: a failed step leaves no working container behind. (No --iidfile: with it buildah no longer
# prints the "--> ID" lines that the pruning below reads.)
build_rc=0
bah bud --isolation chroot --pull=never --layers --force-rm --format docker -t "$IMAGE" . 2>&1 \
  | tee "$work/build.log" | grep --line-buffered -E '^\[[0-9]+/[0-9]+\] STEP|^--> Using cache' \
  | sed -u 's/^/   /' || build_rc=${PIPESTATUS[0]}
if [ "$build_rc" != 0 ]; then
  tail -60 "$work/build.log"
  exit "$build_rc"
fi
built=$(image_id "$IMAGE")
say "built $IMAGE ($(short_id "$built"))"

# Only the three named images and the layers this build made or reused (its "--> ID" lines: the whole chain,
# as the cache matches a step by its parent) stay in the check's storage. What a previous build or a previous
# base image left behind goes, so the storage does not grow from run to run.
count_images() { bah images --all --noheading --quiet | wc -l; }
keep=$(grep -oE '^--> (Using cache )?[0-9a-f]{11,64}' "$work/build.log" | awk '{print $NF}' || true)
named=" $(image_id "$SLIM_IMAGE") $(image_id "$RUST_IMAGE") $built "
before=$(count_images)
if [ -z "$keep" ]; then
  say "buildah printed no layer IDs: nothing pruned, so as not to lose the layer cache"
else
  for id in $(bah images --all --noheading --no-trunc --format '{{.ID}}'); do
    short=${id#sha256:}
    case "$named" in *"$short"*) continue ;; esac
    grep -q "^${short:0:11}" <<<"$keep" || bah rmi "$id" >/dev/null 2>&1 || true
  done
fi
say "pruned $((before - $(count_images))) unused image(s); the check's storage holds $(du -sh "$IMAGE_STORAGE" | cut -f1)"

# --- 3. the image, run as a container would be ------------------------------------------------------------

step "image config"
bah inspect --type image "$IMAGE" >"$work/inspect.json"
eval "$(python3 "$here/image_config.py" <"$work/inspect.json")"
say "user $IMG_USER, workdir $IMG_WORKDIR, entrypoint ${IMG_ENTRYPOINT[*]}, cmd ${IMG_CMD[*]:-(none)}"
say "env ${IMG_ENV[*]}"
say "exposes ${IMG_EXPOSED[*]}, volumes ${IMG_VOLUMES[*]}, healthcheck every ${IMG_HEALTH_INTERVAL}s: ${IMG_HEALTH_TEST[*]}"
[ -n "$IMG_USER" ] || { echo "FAIL: the image sets no USER: it would run as root" >&2; exit 1; }
[ ${#IMG_HEALTH_TEST[@]} -gt 0 ] || { echo "FAIL: the image has no HEALTHCHECK" >&2; exit 1; }
[ ${#IMG_EXPOSED[@]} = 1 ] || { echo "FAIL: the image should expose exactly one port" >&2; exit 1; }
port=${IMG_EXPOSED[0]%/*}

ctr=$(bah from --pull=never "$IMAGE")
mnt=$(bah mount "$ctr")
# USER may be NAME, UID, NAME:GROUP or UID:GID: resolve it in the image's own passwd and group files.
user=${IMG_USER%%:*} group=""
[[ "$IMG_USER" == *:* ]] && group=${IMG_USER#*:}
uid=$(awk -F: -v u="$user" '$1 == u || $3 == u { print $3; exit }' "$mnt/etc/passwd")
passwd_gid=$(awk -F: -v u="$user" '$1 == u || $3 == u { print $4; exit }' "$mnt/etc/passwd")
home=$(awk -F: -v u="$user" '$1 == u || $3 == u { print $6; exit }' "$mnt/etc/passwd")
[[ "$user" =~ ^[0-9]+$ ]] && uid=${uid:-$user}
gid=${group:-$passwd_gid}
[[ "$gid" =~ ^[0-9]+$ ]] || gid=$(awk -F: -v g="$gid" '$1 == g { print $3; exit }' "$mnt/etc/group")
if [ -z "$uid" ] || [ -z "$gid" ]; then
  echo "FAIL: USER $IMG_USER resolves to no uid/gid in the image" >&2
  exit 1
fi
[ "$uid" != 0 ] || { echo "FAIL: the image runs as root (USER $IMG_USER)" >&2; exit 1; }
say "ok   runs as uid $uid gid $gid (not root); in the image's passwd: $(awk -F: -v u="$uid" '$3 == u' "$mnt/etc/passwd")"
# The builder image trusts this machine's local CAs (base-images.sh says why); the runtime image must not.
local_cas=$(find "$mnt/usr/local/share/ca-certificates" -type f 2>/dev/null | wc -l)
[ "$local_cas" = 0 ] || { echo "FAIL: the runtime image carries $local_cas local CA file(s)" >&2; exit 1; }
say "ok   no CA of this machine's in the runtime image (/usr/local/share/ca-certificates is empty)"

step "start: the image's entrypoint, command and environment, as uid $uid, in its own network namespace"
mount -t proc proc "$mnt/proc" && mounted+=("$mnt/proc")
mount --bind /dev "$mnt/dev" && mounted+=("$mnt/dev")
# Its own network namespace, as a container has: the image's KMS_LISTEN (0.0.0.0:$port) binds nothing of
# the machine's, and the probes below reach it on the namespace's loopback.
netns=kms-image-$$
ip netns add "$netns"
ip -n "$netns" link set lo up
# A process of the container: its network namespace, root, user, environment and working directory.
in_container=(ip netns exec "$netns" chroot --userspec="$uid:$gid" "$mnt"
  /usr/bin/env -i -C "$IMG_WORKDIR" HOME="${home:-/}" "${IMG_ENV[@]}")
"${in_container[@]}" "${IMG_ENTRYPOINT[@]}" "${IMG_CMD[@]}" >"$work/server.log" 2>&1 &
server_pid=$!
started=$(now)

# The HEALTHCHECK command, as Docker runs it: inside the container, each try limited to its timeout, failures
# during the start period not counted. Polled every second rather than every interval, to finish sooner.
deadline=$((IMG_HEALTH_START_PERIOD + IMG_HEALTH_INTERVAL * IMG_HEALTH_RETRIES))
tries=0 healthy=""
while [ "$(since "$started")" -le "$deadline" ]; do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; echo "FAIL: the server exited" >&2; exit 1; }
  tries=$((tries + 1))
  if timeout "$IMG_HEALTH_TIMEOUT" "${in_container[@]}" "${IMG_HEALTH_TEST[@]}" >/dev/null 2>&1; then
    healthy=yes
    break
  fi
  sleep 1
done
if [ -z "$healthy" ]; then
  cat "$work/server.log"
  echo "FAIL: the HEALTHCHECK did not pass within ${deadline}s" >&2
  exit 1
fi
say "ok   HEALTHCHECK passed after $(since "$started") s (try $tries)"

process_owner=$(stat -c '%u:%g' "/proc/$server_pid")
[ "$process_owner" = "$uid:$gid" ] || { echo "FAIL: the server runs as $process_owner, not $uid:$gid" >&2; exit 1; }
say "ok   the server process runs as $process_owner"
store_url=$(printf '%s\n' "${IMG_ENV[@]}" | sed -n 's/^DATABASE_URL=//p')
case "$store_url" in
  sqlite://*)
    store=${store_url#sqlite://}
    store=${store%%\?*}
    [ -f "$mnt$store" ] || { echo "FAIL: no SQLite store at $store" >&2; exit 1; }
    say "ok   embedded store $store created, owned by $(stat -c '%u:%g' "$mnt$store")"
    ;;
  *) echo "FAIL: the image's default store is not the embedded one ($store_url)" >&2; exit 1 ;;
esac
say "first log line: $(head -c 300 "$work/server.log" | head -1)"

step "README walk-through against the image (scripts/walkthrough.sh http://127.0.0.1:$port in its namespace)"
walk_rc=0
ip netns exec "$netns" bash scripts/walkthrough.sh "http://127.0.0.1:$port" >"$work/walk.log" 2>&1 || walk_rc=$?
if [ "$walk_rc" != 0 ]; then
  cat "$work/walk.log" "$work/server.log"
  exit "$walk_rc"
fi
say "$(grep -c '^ok' "$work/walk.log") answers checked; $(tail -1 "$work/walk.log")"

step "stop: SIGTERM, as docker stop sends (10 s before it kills)"
stop_started=$(now)
stop_rc=0
stop_server 10 || stop_rc=$?
[ "$stop_rc" = 0 ] || { tail -5 "$work/server.log"; echo "FAIL: exit status $stop_rc after SIGTERM" >&2; exit 1; }
say "ok   exited 0 after $(since "$stop_started") s"

# --- 4. size -----------------------------------------------------------------------------------------------

step "runtime image size (layers gzip-compressed as a registry holds them, and unpacked)"
bah push --quiet --compression-format gzip "$IMAGE" "oci:$work/oci:image" >/dev/null
python3 "$here/image_size.py" "$work/oci" "$SIZE_TARGET_MB"

# --- 5. compose --------------------------------------------------------------------------------------------

step "docker-compose.yml: $(compose version 2>/dev/null | head -1 | cut -d, -f1) config, then its wiring"
compose config -q
compose --profile embedded config -q
compose --profile embedded --profile metrics config -q
compose --profile embedded --profile metrics config >"$work/compose.yml"
say "ok   Compose accepts the file, with and without --profile embedded"
/usr/bin/python3 "$here/compose_check.py" "$work/compose.yml" README.md "$work/inspect.json" | sed 's/^/   /'

say "($(since "$step_started") s)"
printf -- '-- image check passed in %s s\n' "$(since "$check_started")"
