import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WatchExecutionRequest(_message.Message):
    __slots__ = ("execution_id", "poll_interval_seconds")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    POLL_INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    poll_interval_seconds: float
    def __init__(self, execution_id: _Optional[str] = ..., poll_interval_seconds: _Optional[float] = ...) -> None: ...

class NodeStateChange(_message.Message):
    __slots__ = ("execution_id", "node_id", "task", "state", "attempt", "error", "execution_state", "observed_at")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_STATE_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    node_id: str
    task: str
    state: str
    attempt: int
    error: str
    execution_state: str
    observed_at: _timestamp_pb2.Timestamp
    def __init__(self, execution_id: _Optional[str] = ..., node_id: _Optional[str] = ..., task: _Optional[str] = ..., state: _Optional[str] = ..., attempt: _Optional[int] = ..., error: _Optional[str] = ..., execution_state: _Optional[str] = ..., observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamNodeLogsRequest(_message.Message):
    __slots__ = ("execution_id", "node_id", "follow")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    node_id: str
    follow: bool
    def __init__(self, execution_id: _Optional[str] = ..., node_id: _Optional[str] = ..., follow: _Optional[bool] = ...) -> None: ...

class LogChunk(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class CacheEntry(_message.Message):
    __slots__ = ("key", "project", "domain", "task", "cache_version", "execution_id", "created_at")
    KEY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    CACHE_VERSION_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    key: str
    project: str
    domain: str
    task: str
    cache_version: str
    execution_id: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, key: _Optional[str] = ..., project: _Optional[str] = ..., domain: _Optional[str] = ..., task: _Optional[str] = ..., cache_version: _Optional[str] = ..., execution_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListCacheEntriesRequest(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: str
    def __init__(self, task: _Optional[str] = ...) -> None: ...

class ListCacheEntriesResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[CacheEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[CacheEntry, _Mapping]]] = ...) -> None: ...

class ClearCacheRequest(_message.Message):
    __slots__ = ("task", "all")
    TASK_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    task: str
    all: bool
    def __init__(self, task: _Optional[str] = ..., all: _Optional[bool] = ...) -> None: ...

class ClearCacheResponse(_message.Message):
    __slots__ = ("removed",)
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: int
    def __init__(self, removed: _Optional[int] = ...) -> None: ...

class PromotionRecord(_message.Message):
    __slots__ = ("id", "project", "name", "version", "from_domain", "to_domain", "admin_endpoint", "forced", "evidence_execution", "entities", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FROM_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    TO_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    ADMIN_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    FORCED_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    project: str
    name: str
    version: str
    from_domain: str
    to_domain: str
    admin_endpoint: str
    forced: bool
    evidence_execution: str
    entities: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., project: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., from_domain: _Optional[str] = ..., to_domain: _Optional[str] = ..., admin_endpoint: _Optional[str] = ..., forced: _Optional[bool] = ..., evidence_execution: _Optional[str] = ..., entities: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreatePromotionRequest(_message.Message):
    __slots__ = ("promotion",)
    PROMOTION_FIELD_NUMBER: _ClassVar[int]
    promotion: PromotionRecord
    def __init__(self, promotion: _Optional[_Union[PromotionRecord, _Mapping]] = ...) -> None: ...

class ListPromotionsRequest(_message.Message):
    __slots__ = ("project", "name")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListPromotionsResponse(_message.Message):
    __slots__ = ("promotions",)
    PROMOTIONS_FIELD_NUMBER: _ClassVar[int]
    promotions: _containers.RepeatedCompositeFieldContainer[PromotionRecord]
    def __init__(self, promotions: _Optional[_Iterable[_Union[PromotionRecord, _Mapping]]] = ...) -> None: ...

class ReproductionRecord(_message.Message):
    __slots__ = ("id", "source", "source_endpoint", "local_execution", "identical", "diff", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    LOCAL_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    IDENTICAL_FIELD_NUMBER: _ClassVar[int]
    DIFF_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    source: str
    source_endpoint: str
    local_execution: str
    identical: bool
    diff: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., source: _Optional[str] = ..., source_endpoint: _Optional[str] = ..., local_execution: _Optional[str] = ..., identical: _Optional[bool] = ..., diff: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateReproductionRequest(_message.Message):
    __slots__ = ("reproduction",)
    REPRODUCTION_FIELD_NUMBER: _ClassVar[int]
    reproduction: ReproductionRecord
    def __init__(self, reproduction: _Optional[_Union[ReproductionRecord, _Mapping]] = ...) -> None: ...

class ListReproductionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListReproductionsResponse(_message.Message):
    __slots__ = ("reproductions",)
    REPRODUCTIONS_FIELD_NUMBER: _ClassVar[int]
    reproductions: _containers.RepeatedCompositeFieldContainer[ReproductionRecord]
    def __init__(self, reproductions: _Optional[_Iterable[_Union[ReproductionRecord, _Mapping]]] = ...) -> None: ...
