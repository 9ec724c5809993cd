"""The sandbox's persistent store (SQLAlchemy): registry, executions, node executions, cache."""
from sandbox.store.db import init_store, open_store

__all__ = ["init_store", "open_store"]
