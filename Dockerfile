FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY client ./client
COPY schema ./schema
COPY server ./server
COPY migrations ./migrations
COPY tsconfig.json ./
ENV HOST=0.0.0.0 PORT=8080 LEDGER_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
USER node
CMD ["node", "bin/ledger.js", "serve"]
