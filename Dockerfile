# One image for every QT-Shop service and compose job (docker-compose.yml), running compiled JavaScript.
# Stage `build` installs every dependency and bundles the entry points of scripts/build.ts into dist/
# (`npm run build`); the runtime stage has the production dependencies and dist/ only: no TypeScript, no
# tsx, no embedded PostgreSQL (a development dependency of the local stack). Pick what runs with
# `command:` in compose, e.g.
#   command: ["node", "dist/catalog.js"]     or     command: ["node", "dist/migrate.js"]
# or, without a command, with QTSHOP_SERVICE=<entry of scripts/build.ts> (catalog, inventory, basket,
# order-command, order-query, relay).

FROM node:24-bookworm-slim AS build
WORKDIR /src
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY services services
COPY scripts scripts
COPY migrations migrations
RUN npm run build

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# Dependencies first, so that a source change reuses this layer.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY --from=build /src/dist dist
# Read at run time: the connector files (the relay, the register-connectors job) and the job's script and
# the healthcheck.
COPY connect-config connect-config
COPY docker docker

USER node
EXPOSE 3001 3002 3003 3004 3005 3010
CMD ["sh", "-c", "exec node \"dist/${QTSHOP_SERVICE:?set QTSHOP_SERVICE to an entry of scripts/build.ts or give the container a command}.js\""]
