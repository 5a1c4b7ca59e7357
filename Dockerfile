# Multi-stage build. cgo stays on: mattn/go-sqlite3 fails at run time without
# it, and the binary then links glibc, so the runtime is Debian slim (not
# scratch or alpine).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/lightcc-dashboard .

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin dashboard \
    && mkdir -p /data && chown dashboard:dashboard /data
COPY --from=build /out/lightcc-dashboard /usr/local/bin/lightcc-dashboard
USER dashboard
VOLUME ["/data"]
ENV DASHBOARD_ADDR=0.0.0.0:8080 \
    DASHBOARD_DB=/data/dashboard.db
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["/usr/local/bin/lightcc-dashboard", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/lightcc-dashboard"]
