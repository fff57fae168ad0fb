"""The README's embedding example runs as printed, in a real process."""

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
    deadline, states = done.stdout.strip().splitlines()
    assert deadline == "2027-02-15 23:00:00+00:00"  # LC-2: 42 days, Paris midnight
    assert {k: n for k, n in ast.literal_eval(states).items() if n} == {"notified": 1}
    assert "295109912611193" not in done.stdout + done.stderr
