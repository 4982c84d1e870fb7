# Build stage: compile the TypeScript sources to dist/ (the only use of the dev dependencies).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY client ./client
COPY cli ./cli
COPY schema ./schema
COPY server ./server
COPY migrations ./migrations
RUN npm run build:lib

# Runtime: production dependencies and the compiled build; no TypeScript loader.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY --from=build /app/dist ./dist
COPY explorer/dist ./explorer/dist
# The volume's mount point must belong to the unprivileged user that writes keys and PGlite files.
RUN mkdir -p /data /pub && chown node:node /data /pub
ENV HOST=0.0.0.0 PORT=8080 LEDGER_DATA_DIR=/data
VOLUME /data
EXPOSE 8080 8081
USER node
CMD ["node", "bin/ledger.js", "serve"]
