FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY client ./client
COPY cli ./cli
COPY schema ./schema
COPY server ./server
COPY migrations ./migrations
COPY explorer/dist ./explorer/dist
COPY tsconfig.json ./
# The volume's mount point must belong to the unprivileged user that writes keys and PGlite files.
RUN mkdir -p /data /pub && chown node:node /data /pub
ENV HOST=0.0.0.0 PORT=8080 LEDGER_DATA_DIR=/data
VOLUME /data
EXPOSE 8080 8081
USER node
CMD ["node", "bin/ledger.js", "serve"]
