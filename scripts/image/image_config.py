"""Reads `buildah inspect --type image` JSON on stdin and prints the parts of the image's Docker config that
check.sh runs the image by, as bash assignments (values shell-quoted):

  IMG_USER IMG_WORKDIR IMG_ENTRYPOINT=(..) IMG_CMD=(..) IMG_ENV=(..) IMG_EXPOSED=(..) IMG_VOLUMES=(..)
  IMG_HEALTH_TEST=(..)  (the command to run: CMD's argv, or /bin/sh -c for CMD-SHELL; empty when none)
  IMG_HEALTH_INTERVAL IMG_HEALTH_TIMEOUT IMG_HEALTH_START_PERIOD (seconds) IMG_HEALTH_RETRIES

The Docker config is read, not the OCI one: the OCI image format has no HEALTHCHECK.
"""

import json
import shlex
import sys

NANOS = 1_000_000_000
# Docker's defaults for a HEALTHCHECK that leaves a field out.
DEFAULT_INTERVAL, DEFAULT_TIMEOUT, DEFAULT_RETRIES = 30 * NANOS, 30 * NANOS, 3


def scalar(name, value):
    print(f"{name}={shlex.quote(str(value))}")


def array(name, values):
    print(f"{name}=({' '.join(shlex.quote(str(v)) for v in values)})")


def health_command(test):
    if not test or test[0] == "NONE":
        return []
    if test[0] == "CMD":
        return test[1:]
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", test[1]]
    raise SystemExit(f"HEALTHCHECK test of an unknown form: {test!r}")


def main():
    inspected = json.load(sys.stdin)
    config = (inspected.get("Docker") or {}).get("config") or {}
    if not config:
        raise SystemExit("the image has no Docker config: build it with --format docker")
    health = config.get("Healthcheck") or {}
    scalar("IMG_USER", config.get("User") or "")
    scalar("IMG_WORKDIR", config.get("WorkingDir") or "/")
    array("IMG_ENTRYPOINT", config.get("Entrypoint") or [])
    array("IMG_CMD", config.get("Cmd") or [])
    array("IMG_ENV", config.get("Env") or [])
    array("IMG_EXPOSED", sorted((config.get("ExposedPorts") or {}).keys()))
    array("IMG_VOLUMES", sorted((config.get("Volumes") or {}).keys()))
    array("IMG_HEALTH_TEST", health_command(health.get("Test") or []))
    scalar("IMG_HEALTH_INTERVAL", (health.get("Interval") or DEFAULT_INTERVAL) // NANOS)
    scalar("IMG_HEALTH_TIMEOUT", (health.get("Timeout") or DEFAULT_TIMEOUT) // NANOS)
    scalar("IMG_HEALTH_START_PERIOD", (health.get("StartPeriod") or 0) // NANOS)
    scalar("IMG_HEALTH_RETRIES", health.get("Retries") or DEFAULT_RETRIES)


if __name__ == "__main__":
    main()
