"""The README runs as printed, in real processes: its embedding example,
and its tour, a shell script from the feed to an offline-verified export."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_embedding_example_runs_as_printed_lc_1_lc_2(
    tmp_path: Path,
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert len(blocks) == 1, "the README has one Python example"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESPACE_")}
    done = subprocess.run(
        [sys.executable, "-c", blocks[0]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    deadline, states, refused = done.stdout.strip().splitlines()
    assert refused == "LC-4"
    assert deadline == "2027-02-15 23:00:00+00:00"  # LC-2: 42 days, Paris midnight
    assert {k: n for k, n in ast.literal_eval(states).items() if n} == {"notified": 1}
    assert "295109912611193" not in done.stdout + done.stderr


def test_the_readme_tour_runs_as_printed_from_the_feed_to_the_audit_lc_1_pro_2_acc_6(
    tmp_path: Path,
) -> None:
    blocks = re.findall(r"```sh\n(# tour.*?)```", README.read_text(), re.DOTALL)
    assert len(blocks) == 1, "the README has one tour"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESPACE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TMPDIR"] = str(tmp_path)  # the tour's scratch folder
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", blocks[0]],
        cwd=README.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.splitlines()[-1].startswith("valid: espace ")
    assert "284037505600180" not in done.stderr  # no NIR in the logs (SEC-3)
