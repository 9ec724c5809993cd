"""Where the remote client meets the local engine: running a remote execution again in the
sandbox (reproduce) and keeping promotion and reproduction records (the sandbox's home and
Skiff's own API). `sdk.remote` talks to admins only; this package needs both sides."""
