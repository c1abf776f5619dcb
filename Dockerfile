# The billing worker. Temporal and PostgreSQL run as their own services (docker-compose.yml).
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
USER node
# SIGTERM drains the worker (running activities get the grace time) before it exits.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "workers/main.ts"]
