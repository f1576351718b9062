# deflect on Node 20 (Debian bookworm). better-sqlite3 is compiled from source in the build stage.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY bin ./bin
# prepare (tsc) needs the sources, so install without scripts first, then build once everything is copied.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json drizzle.config.ts ./
COPY src ./src
COPY handlers ./handlers
COPY migrations ./migrations
COPY examples ./examples
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0 DEFLECT_DB=/data/deflect.db
COPY --from=build /app /app
EXPOSE 3000
# serve applies pending migrations before it listens.
CMD ["node", "bin/deflect.js", "serve"]
