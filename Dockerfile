# syntax=docker/dockerfile:1
# deflect on Node 24 LTS (Debian bookworm, slim). Dev and CI use Node 20.20; package.json `engines` (>=20.19) covers both.
#
# Two stages: `build` installs every dependency from the lockfile, compiles better-sqlite3 (the only native module)
# and TypeScript, then drops the dev dependencies; the runtime stage gets only what `deflect serve` reads: the
# production node_modules, dist/, bin/, migrations/, the report and audit pages' assets (read from src/reports/page and src/audit/page at start)
# and the example rules. No compiler, no npm cache, no tests, no .git (see .dockerignore).
#
# Runs as the unprivileged `node` user (uid 1000) of the base image. A volume mounted on /data may belong to root
# (Fly volumes do), so the entrypoint starts as root only to give /data to `node` when needed, then replaces itself
# with deflect running as `node` (setpriv, util-linux, part of every Debian image). Run with `--user node` (or a
# read-write /data owned by uid 1000) to never start as root at all.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# `prepare` (tsc) needs the sources, so install without lifecycle scripts first, then build the native module
# (prebuilt binary when reachable, else compiled with the toolchain above) and, once the sources are in, the app.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY handlers ./handlers
RUN npm run build \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
  && node -e "require('better-sqlite3')(':memory:').close()"

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DEFLECT_DB=/data/deflect.db
WORKDIR /app
# Owned by root and read-only for `node`: the service never writes its own code.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/src/reports/page ./src/reports/page
COPY --from=build /app/src/audit/page ./src/audit/page
COPY bin ./bin
COPY migrations ./migrations
COPY migrations-postgres ./migrations-postgres
COPY examples/rules.yaml ./examples/rules.yaml
RUN mkdir -p /data && chown node:node /data \
  && printf '%s\n' \
    '#!/bin/sh' \
    '# Give /data to `node` (a fresh root-owned volume, or files an older image wrote as root), then run as `node`.' \
    'set -e' \
    'if [ "$(id -u)" = "0" ]; then' \
    '  find /data -xdev ! -user node -exec chown node:node {} +' \
    '  exec setpriv --reuid=node --regid=node --init-groups "$@"' \
    'fi' \
    'exec "$@"' \
    > /usr/local/bin/deflect-entrypoint \
  && chmod 0755 /usr/local/bin/deflect-entrypoint
VOLUME ["/data"]
EXPOSE 3000
# Liveness only (/healthz: the process answers). Readiness (/readyz: database writable, migrations applied, queue
# lag) is for load balancers and monitors; failing it must not get a busy instance restarted.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `deflect serve` shuts down gracefully on SIGTERM: stops accepting, lets in-flight runs finish for up to 10 s
# (--grace), exits within 15 s. Give the container at least that: `docker stop -t 20`, fly.toml `kill_timeout`.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/deflect-entrypoint"]
# serve applies pending migrations before it listens.
CMD ["node", "bin/deflect.js", "serve"]
