"""Checks docker-compose.yml, as Compose resolved it, against what the README's Docker section promises and
against the built image's own config.

Usage: compose_check.py RESOLVED_YAML README IMAGE_INSPECT_JSON
  RESOLVED_YAML       output of `docker compose --profile embedded config` (or docker-compose v1's `config`),
                      so every service, the embedded one included, is there with its values resolved;
  README              README.md: its Docker section must name each published port;
  IMAGE_INSPECT_JSON  `buildah inspect --type image` of the built image: the healthchecks, port, default store
                      and volume are compared with the image's.
Accepts both Compose generations' output (v1 writes ports as "ip:host:container/proto" strings, v2 as maps).
"""

import json
import os
import re
import sys
from urllib.parse import urlsplit

import yaml

failures = []


def check(ok, what):
    print(f"{'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)


def ports(service):
    """(host_ip, published, target) for each published port of a service."""
    out = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            out.append((port.get("host_ip", ""), str(port.get("published", "")), str(port["target"])))
        else:
            spec = str(port).split("/")[0]
            parts = spec.rsplit(":", 2)
            if len(parts) == 3:
                out.append((parts[0], parts[1], parts[2]))
            elif len(parts) == 2:
                out.append(("", parts[0], parts[1]))
            else:
                out.append(("", "", parts[0]))
    return out


def environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def seconds(duration):
    """Compose durations ("5s", "1m30s", "500ms") or nanoseconds, as seconds."""
    if isinstance(duration, (int, float)):
        return duration / 1e9
    total = 0.0
    for value, unit in re.findall(r"([\d.]+)(ms|us|ns|h|m|s)", str(duration)):
        total += float(value) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[unit]
    return total


def docker_section(readme):
    match = re.search(r"^## Docker\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    return match.group(1) if match else ""


def main():
    resolved = yaml.safe_load(open(sys.argv[1]))
    readme = docker_section(open(sys.argv[2]).read())
    repository = os.path.dirname(os.path.realpath(sys.argv[2]))
    image = json.load(open(sys.argv[3]))["Docker"]["config"]

    services = resolved.get("services") or {}
    check(set(services) == {"db", "kms-master-key", "kms", "kms-embedded", "prometheus"},
          f"services are db, kms-master-key, kms, kms-embedded, prometheus (got {sorted(services)})")
    db, master_key, kms, embedded = (services.get(name) or {} for name in ("db", "kms-master-key", "kms", "kms-embedded"))
    check(not db.get("profiles") and not master_key.get("profiles") and not kms.get("profiles"),
          "db, kms-master-key and kms start with a plain `docker compose up`")
    check(embedded.get("profiles") == ["embedded"], "kms-embedded starts only with --profile embedded")
    # Prometheus (--profile metrics) scrapes kms's /metrics with the repository's config file.
    prometheus = services.get("prometheus") or {}
    check(prometheus.get("profiles") == ["metrics"], "prometheus starts only with --profile metrics")
    config_mounts = [v for v in prometheus.get("volumes") or []
                     if (v.get("target") if isinstance(v, dict) else str(v).split(":")[1]) == "/etc/prometheus/prometheus.yml"]
    config_source = config_mounts and (config_mounts[0].get("source") if isinstance(config_mounts[0], dict)
                                       else str(config_mounts[0]).split(":")[0])
    check(bool(config_source) and os.path.realpath(config_source) == os.path.join(repository, "prometheus", "prometheus.yml"),
          f"prometheus: mounts prometheus/prometheus.yml ({config_source})")
    scrape = yaml.safe_load(open(os.path.join(repository, "prometheus", "prometheus.yml")))
    targets = [t for job in scrape.get("scrape_configs") or [] for c in job.get("static_configs") or []
               for t in c.get("targets") or []]
    check(targets == ["kms:8080"], f"prometheus/prometheus.yml scrapes kms:8080 ({targets})")

    # Published ports: on loopback only, and each one named in the README's Docker section.
    for name, service in services.items():
        for host_ip, published, _ in ports(service):
            check(host_ip == "127.0.0.1", f"{name}: port {published} is published on 127.0.0.1 only")
            check(re.search(rf"\b{published}\b", readme) is not None, f"{name}: the README's Docker section names port {published}")
    check(not ports(db), "db: PostgreSQL is not published (its superuser's password is in this file)")

    # The emulator services: built from this repository, listening where they publish and probe.
    image_env = dict(item.split("=", 1) for item in image.get("Env") or [])
    exposed = sorted(image.get("ExposedPorts") or {})
    check(len(exposed) == 1, f"the image exposes one port ({exposed})")
    image_port = exposed[0].split("/")[0] if exposed else None
    for name, service in (("kms", kms), ("kms-embedded", embedded)):
        build = service.get("build") or {}
        context = build.get("context") if isinstance(build, dict) else build
        dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
        check(context is not None and os.path.realpath(context) == repository and dockerfile == "Dockerfile",
              f"{name}: built from this repository's Dockerfile (context {context}, {dockerfile})")
        check(service.get("image") == "kms-emulator:local", f"{name}: tagged kms-emulator:local")
        listen = environment(service).get("KMS_LISTEN") or image_env.get("KMS_LISTEN")
        listen_port = listen.rsplit(":", 1)[1] if listen else None
        targets = [target for _, _, target in ports(service)]
        check(targets == [listen_port], f"{name}: publishes the port it listens on ({targets} vs KMS_LISTEN {listen})")
        check(listen_port == image_port, f"{name}: listens on the image's exposed port {image_port}")
        health = service.get("healthcheck") or {}
        test = health.get("test") or []
        check(f"/dev/tcp/127.0.0.1/{listen_port}" in " ".join(test), f"{name}: the healthcheck probes port {listen_port}")
        ihealth = image.get("Healthcheck") or {}
        check(test == ihealth.get("Test"), f"{name}: the healthcheck is the image's HEALTHCHECK command")
        for key, ikey in (("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod")):
            check(seconds(health.get(key, 0)) == seconds(ihealth.get(ikey, 0)), f"{name}: healthcheck {key} as in the image")
        check(health.get("retries") == ihealth.get("Retries"), f"{name}: healthcheck retries as in the image")

    # PostgreSQL wiring: kms reaches db by its service name, with the credentials db is created with,
    # and waits until db's own healthcheck passes.
    db_env = environment(db)
    url = urlsplit(environment(kms).get("DATABASE_URL") or "")
    check(url.scheme in ("postgres", "postgresql"), f"kms: DATABASE_URL is a PostgreSQL URL ({url.geturl()})")
    check(url.hostname == "db", "kms: DATABASE_URL names the db service")
    check(str(url.port or 5432) == "5432", "kms: DATABASE_URL uses PostgreSQL's port inside the network (5432)")
    check(url.username == db_env.get("POSTGRES_USER") and url.password == db_env.get("POSTGRES_PASSWORD"),
          "kms: DATABASE_URL's user and password are db's POSTGRES_USER / POSTGRES_PASSWORD")
    check(url.path.lstrip("/") == db_env.get("POSTGRES_DB"), "kms: DATABASE_URL's database is db's POSTGRES_DB")
    depends = kms.get("depends_on") or {}
    condition = depends.get("db", {}).get("condition") if isinstance(depends, dict) else None
    check(condition == "service_healthy", "kms: waits for db to be healthy (depends_on condition service_healthy)")
    db_test = " ".join((db.get("healthcheck") or {}).get("test") or [])
    check("pg_isready" in db_test and f"-U {db_env.get('POSTGRES_USER')}" in db_test
          and f"-d {db_env.get('POSTGRES_DB')}" in db_test, "db: healthcheck is pg_isready for db's user and database")
    # The master key: a file in a volume the kms-master-key service fills before kms starts, never the database.
    def mounts_of(service):
        return [(v.get("source"), v.get("target")) if isinstance(v, dict) else tuple(str(v).split(":")[:2])
                for v in service.get("volumes") or []]
    key_file = environment(kms).get("KMS_MASTER_KEY_FILE") or ""
    check(key_file.startswith("/") and "KMS_MASTER_KEY" not in environment(kms),
          f"kms: the master key comes from a file (KMS_MASTER_KEY_FILE {key_file!r}), not the environment")
    key_volume = [source for source, target in mounts_of(kms) if target == key_file.rsplit("/", 1)[0]]
    check(len(key_volume) == 1, f"kms: a volume is mounted at the master key's directory {key_file.rsplit('/', 1)[0]}")
    check(bool(key_volume) and key_volume[0] in [source for source, _ in mounts_of(master_key)],
          "kms-master-key: writes the volume kms reads the master key from")
    key_condition = depends.get("kms-master-key", {}).get("condition") if isinstance(depends, dict) else None
    check(key_condition == "service_completed_successfully", "kms: starts once kms-master-key has made the key")
    check(any(str(v).split(":")[1:2] == ["/var/lib/postgresql/data"] or
              (isinstance(v, dict) and v.get("target") == "/var/lib/postgresql/data") for v in db.get("volumes") or []),
          "db: its data lives in a named volume")

    # The embedded service: the image's SQLite default, kept in a volume at the image's data directory.
    check("DATABASE_URL" not in environment(embedded), "kms-embedded: no DATABASE_URL override (the image's default applies)")
    default_url = image_env.get("DATABASE_URL", "")
    check(default_url.startswith("sqlite://"), f"the image's default store is SQLite ({default_url})")
    data_dir = default_url.removeprefix("sqlite://").rsplit("/", 1)[0]
    mounts = [v.get("target") if isinstance(v, dict) else str(v).split(":")[1] for v in embedded.get("volumes") or []]
    check(data_dir in mounts, f"kms-embedded: a volume is mounted at the SQLite directory {data_dir}")
    check(data_dir in (image.get("Volumes") or {}), f"the image declares {data_dir} a volume")

    print(f"compose: {len(failures)} failed" if failures else "compose: every check passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
