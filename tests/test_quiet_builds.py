"""The engine tools' slow builds (scripts/quietly.sh): a line at least every interval while a build works, the go
command's module-download noise in a log file, and on failure the log's end and the build's status."""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "quietly.sh"


def quietly(tmp_path: Path, command: str) -> subprocess.CompletedProcess:
    program = f"source {SCRIPT}\nbuild() {{ {command}; }}\nquietly {tmp_path}/logs piece build"
    return subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "QUIET_INTERVAL": "1"})


def test_a_slow_build_says_it_still_works_every_interval_and_keeps_its_noise_in_a_log(tmp_path):
    noise = "for i in 1 2 3; do echo 'go: downloading example.com/m v1.0.'$i; done"
    result = quietly(tmp_path, f"{noise}; sleep 3.5")
    assert result.returncode == 0, result.stderr
    beats = [line for line in result.stdout.splitlines() if "piece: still building" in line]
    assert 2 <= len(beats) <= 4, result.stdout
    assert "go: downloading" not in result.stdout + result.stderr
    assert (tmp_path / "logs/piece.log").read_text().count("go: downloading") == 3


def test_a_quick_build_prints_nothing(tmp_path):
    result = quietly(tmp_path, "echo 'go: downloading example.com/m v1.0.0'")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_a_failed_build_shows_the_end_of_its_log_and_returns_its_status(tmp_path):
    result = quietly(tmp_path, "echo 'main.go:3: undefined: x'; exit 3")
    assert result.returncode == 3
    assert "piece: the build failed (exit 3)" in result.stderr and "main.go:3: undefined: x" in result.stderr
