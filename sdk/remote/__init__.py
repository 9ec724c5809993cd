"""The bridge to a Flyte admin: register packages, run, wait, read outputs, promote, reproduce."""
from sdk.remote.config import RemoteConfig, load_config
from sdk.remote.errors import (
    AdminUnreachable, AuthenticationFailed, PromotionRefused, RemoteError, RemoteNotFound,
    VersionConflict,
)
from sdk.remote.remote import Remote

__all__ = ["Remote", "RemoteConfig", "load_config", "RemoteError", "AdminUnreachable",
           "AuthenticationFailed", "RemoteNotFound", "VersionConflict", "PromotionRefused"]
