# One image for every QT-Shop service and tool (docker-compose.yml). TypeScript runs through tsx, as on
# the local stack: there is no build step. Pick what runs with `command:` in compose, e.g.
#   command: ["tsx", "services/catalog/src/main.ts"]     or     command: ["npm", "run", "migrate"]
# or, without a command, with QTSHOP_SERVICE=<folder of services/> (catalog, inventory, basket,
# order-command, order-query, relay).
FROM node:24-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    PATH=/app/node_modules/.bin:$PATH

# Dependencies first, so that a source change reuses this layer. tsx is a runtime dependency; the dev
# dependencies (typescript, jest) are not needed to run.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY . .

USER node
EXPOSE 3001 3002 3003 3004 3005 3010
CMD ["sh", "-c", "exec tsx \"services/${QTSHOP_SERVICE:?set QTSHOP_SERVICE to a folder of services/ or give the container a command}/src/main.ts\""]
