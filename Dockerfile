# One etcd-ts member per container; docker-compose.yml gives each its flags.
FROM node:20-bookworm-slim
WORKDIR /app
COPY . .
# npm install runs the "prepare" script, which generates types from proto/ and compiles.
RUN npm install --no-audit --no-fund && npm prune --omit=dev
EXPOSE 2379 2380
VOLUME /data
ENTRYPOINT ["node", "--max-semi-space-size=8", "--single-threaded-gc", "bin/etcd-ts.js"]
