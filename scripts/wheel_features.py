"""Lists crates whose features differ between the wheel's build (crowdsift-py alone, as maturin
builds it) and the workspace's test build. Each difference makes maturin rebuild that crate and
everything above it; crates/py/Cargo.toml pins the features that keep the two equal.

usage: python3 scripts/wheel_features.py   (prints nothing when they agree; exit code 0 either way)
"""
import subprocess
import sys


def features(*args):
    out = subprocess.run(
        ["cargo", "tree", *args, "-f", "{p} [{f}]", "--prefix", "none"], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in out.splitlines():
        line = line.replace(" (*)", "").strip()
        if line:
            found.setdefault(line.split(" [")[0], set()).add(line)
    return found


wheel = features("-p", "crowdsift-py", "--features", "crowdsift-py/extension-module", "-e", "normal,build")
workspace = features("--workspace", "-e", "normal,build,dev")
for name in sorted(wheel):
    if name in workspace and wheel[name] != workspace[name] and not name.startswith(("pyo3", "crowdsift-py")):
        print(f"wheel build rebuilds {name}: {sorted(wheel[name])} vs workspace {sorted(workspace[name])}", file=sys.stderr)
