# syntax=docker/dockerfile:1

# ---------------------------------------------------------------------------
# Builder: compiles kms-emulator in release mode. Dependencies are built in a
# layer of their own (against a dummy crate), so editing src/ or migrations/
# only recompiles the crate itself.
# ---------------------------------------------------------------------------
ARG RUST_VERSION=1
FROM rust:${RUST_VERSION}-bookworm AS builder

WORKDIR /build

# 1. Dependency layer: the manifests plus a dummy lib and bin.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src \
    && echo 'fn main() {}' > src/main.rs \
    && : > src/lib.rs \
    && cargo build --release --locked --bin kms-emulator \
    && rm -rf src

# 2. The real sources. Migrations are embedded at compile time by
#    sqlx::migrate!, so they must be present for this build.
COPY src ./src
COPY migrations ./migrations
# COPY keeps the context's mtimes, which may be older than the dummy build:
# touch so cargo sees the crate as changed and rebuilds it.
RUN find src migrations -type f -exec touch {} + \
    && cargo build --release --locked --bin kms-emulator \
    && install -D -m 0755 target/release/kms-emulator /out/kms-emulator

# ---------------------------------------------------------------------------
# Runtime: a slim Debian with only CA certificates and the binary, run as an
# unprivileged user. The embedded SQLite database lives in the /data volume.
# ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 kms \
    && useradd --system --uid 10001 --gid kms --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin kms \
    && mkdir -p /data \
    && chown kms:kms /data

COPY --from=builder /out/kms-emulator /usr/local/bin/kms-emulator

ENV KMS_LISTEN=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///data/kms-emulator.db \
    RUST_LOG=kms_emulator=info \
    KMS_LOG_FORMAT=json

WORKDIR /data
VOLUME /data
USER 10001:10001
EXPOSE 8080

# No curl in the image: speak HTTP over bash's /dev/tcp. /ready answers 200
# only while the database is reachable (/health is plain liveness).
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=10 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /ready HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

ENTRYPOINT ["/usr/local/bin/kms-emulator"]
