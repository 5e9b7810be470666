# Faros: the service and the editors' tool, built from this repository.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/faros ./cmd/faros \
 && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/flowctl ./cmd/flowctl

# No shell, no package manager, not root.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/faros /out/flowctl /usr/local/bin/
# In a container every interface is the container's own: listen on them, for the port mapping.
ENV FAROS_HTTP_ADDR=:8080 FAROS_OPS_ADDR=:9090 FAROS_DESK_ADDR=:8081
EXPOSE 8080 8081 9090
ENTRYPOINT ["/usr/local/bin/faros"]
