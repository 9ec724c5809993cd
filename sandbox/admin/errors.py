"""gRPC status errors the admin returns, and the decorator that turns Skiff errors into them."""
from __future__ import annotations

import functools
import logging

import grpc

from sdk.errors import SkiffError

log = logging.getLogger(__name__)


class AdminError(Exception):
    """An RPC failure with the gRPC status a Flyte client expects (flyteadmin's codes)."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code


def not_found(message: str) -> AdminError:
    return AdminError(grpc.StatusCode.NOT_FOUND, message)


def invalid(message: str) -> AdminError:
    return AdminError(grpc.StatusCode.INVALID_ARGUMENT, message)


def already_exists(message: str) -> AdminError:
    return AdminError(grpc.StatusCode.ALREADY_EXISTS, message)


# A status message travels in the response's trailing metadata, which clients cap at 8 KiB
# (beyond it they see RESOURCE_EXHAUSTED instead of the status): messages that echo a huge
# name the client sent are shortened to fit.
MAX_MESSAGE_CHARS = 2000


def status_message(text: str) -> str:
    text = str(text)
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    half = MAX_MESSAGE_CHARS // 2 - 10
    return f"{text[:half]} [...] {text[-half:]}"


def rpc(method):
    """Abort the call with the error's status; unexpected exceptions become INTERNAL (logged)."""

    @functools.wraps(method)
    def wrapper(self, request, context):
        try:
            return method(self, request, context)
        except AdminError as error:
            context.abort(error.code, status_message(error))
        except SkiffError as error:  # bad inputs, unknown entities: the client's to fix
            code = (grpc.StatusCode.NOT_FOUND if type(error).__name__ == "EntityNotFound"
                    else grpc.StatusCode.INVALID_ARGUMENT)
            context.abort(code, status_message(error))
        except Exception as error:  # noqa: BLE001 - the server must answer, not die
            log.exception("%s failed", method.__name__)
            context.abort(grpc.StatusCode.INTERNAL,
                          status_message(f"{method.__name__}: {error}"))

    return wrapper
