"""SHA-256 without OpenSSL: Python's built-in implementation, the same digests.

`hashlib` loads libcrypto (~2.5 ms), which every task container and every `skiff` start that
hashes something would pay; the values hashed here (literals, sources, small packages) are
small, where the built-in one is as quick.
"""
try:
    from _sha256 import sha256
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import sha256

__all__ = ["sha256"]
