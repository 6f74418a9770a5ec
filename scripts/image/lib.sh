# Shared by the scripts in scripts/image/: where the image check keeps its state, and how it calls buildah.
# Sourced, not run.
# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this file

# Everything the check makes lives in a containers storage of its own, so pruning it can never touch
# images or containers that someone else keeps in the machine's default storage.
IMAGE_STATE=${KMS_IMAGE_STATE:-/var/lib/kms-emulator-image}
IMAGE_STORAGE=$IMAGE_STATE/storage
IMAGE_RUNROOT=${KMS_IMAGE_RUNROOT:-/run/kms-emulator-image}
IMAGE_CACHE=$IMAGE_STATE/cache
DEBIAN_MIRROR=${KMS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${KMS_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# The names the Dockerfile's FROM lines resolve to. Short names ("rust:1-bookworm") resolve to docker.io's
# library namespace, so the local images carry those full names.
SLIM_IMAGE=docker.io/library/debian:bookworm-slim
RUST_IMAGE=docker.io/library/rust:1-bookworm

bah() { buildah --root "$IMAGE_STORAGE" --runroot "$IMAGE_RUNROOT" --storage-driver overlay "$@"; }

say() { printf '   %s\n' "$*"; }

# Seconds since the epoch with a fraction, for step timings.
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }'; }

# The ID of a local image, or nothing when the name is not there.
image_id() { { bah images --noheading --no-trunc --format '{{.ID}}' "$1" 2>/dev/null || true; } | head -1; }
short_id() { local id=${1#sha256:}; echo "${id:0:12}"; }
