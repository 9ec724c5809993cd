"""An execution's engine in a process of its own: `python -m sandbox.engine.detached ID`.

`skiff run --sandbox --detach` and `skiff sandbox run --detach` start one and return at once;
the process runs (or resumes) the execution to its end and outlives the command that started
it. Its diagnostics go to <SKIFF_HOME>/logs/executions/<ID>.log.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)


ENTRY = "sandbox.engine.detached"  # what a detached engine's command line names


def start(state, execution_id: str, reuse_containers: bool | None = None) -> subprocess.Popen:
    """Start the engine process of `execution_id` (detached: its own session, no terminal).
    The CLI's --detach and the admin's CreateExecution both run executions this way."""
    from sandbox import home as sandbox_home

    logs = sandbox_home.logs_dir(Path(state.home)) / "executions"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SKIFF_HOME=str(state.home))
    if reuse_containers is not None:  # the command's choice; else the sandbox's setting
        env["SKIFF_REUSE_CONTAINERS"] = "1" if reuse_containers else "0"
    with sandbox_home.open_private_log(logs / f"{execution_id}.log") as log_file:  # 0600
        process = subprocess.Popen(
            [sys.executable, "-m", ENTRY, execution_id], env=env,
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True, umask=sandbox_home.PRIVATE_UMASK)
    return process


def main(argv: list[str] | None = None) -> int:
    from sandbox.admin.execution_config import apply_settings
    from sandbox.engine import run_execution
    from sandbox.engine.setup import context_from_state
    from sandbox.home import SandboxState
    from sdk.errors import SkiffError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    (execution_id,) = argv if argv is not None else sys.argv[1:]
    ctx = context_from_state(SandboxState.load())
    apply_settings(ctx, execution_id)  # --overwrite-cache and --envvars it was started with
    try:
        run_execution(ctx, execution_id)
    except SkiffError as error:
        log.error("%s", error)
        return 1
    finally:
        ctx.runner.close()  # its warm workers, if any
    log.info("execution %s succeeded", execution_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
