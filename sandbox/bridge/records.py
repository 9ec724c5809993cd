"""Records of promotions and reproductions: appended to $SKIFF_HOME/<kind>.jsonl always, and
sent to Skiff's own API (skiff.sandbox.v1.SandboxService) when the admin is a Skiff sandbox."""
from __future__ import annotations

import json
import logging
import os

import grpc

from sandbox.admin.gen import sandbox_pb2, sandbox_pb2_grpc
from sandbox.home import skiff_home

log = logging.getLogger(__name__)
_NOT_A_SKIFF_ADMIN = (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNAVAILABLE)


def _path(kind: str):
    return skiff_home() / f"{kind}.jsonl"


def append_local(kind: str, record: dict) -> None:
    path = _path(kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def load_local(kind: str) -> list[dict]:
    path = _path(kind)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def skiff_api(channel) -> sandbox_pb2_grpc.SandboxServiceStub:
    """Skiff's own API on a channel to a Skiff admin."""
    return sandbox_pb2_grpc.SandboxServiceStub(channel)


def send_promotion(channel, record) -> bool:
    """True when the admin kept the record (a Skiff sandbox); False for any other admin."""
    message = sandbox_pb2.PromotionRecord(
        project=record.project, name=record.name, version=record.version,
        from_domain=record.source, to_domain=record.target, admin_endpoint=record.endpoint,
        forced=record.forced, evidence_execution=record.green_execution or "",
        entities=record.entities)
    try:
        skiff_api(channel).CreatePromotion(sandbox_pb2.CreatePromotionRequest(promotion=message),
                                           timeout=30)
    except grpc.RpcError as exc:
        if exc.code() in _NOT_A_SKIFF_ADMIN:
            return False
        log.warning("the admin refused the promotion record: %s", exc.details())
        return False
    return True


def record_promotion(channel, record) -> None:
    """Keep a promotion (sdk.remote.promote.Promotion): with the admin when it is a Skiff
    sandbox (noted in `record.recorded_by_admin`), and in the local home always."""
    record.recorded_by_admin = send_promotion(channel, record)
    append_local("promotions", record.as_dict())


def send_reproduction(state, result, source_endpoint: str) -> bool:
    """Record a reproduction with the local sandbox's API (`state`'s admin, with this home's
    credentials); False when it does not answer."""
    from sandbox.admin.client_config import local_channel

    if not getattr(state, "admin_endpoint", ""):
        return False
    message = sandbox_pb2.ReproductionRecord(
        source=result.remote_execution, source_endpoint=source_endpoint,
        local_execution=result.local_execution, identical=result.identical,
        diff="\n".join(result.diff))
    with local_channel(state, "reproduce") as channel:
        try:
            skiff_api(channel).CreateReproduction(
                sandbox_pb2.CreateReproductionRequest(reproduction=message), timeout=30)
        except grpc.RpcError as exc:
            log.warning("the sandbox did not keep the reproduction record: %s", exc.details())
            return False
    return True
