"""docs/ci/github-workflow.yml: valid for GitHub, and its steps do what they say.

- The file is checked against the GitHub workflow schema that check-jsonschema vendors
  from SchemaStore (`--builtin-schema vendor.github-workflows`), by that tool.
- Its shell steps run for real, with bash, in a throw-away repository with a base commit
  and a pull-request commit, the variables GitHub sets given by hand (RUNNER_TEMP,
  GITHUB_STEP_SUMMARY, BASE_SHA): the plan is written, then the check passes, and fails
  on a stale out/.
- Its comment script runs under node against a stand-in for github-script's `github` and
  `context`: the first run creates the comment, the next updates that one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infragen.review.formats import MARKER

from conftest import ROOT, copy_estate

WORKFLOW = ROOT / "docs" / "ci" / "github-workflow.yml"
BIN = Path(sys.executable).parent


def steps() -> dict[str, dict]:
    body = yaml.safe_load(WORKFLOW.read_text())
    return {step.get("name", step.get("uses")): step for step in body["jobs"]["infragen"]["steps"]}


def test_the_workflow_is_valid_for_github():
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", WORKFLOW],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_may_comment_and_ends_with_the_check():
    body = yaml.safe_load(WORKFLOW.read_text())
    assert body["permissions"] == {"contents": "read", "pull-requests": "write"}
    named = list(steps())
    assert named[-1] == "out/ is current (fails on a stale or hand-edited out/)"
    assert steps()[named[-1]]["run"].strip() == "infragen check"
    assert (
        f"const marker = '{MARKER}';"
        in steps()["Post or update the plan comment"]["with"]["script"]
    )


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def run_step(name: str, repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = steps()[name]["run"]
    path = f"{BIN}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=repo,
        env={**os.environ, "PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def pull_request(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A repository whose base commit is the estate and whose head moves a port."""
    repo = tmp_path / "repo"
    repo.mkdir()
    copy_estate(repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    inventory = repo / "inventory.yaml"
    inventory.write_text(inventory.read_text().replace("      client: 4222", "      client: 4223"))
    rendered = subprocess.run(
        [BIN / "infragen", "render"], cwd=repo, capture_output=True, text=True, timeout=300
    )
    assert rendered.returncode == 0, rendered.stderr
    git(repo, "commit", "-q", "-am", "move nats")
    runner = tmp_path / "runner"
    runner.mkdir()
    env = {
        "RUNNER_TEMP": str(runner),
        "GITHUB_STEP_SUMMARY": str(runner / "summary.md"),
        "BASE_SHA": base,
    }
    return repo, env


def test_the_shell_steps_plan_then_check(pull_request):
    repo, env = pull_request
    planned = run_step("Plan against the base branch's out/", repo, env)
    assert planned.returncode == 0, planned.stderr
    runner = Path(env["RUNNER_TEMP"])
    comment = (runner / "plan.md").read_text()
    assert comment.startswith(MARKER + "\n")
    assert "1 port opened to 192.168.4.0/24, 1 port closed to 192.168.4.0/24" in comment
    assert json.loads((runner / "plan.json").read_text())["changed"] is True
    assert (runner / "summary.md").read_text() == comment

    checked = run_step("out/ is current (fails on a stale or hand-edited out/)", repo, env)
    assert checked.returncode == 0, checked.stderr
    inventory = repo / "inventory.yaml"
    inventory.write_text(inventory.read_text().replace("client: 4223", "client: 4224"))
    stale = run_step("out/ is current (fails on a stale or hand-edited out/)", repo, env)
    assert stale.returncode == 1 and "out/ is stale" in stale.stderr


STAND_IN = """
const calls = [];
const stored = JSON.parse(process.argv[1]);
const github = {
  paginate: async (method, params) => { calls.push(['list', params.issue_number]); return stored; },
  rest: { issues: {
    listComments: 'listComments',
    updateComment: async (p) => calls.push(['update', p.comment_id, p.body]),
    createComment: async (p) => calls.push(['create', p.issue_number, p.body]),
  } },
};
const context = { repo: { owner: 'o', repo: 'r' }, issue: { number: 7 } };
(async () => { SCRIPT })().then(() => console.log(JSON.stringify(calls)));
"""


def comment_calls(stored: list[dict], runner: Path) -> list[list]:
    if not shutil.which("node"):
        if os.environ.get("CI"):
            pytest.fail("node is missing: CI must run the workflow's comment script")
        pytest.skip("node is not installed")
    script = steps()["Post or update the plan comment"]["with"]["script"]
    program = STAND_IN.replace("SCRIPT", script)
    result = subprocess.run(
        ["node", "-e", program, json.dumps(stored)],
        env={**os.environ, "RUNNER_TEMP": str(runner)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_comment_script_creates_one_comment_then_updates_it(tmp_path):
    (tmp_path / "plan.md").write_text(f"{MARKER}\n\n### infragen plan: no changes\n")
    someone = {"id": 1, "user": {"type": "User"}, "body": f"{MARKER} quoted by a person"}
    created = comment_calls([someone], tmp_path)
    assert created[-1][:2] == ["create", 7] and created[-1][2].startswith(MARKER)
    ours = {"id": 42, "user": {"type": "Bot"}, "body": f"{MARKER}\n\nold plan"}
    updated = comment_calls([someone, ours], tmp_path)
    assert updated[-1][:2] == ["update", 42] and "no changes" in updated[-1][2]
