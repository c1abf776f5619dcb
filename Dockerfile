# The billing worker. Temporal and PostgreSQL run as their own services (docker-compose.yml).
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# Bundle the workflow code at build time: workers start without webpack.
RUN node --import tsx workers/bundle.ts /app/workflow-bundle.js
ENV WORKFLOW_BUNDLE=/app/workflow-bundle.js
USER node
# SIGTERM drains the worker (running activities get the grace time) before it exits.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "workers/main.ts"]
