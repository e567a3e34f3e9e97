# syntax=docker/dockerfile:1
# modelsign, production image. Two stages: the first installs dependencies and runs the
# project's postinstall (Prisma client generation, the prebuilt commands); the second
# holds only what runs, owned by root and read-only to the non-root user that runs it.
# Run it with a read-only root file system and a tmpfs on /tmp (docker-compose.yml does).

FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1
COPY package.json package-lock.json prisma.config.ts tsconfig.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY src ./src
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# Debian packages for a PKCS#11 module inside the image (docker-compose.pkcs11.yml builds with
# softhsm2; a vendor's module is usually mounted instead). Empty by default.
ARG PKCS11_PACKAGES=""
RUN if [ -n "$PKCS11_PACKAGES" ]; then \
      apt-get update && apt-get install -y --no-install-recommends $PKCS11_PACKAGES && rm -rf /var/lib/apt/lists/* \
      && if [ -d /var/lib/softhsm/tokens ]; then chown node:node /var/lib/softhsm/tokens; fi; \
    fi
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    MODELSIGN_DATA_DIR=/var/lib/modelsign
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/src ./src
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json /app/tsconfig.json ./
COPY bin ./bin
COPY prisma ./prisma
COPY openapi.yaml ./
# The embedded database's folder, for `docker run` without DATABASE_URL (mount a volume there).
RUN mkdir -p /var/lib/modelsign && chown node:node /var/lib/modelsign
# The image's unprivileged user (uid 1000); it owns nothing under /app.
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/modelsign.js"]
CMD ["serve"]
