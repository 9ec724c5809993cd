"""Short-lived, scoped storage credentials for task containers, from MinIO's STS AssumeRole.

A task container never gets the sandbox's root key: each attempt gets temporary credentials
whose session policy is its StorageGrant (sandbox/engine/storage_grant.py) and which expire
soon after its timeout. The container's S3 clients sign with the session token:
Skiff's `sdk.s3_client` and flytekit's s3fs/botocore both read AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (flytekit passes FLYTE_AWS_ACCESS_KEY_ID to s3fs
without a token, so those are left unset).
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import threading
import time

from sdk.errors import SandboxError


MAX_AHEAD_WAIT_S = 240
_MAX_KEPT = 256  # minted credentials kept for reuse (equal grants), oldest dropped first
_MINTING_AT_ONCE = 4  # background AssumeRole calls in flight, so a wide fan-out waits its turn

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class IssuedCredentials:
    env: dict = dataclasses.field(repr=False)  # the container's storage environment
    expires_at: float  # time.time()
    # how the caller got them: "minted" (it waited for a whole AssumeRole call), "ahead"
    # (minted by mint_ahead or for an equal grant before), and how long it waited
    how: str = "minted"
    waited_s: float = 0.0


class StorageCredentialIssuer:
    """Mints AssumeRole credentials with the root key (which stays in this process)."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str):
        self.endpoint = endpoint
        self._access_key = access_key
        self._secret_key = secret_key
        self._http = None
        self._lock = threading.Lock()
        # (grant, lifetime) -> Future[IssuedCredentials]: minted ahead, or for an equal grant
        self._minted: dict[tuple, concurrent.futures.Future] = {}
        self._minting = threading.Semaphore(_MINTING_AT_ONCE)

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

    def mint_ahead(self, grant, lifetime_s: int) -> None:
        """Start minting credentials for `grant` in a background thread, so that the attempt
        that asks for them later (issue) does not wait a whole AssumeRole call (14-57 ms)."""
        # Imported here, in the caller's thread, not first in the minting thread: two threads
        # importing minio at once can meet its modules half-initialised (minio.error's
        # circular imports), which failed a node that unpacked its code bundle meanwhile.
        import minio.credentials.providers  # noqa: F401

        key = (grant, lifetime_s)
        with self._lock:
            self._forget_stale()
            if key in self._minted:
                return
            future: concurrent.futures.Future = concurrent.futures.Future()
            self._minted[key] = future

        def mint() -> None:
            with self._minting:
                try:
                    future.set_result(self._mint(grant, lifetime_s))
                except BaseException as exc:  # noqa: BLE001 - issue() mints again, reporting
                    future.set_exception(exc)

        # A daemon thread: a mint still waiting out a MinIO outage never holds up an exit.
        threading.Thread(target=mint, name="skiff-mint-ahead", daemon=True).start()

    def issue(self, grant, lifetime_s: int) -> IssuedCredentials:
        """Credentials for one attempt: those minted ahead (or for an equal grant, e.g. by
        another element of the same map node) while they have enough lifetime left, else
        minted now. Attempts asking for an equal grant at once wait for one mint."""
        key = (grant, lifetime_s)
        started = time.monotonic()
        with self._lock:
            future = self._minted.get(key)
            if future is not None and future.done() and (
                    future.exception() is not None
                    or not _fresh_enough(future.result(), lifetime_s)):
                future = None
            minting = future is None
            if minting:
                future = concurrent.futures.Future()
                self._minted[key] = future  # an equal grant now or later reuses them
        if minting:
            try:
                issued = self._mint(grant, lifetime_s)
            except BaseException as exc:
                future.set_exception(exc)
                raise
            future.set_result(issued)
            with self._lock:
                self._forget_stale()
            return dataclasses.replace(issued, waited_s=time.monotonic() - started)
        try:
            issued = future.result()
        except Exception:  # noqa: BLE001 - minted again below, which reports it
            issued = None
        if issued is not None and _fresh_enough(issued, lifetime_s):
            return dataclasses.replace(issued, how="ahead", waited_s=time.monotonic() - started)
        issued = self._mint(grant, lifetime_s)
        return dataclasses.replace(issued, waited_s=time.monotonic() - started)

    def _forget_stale(self) -> None:
        """Drop credentials too old to hand out, and the oldest beyond _MAX_KEPT (lock held)."""
        for key, future in list(self._minted.items()):
            if future.done() and (future.exception() is not None
                                  or not _fresh_enough(future.result(), key[1])):
                del self._minted[key]
        while len(self._minted) > _MAX_KEPT:
            del self._minted[next(iter(self._minted))]

    def _mint(self, grant, lifetime_s: int) -> IssuedCredentials:
        """One AssumeRole call. A MinIO outage (restarting, killed and brought back
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


def _fresh_enough(issued: IssuedCredentials, lifetime_s: int) -> bool:
    """Credentials minted at most MAX_AHEAD_WAIT_S ago: the same slack a container prepared
    ahead gets (the lifetime's margin after the timeout covers it)."""
    return issued.expires_at >= time.time() + lifetime_s - MAX_AHEAD_WAIT_S


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

    def mint_ahead(self) -> None:
        self.issuer.mint_ahead(self.grant, self.lifetime_s)

    def needed_s(self) -> int:
        """How long credentials must still be valid when the container starts its task: a
        container prepared ahead may wait up to MAX_AHEAD_WAIT_S at its start gate with the
        credentials it was created with; after a longer wait it is replaced."""
        return self.lifetime_s - MAX_AHEAD_WAIT_S
