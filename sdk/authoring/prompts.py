"""Answering gates from a terminal: the GateAnswers a CLI passes to `run_locally` for prompts."""
from __future__ import annotations

import json
import time
from typing import Any, Callable

from sdk.authoring.local_run import GateAnswers
from sdk.errors import ExecutionFailed

_TRUE = {"y", "yes", "true", "1"}
_FALSE = {"n", "no", "false", "0"}


def parse_answer(gate: str, text: str, expected_type: Any) -> Any:
    """A typed value from what someone typed: plain text for str, words for bool, JSON otherwise."""
    text = text.strip()
    try:
        if expected_type is str:
            return text
        if expected_type is bool:
            if text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            raise ValueError(text)
        if expected_type in (int, float):
            return expected_type(text)
        return json.loads(text)
    except ValueError as error:
        name = getattr(expected_type, "__name__", str(expected_type))
        raise ExecutionFailed(f"gate '{gate}': {text!r} is not of type {name}; type a value of that type") from error


def console_answers(
    ask: Callable[[str], str] = input, sleep: Callable[[float], None] = time.sleep
) -> GateAnswers:
    """GateAnswers that prompt with `ask` (input() by default): values for inputs, y/n for approvals."""

    def on_input(name: str, expected_type: Any) -> Any:
        type_name = getattr(expected_type, "__name__", str(expected_type))
        return parse_answer(name, ask(f"[input] gate '{name}' waits for a value of type {type_name}: "), expected_type)

    def on_approve(name: str, value: Any) -> bool:
        answer = ask(f"[approve] gate '{name}': approve {value!r}? [Y/n] ").strip().lower()
        return answer in ("",) or answer in _TRUE

    return GateAnswers(on_input, on_approve, sleep)
