# An image with isolate installed: the egress proxy of `isolate export
# --format k8s` runs `isolate proxy` in it, and a Job may run its command
# in it (or in an image of your own with isolate's needs: Node 20.11 or
# later, bubblewrap and socat for `isolate run`). See docs/kubernetes.md.
#
#   docker build -t isolate:latest .
#
# Debian's Node 20 image, as `node:20-bookworm-slim`; pin it by digest in
# production (docker buildx imagetools inspect node:20-bookworm-slim).

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin/ bin/
COPY src/ src/
COPY profiles/ profiles/
COPY docs/ docs/
# The build writes dist/ (and the start-up snapshot for this image's Node); then only the runtime dependencies stay.
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap socat ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/package.json /opt/isolate/package.json
COPY --from=build /src/bin/ /opt/isolate/bin/
COPY --from=build /src/dist/ /opt/isolate/dist/
COPY --from=build /src/profiles/ /opt/isolate/profiles/
COPY --from=build /src/docs/ /opt/isolate/docs/
COPY --from=build /src/node_modules/ /opt/isolate/node_modules/
RUN ln -s /opt/isolate/bin/isolate.js /usr/local/bin/isolate && isolate --version
# The image's `node` user (uid 1000): the uid the exported Pods run as (runAsNonRoot).
USER 1000:1000
ENV HOME=/tmp
CMD ["isolate", "--help"]
