"""The README tells the truth: its commands are what CI runs, its example runs."""

import re
from pathlib import Path

import sklearn

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_quick_start_is_two_commands_and_ci_runs_the_second():
    block = re.search(r"## Quick start\s+```bash\n(.*?)```", README, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].endswith("sk-metameta demo")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci


def test_python_example_runs():
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    namespace = {}
    try:
        exec(compile(code, "README.md", "exec"), namespace)
    finally:
        sklearn.set_config(enable_metadata_routing=False)
    model, labels = namespace["model"], namespace["labels"]
    explanation = model.explain(labels[0])
    weights = [source["weight"] for source in explanation["sources"]]
    assert len(weights) == 20
    assert abs(sum(weights) - 1.0) < 1e-8
    assert namespace["D"].shape == (160, 160)
