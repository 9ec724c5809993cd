"""The sandbox's gRPC servers: Flyte's AdminService and DataProxyService, and Skiff's own API
(skiff.sandbox.v1), served together on 127.0.0.1 by one detached process per sandbox home."""
