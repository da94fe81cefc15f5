# pbx container image: `docker compose up -d` (see docker-compose.yml), or by hand:
#   docker build -t pbx .
#   docker run --env-file .env -p 5060:5060/udp -p 10000-10099:10000-10099/udp \
#     -v "$PWD/config:/etc/pbx:ro" -v pbx-data:/var/lib/pbx pbx
# The RUN --mount cache needs BuildKit, the default builder of Docker Engine 23+ and of
# `docker compose`.

# Build stage: a release build. The cargo registry and target directory live in BuildKit cache
# mounts, so a rebuild after a source change recompiles only the pbx crate, not its dependencies.
FROM rust:1-bookworm AS builder
WORKDIR /build
COPY Cargo.toml Cargo.lock ./
# Cargo.toml declares the benches, so cargo wants their files even for a binary-only build.
COPY benches/ benches/
# The default config and the prompts are compiled into the binary (include_str!/include_bytes!).
COPY config/ config/
COPY sounds/ sounds/
COPY src/ src/
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/build/target \
    cargo build --release --locked --bin pbx \
    && cp target/release/pbx /usr/local/bin/pbx

# Runtime stage: only the binary, the config and the prompts.
FROM debian:bookworm-slim
RUN useradd --system --no-log-init --user-group --uid 10001 \
        --home-dir /var/lib/pbx --no-create-home --shell /usr/sbin/nologin pbx \
    && install -d -o pbx -g pbx -m 0750 /var/lib/pbx
COPY --from=builder /usr/local/bin/pbx /usr/local/bin/pbx
# /etc/pbx is where docker-compose.yml mounts ./config (read-only), so a config edit needs a
# restart, never a rebuild. The copy here makes the image run on its own.
COPY config/ /etc/pbx/
# The stock prompts, the same as the built-in ones: a starting point for PBX_SOUNDS_DIR.
COPY sounds/en/ /usr/share/pbx/sounds/
COPY sounds/moh/ /usr/share/pbx/sounds/moh/

# Registrations are saved in the data directory (mount a volume there to keep them across
# container re-creation). The RTP range matches the ports published below and in
# docker-compose.yml: keep them equal, media ports must be published 1:1.
ENV PBX_REGISTRATIONS_FILE=/var/lib/pbx/registrations.json \
    RTP_PORT_MIN=10000 \
    RTP_PORT_MAX=10099
WORKDIR /var/lib/pbx
# Numeric, so runtimes that check for non-root (Kubernetes runAsNonRoot) can tell: it is pbx.
USER 10001:10001

# SIP signalling, then RTP media. 5060/tcp is declared for SIP over TCP, which pbx does not
# serve yet: today it speaks SIP over UDP only (docker-compose.yml publishes 5060/udp).
EXPOSE 5060/udp 5060/tcp 10000-10099/udp

# `pbx ctl health` asks the admin API on 127.0.0.1:8088 inside the container: exit 0 when
# healthy, 3 when unreachable. If PBX_API_BIND moves the API, set PBX_API to match.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["pbx", "ctl", "health"]

# Logs go straight to stdout, one line per event (PBX_LOG_FORMAT=json for collectors). Rust's
# stdout is line-buffered with or without a terminal, so every line reaches `docker logs` at
# once: there is no buffering to turn off. pbx runs as PID 1 and handles SIGTERM and SIGINT
# itself, so `docker stop` shuts it down cleanly (registrations are saved on the way out).
ENTRYPOINT ["pbx"]
CMD ["run", "--config", "/etc/pbx/pbx.toml"]
