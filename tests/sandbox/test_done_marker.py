"""The done marker's protocol (sdk/start_gate.py, sandbox/runtime/done_marker.py): the go line
carries the token, and the engine's filter passes the task's output on unchanged, however Docker's
stream cuts it, while recognising its own token's markers and nothing else."""
from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.runtime.done_marker import MarkerWatch, new_token
from sdk import start_gate


def _go(line: bytes):
    read, write = os.pipe()
    os.write(write, line)
    os.close(write)
    try:
        return start_gate.wait_for_go(read)
    finally:
        os.close(read)


def test_the_go_line_carries_the_token_or_nothing():
    token = new_token()
    assert _go(start_gate.go_line(token)) == token
    assert _go(start_gate.GO) is None
    for bad in (b"go \n", b"go ABC\n", b"go a b\n", b"stop\n", b"", b"go " + b"a" * 200 + b"\n"):
        try:
            _go(bad)
        except start_gate.GateClosed:
            continue
        raise AssertionError(f"{bad!r} opened the gate")


@settings(max_examples=200, deadline=None)
@given(before=st.binary(max_size=200), between=st.binary(max_size=50),
       cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_markers_are_found_and_removed_wherever_the_stream_cuts(before, between, cuts):
    token = new_token()
    marker = start_gate.marker(token, 0)
    forged = start_gate.marker("0123456789abcdef", 0)  # another token: task output
    stream = before + forged + between + marker + marker
    watch, out, start = MarkerWatch(token), b"", 0
    for cut in sorted(c for c in cuts if c <= len(stream)) + [len(stream)]:
        out += watch.feed(stream[start:cut])
        start = max(start, cut)
    out += watch.flush()
    assert out == before + forged + between
    assert watch.announced and watch.exit_code == 0
    assert not watch.done.is_set()  # set by the reader, once it handed the output on
    watch.signal_if_announced()
    assert watch.done.is_set()


def test_one_marker_is_not_the_end_and_an_unfinished_one_is_output():
    token = new_token()
    watch = MarkerWatch(token)
    assert watch.feed(b"a" + start_gate.marker(token, 0)) == b"a"
    assert not watch.announced  # stderr's has not come
    partial = start_gate.marker(token, 0)[:-3]
    assert watch.feed(partial) == b""  # held back: it may still become a marker
    assert watch.flush() == partial  # the stream ended: it was output after all
