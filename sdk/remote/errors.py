"""Errors from talking to a Flyte admin, each one line that says what to do next."""
from __future__ import annotations

from sdk.errors import SkiffError


class RemoteError(SkiffError):
    """The admin refused a request; the message names the entity and the admin."""


class AdminUnreachable(RemoteError):
    """No admin answers at the endpoint (a problem of the environment, not the input)."""

    exit_code = 1


class AuthenticationFailed(RemoteError):
    """The admin rejected the credentials, or no token could be obtained."""


class RemoteNotFound(RemoteError):
    """An execution, task, workflow or launch plan the admin does not know."""


class VersionConflict(RemoteError):
    """A version is registered already with a different spec."""


class PromotionRefused(RemoteError):
    """Promotion of a version without a succeeded execution in the source domain."""


def translate_rpc_error(error, what: str, endpoint: str) -> RemoteError:
    """A gRPC failure as a RemoteError naming `what` was being done and where."""
    import grpc

    code = error.code() if hasattr(error, "code") else None
    detail = (error.details() if hasattr(error, "details") else str(error)) or str(code)
    detail = " ".join(str(detail).split())  # one line, whatever the server sent
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return AdminUnreachable(
            f"cannot reach the Flyte admin at {endpoint} while trying to {what} ({detail}); "
            "check the endpoint (--endpoint / admin.endpoint in the config) and that the admin "
            "is running (`skiff sandbox status` for a sandbox)")
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return AuthenticationFailed(
            f"the Flyte admin at {endpoint} rejected the credentials while trying to {what} "
            f"({detail}); check the client id/secret or token in the config")
    if code == grpc.StatusCode.NOT_FOUND:
        return RemoteNotFound(f"cannot {what}: the Flyte admin at {endpoint} says it does not "
                              f"exist ({detail}); check the name, project, domain and version")
    return RemoteError(f"cannot {what}: the Flyte admin at {endpoint} answered "
                       f"{code.name if code else 'an error'} ({detail})")
