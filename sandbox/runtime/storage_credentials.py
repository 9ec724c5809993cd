"""Short-lived, scoped storage credentials for task containers, from MinIO's STS AssumeRole.

A task container never gets the sandbox's root key: each attempt gets temporary credentials
whose session policy is its StorageGrant (sandbox/engine/storage_grant.py) and which expire
soon after its timeout. The container's S3 clients sign with the session token:
Skiff's `sdk.s3_client` and flytekit's s3fs/botocore both read AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (flytekit passes FLYTE_AWS_ACCESS_KEY_ID to s3fs
without a token, so those are left unset).
"""
from __future__ import annotations

import dataclasses
import threading
import time

from sdk.errors import SandboxError


MAX_AHEAD_WAIT_S = 240


@dataclasses.dataclass(frozen=True)
class IssuedCredentials:
    env: dict = dataclasses.field(repr=False)  # the container's storage environment
    expires_at: float  # time.time()


class StorageCredentialIssuer:
    """Mints AssumeRole credentials with the root key (which stays in this process)."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str):
        self.endpoint = endpoint
        self._access_key = access_key
        self._secret_key = secret_key
        self._http = None
        self._lock = threading.Lock()

    @classmethod
    def from_state(cls, state) -> "StorageCredentialIssuer":
        return cls(state.minio_endpoint, state.access_key, state.secret_key)

    def _pool(self):
        with self._lock:
            if self._http is None:
                import urllib3

                # No urllib3 retries (each would log a warning): issue() waits outages out.
                self._http = urllib3.PoolManager(
                    maxsize=8, timeout=urllib3.Timeout(connect=5, read=60),
                    retries=urllib3.Retry(total=0, connect=0, read=0, redirect=0, status=0,
                                          raise_on_status=False))
            return self._http

    def issue(self, grant, lifetime_s: int) -> IssuedCredentials:
        """Credentials for one attempt. A MinIO outage (restarting, killed and brought back
        by `skiff sandbox up`) is waited out like the engine's own storage calls, so a
        container created meanwhile starts late rather than spending a retry."""
        from minio.credentials.providers import AssumeRoleProvider

        from sandbox.storage.objects import OUTAGE_WAIT_S, wait_out_outage

        provider = AssumeRoleProvider(
            sts_endpoint=self.endpoint, access_key=self._access_key,
            secret_key=self._secret_key, duration_seconds=lifetime_s,
            policy=grant.policy(), http_client=self._pool())
        started = time.time()
        try:
            credentials = wait_out_outage(self.endpoint, "issuing task credentials",
                                          provider.retrieve, OUTAGE_WAIT_S, _sts_unreachable)
        except Exception as exc:  # noqa: BLE001 - MinIO down or refusing: a system error
            raise SandboxError(f"MinIO at {self.endpoint} issued no task credentials "
                               f"(STS AssumeRole): {exc}") from None
        env = {
            "FLYTE_AWS_ENDPOINT": self.endpoint,
            "AWS_ACCESS_KEY_ID": credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
            "AWS_SESSION_TOKEN": credentials.session_token or "",
        }
        return IssuedCredentials(env, started + lifetime_s)


def _sts_unreachable(exc: BaseException) -> bool:
    """MinIO cannot be reached, or answers 5xx while it starts (minio's STS provider reports
    a status as ValueError); a 4xx is an answer and is not waited on."""
    import re

    from sandbox.storage.objects import is_unreachable

    if isinstance(exc, ValueError) and not isinstance(exc, UnicodeError):
        return re.search(r"HTTP status code 5\d\d\b", str(exc)) is not None
    return is_unreachable(exc)


@dataclasses.dataclass(frozen=True)
class StorageAccess:
    """What a container request says about storage: its grant and how long the credentials
    must live once it runs. Requests compare equal by grant and lifetime only."""

    grant: object  # StorageGrant
    lifetime_s: int
    issuer: StorageCredentialIssuer = dataclasses.field(compare=False, repr=False)

    def issue(self) -> IssuedCredentials:
        return self.issuer.issue(self.grant, self.lifetime_s)

    def needed_s(self) -> int:
        """How long credentials must still be valid when the container starts its task: a
        container prepared ahead may wait up to MAX_AHEAD_WAIT_S at its start gate with the
        credentials it was created with; after a longer wait it is replaced."""
        return self.lifetime_s - MAX_AHEAD_WAIT_S
