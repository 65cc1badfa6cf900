# Production image: API and worker from one image, chosen by the command (see docker-compose.yml).
# The Node major matches package.json `engines` and CI (Node 24 LTS).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Pipeline templates and their sample exports, read at boot.
COPY templates ./templates
USER node
EXPOSE 3000
CMD ["node", "--max-old-space-size=512", "--expose-gc", "dist/main.js"]
