"""MinIO object storage for the sandbox: documents, code bundles and the bucket layout."""
from sandbox.storage.layout import attempt_prefix, fast_uri, raw_prefix
from sandbox.storage.objects import ObjectStore

__all__ = ["ObjectStore", "attempt_prefix", "raw_prefix", "fast_uri"]
