"""StepProgress: each long step on stderr, a steady line while it runs, its duration when it
ends; nothing with quiet; a step shorter than delay_s shows nothing."""

from __future__ import annotations

import re
import time

from sandbox.cli.progress import StepProgress


def test_steps_heartbeat_and_durations(capsys):
    with StepProgress(tty=False, heartbeat_s=0.3) as say:
        say("building MinIO")
        time.sleep(1.2)
        say("starting the admin API")
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "... building MinIO"
    assert any(line.startswith("... still building MinIO (") for line in err[1:-1])
    assert any(re.fullmatch(r"\.\.\. building MinIO: done in \d+ s", line) for line in err)
    assert err[-1] == "... starting the admin API"  # quick: no duration line


def test_a_failed_step_gets_no_done_line(capsys):
    try:
        with StepProgress(tty=False) as say:
            say("starting MinIO")
            time.sleep(1.1)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert capsys.readouterr().err.splitlines() == ["... starting MinIO"]


def test_quiet_prints_nothing(capsys):
    with StepProgress(quiet=True, tty=False, heartbeat_s=0.1) as say:
        say("building MinIO")
        time.sleep(0.3)
    assert capsys.readouterr().err == ""


def test_a_step_shorter_than_its_delay_prints_nothing(capsys):
    with StepProgress(tty=False, delay_s=5.0) as say:
        say("registering pkg.tgz")
    assert capsys.readouterr().err == ""
    with StepProgress(tty=False, delay_s=0.2) as say:
        say("registering pkg.tgz")
        time.sleep(1.2)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "... registering pkg.tgz"
    assert re.fullmatch(r"\.\.\. registering pkg\.tgz: done in \d+ s", lines[1]) and len(lines) == 2
