"""Shell completion (bash through a real bash, zsh through its completion protocol) and
docs/cli.md, which must equal what the commands' own help renders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.cli.cli_docs import render

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = '''
from sdk import task, workflow, LaunchPlan

@task
def square(x: int) -> int:
    return x * x

@workflow
def pipeline(n: int = 3, label: str = "a") -> int:
    return square(x=n)

LaunchPlan.get_or_create(pipeline, name="nightly", default_inputs={"n": 5})
'''


def test_docs_cli_md_is_generated_from_the_commands_help():
    expected = render()
    assert (ROOT / "docs" / "cli.md").read_text() == expected, (
        "docs/cli.md is stale: run `python -m sandbox.cli.cli_docs > docs/cli.md`")
    for heading in ("## skiff run", "## skiff sandbox up", "## skiff completion"):
        assert heading in expected
    assert "`--overwrite-cache`: --sandbox/--remote: recompute cached tasks" in expected


@pytest.fixture
def project(tmp_path):
    (tmp_path / "comp_wf.py").write_text(WORKFLOW)
    skiff_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": skiff_dir + os.pathsep + os.environ["PATH"]}
    return tmp_path, env


def _bash_complete(project, *words: str) -> list[str]:
    """COMPREPLY of the script `skiff completion bash` installs, in a real bash."""
    root, env = project
    quoted = " ".join(f"'{w}'" for w in words)
    script = (
        'eval "$(skiff completion bash)"\n'
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n"
        "_skiff_completion skiff 2>/dev/null\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(["bash", "-c", script], cwd=root, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]


def test_bash_completes_commands_entities_and_their_inputs(project):
    assert _bash_complete(project, "skiff", "sand") == ["sandbox"]
    assert _bash_complete(project, "skiff", "run", "comp_wf.py", "") == \
        ["square", "pipeline", "nightly"]
    options = _bash_complete(project, "skiff", "run", "--sandbox", "comp_wf.py", "pipeline", "--")
    assert {"--n", "--label", "--inputs-file", "--json"} <= set(options)
    assert _bash_complete(project, "skiff", "run", "--par") == ["--parallelism"]


def test_zsh_script_and_its_completions(project):
    root, env = project
    script = subprocess.run(["skiff", "completion", "zsh"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert script.returncode == 0
    assert script.stdout.startswith("#compdef skiff") and "_SKIFF_COMPLETE=zsh_complete" in script.stdout
    if shutil.which("zsh"):
        assert subprocess.run(["zsh", "-n"], input=script.stdout, text=True).returncode == 0
    # What the script asks skiff for, and skiff answers (type, value, description per item).
    answer = subprocess.run(["skiff"], cwd=root, capture_output=True, text=True, timeout=60,
                            env={**env, "_SKIFF_COMPLETE": "zsh_complete",
                                 "COMP_WORDS": "skiff run comp_wf.py pipeline --l",
                                 "COMP_CWORD": "4"})
    assert answer.stdout.splitlines()[:2] == ["plain", "--label"]
    entities = subprocess.run(["skiff"], cwd=root, capture_output=True, text=True, timeout=60,
                              env={**env, "_SKIFF_COMPLETE": "zsh_complete",
                                   "COMP_WORDS": "skiff run comp_wf.py ni", "COMP_CWORD": "3"})
    assert entities.stdout.splitlines()[:2] == ["plain", "nightly"]
