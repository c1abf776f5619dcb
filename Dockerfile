# The billing worker, production build: TypeScript compiled by tsc (no tsx, esbuild or test tools
# at run time), the workflow code bundled at build time. Temporal and PostgreSQL run as their own
# services (docker-compose.yml).

# Build stage: every dependency (typescript among the devDependencies), compile, bundle workflows.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && node dist/workers/bundle.js /app/dist/workflow-bundle.js

# Run stage: production dependencies only, and the compiled output.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
ENV WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
# The worker's environment beside its flags: workers/node-flags.ts (a test checks this line against it).
ENV MALLOC_ARENA_MAX=2
USER node
# SIGTERM drains the worker (running activities get the grace time) before it exits.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["node", "dist/workers/healthcheck.js"]
# The worker's V8 heap budget: workers/node-flags.ts (a test checks this line against it).
CMD ["node", "--max-old-space-size=512", "--initial-old-space-size=192", "--max-semi-space-size=48", "dist/workers/main.js"]
