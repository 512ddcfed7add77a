"""Scale benchmark of the offline plan: how resources, dependency edges, time and memory grow with the workers.

    python -m tools.scale_benchmark [--sizes 30,300,1000] [--stacks prod,metal] [--repeat 1]

For each stack and size it writes a copy of the shipped stack file with that many workers (AWS: the one pool's
count; bare metal: inventory hosts on a /16), plans it in a fresh process (`python -m tools.plan`), and prints
resources, dependency edges (explicit `dependsOn` entries), wall time and peak memory, then the ratios 300/30 and
1,000/300 of this run. The SDK floor is the same number of bare resources registered under the same mocks: what
the Pulumi SDK alone costs for that many registrations. A script, not a timed test: figures depend on the machine.
tests/tools/test_scale.py holds the part that does not (edges per resource stay flat).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
NS = "k8s-platform"
# Addresses for large inventories: plan inputs only, never contacted.
HOST_NET = "10.50"
POD_CIDR = "172.16.0.0/12"  # room for 4,096 nodes at a /24 each


def stack_document(stack: str, workers: int) -> dict:
    """The shipped stack file of `stack` (prod or metal) with `workers` workers and room for them."""
    document = copy.deepcopy(yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text()))
    config = document["config"]
    config[f"{NS}:network"] = {**config[f"{NS}:network"], "podCidr": POD_CIDR}
    if stack == "metal":
        config[f"{NS}:network"]["hostCidr"] = f"{HOST_NET}.0.0/16"
        config[f"{NS}:loadBalancer"] = {**config[f"{NS}:loadBalancer"], "vip": f"{HOST_NET}.0.10"}
        hosts = [h for h in config[f"{NS}:inventory"]["hosts"] if "worker" not in h["roles"]]
        for index, host in enumerate(hosts):
            host["address"] = f"{HOST_NET}.0.{11 + index}"
        template = next(h for h in yaml.safe_load((PROJECT_DIR / "Pulumi.metal.yaml").read_text())["config"]
                        [f"{NS}:inventory"]["hosts"] if "worker" in h["roles"])
        for index in range(workers):
            hosts.append({**template, "name": f"worker-{index + 1}",
                          "address": f"{HOST_NET}.{1 + index // 250}.{1 + index % 250}",
                          "zone": f"rack-{'abc'[index % 3]}"})
        config[f"{NS}:inventory"]["hosts"] = hosts
    else:
        pools = config[f"{NS}:workerPools"]
        config[f"{NS}:workerPools"] = [{**pools[0], "count": workers, "maxCount": workers}]
    return document


@dataclass(frozen=True)
class Measure:
    resources: int
    edges: int
    seconds: float
    peak_mib: float

    @property
    def edges_per_resource(self) -> float:
        return self.edges / self.resources


def _run(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of one child process."""
    # stderr to a file, not a pipe: waiting on a child whose pipe is full would never return.
    with tempfile.TemporaryFile() as stderr:
        start = time.monotonic()
        child = subprocess.Popen(argv, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.monotonic() - start
        if os.waitstatus_to_exitcode(status) != 0:
            stderr.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed:\n{stderr.read().decode(errors='replace')}")
    return seconds, usage.ru_maxrss / 1024


def measure_plan(stack: str, workers: int, work: Path) -> Measure:
    stack_file = work / f"Pulumi.{stack}-{workers}.yaml"
    stack_file.write_text(yaml.safe_dump(stack_document(stack, workers), sort_keys=True))
    plan_file = work / f"{stack}-{workers}.json"
    seconds, peak = _run([sys.executable, "-m", "tools.plan", "--stack", stack, "--config-file", str(stack_file),
                          "--json", str(plan_file)])
    resources = json.loads(plan_file.read_text())["resources"]
    return Measure(len(resources), sum(len(r["dependsOn"]) for r in resources), seconds, peak)


FLOOR_PROGRAM = """
import sys, pulumi
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await
from tools.plan_mocks import PlanMocks, RecordingMonitor
monitor = RecordingMonitor(PlanMocks("eu-west-1"))
pulumi.runtime.set_mocks(monitor.mocks, project="k8s-platform", stack="floor", preview=False, monitor=monitor)
def program():
    for i in range(int(sys.argv[1])):
        pulumi.CustomResource("k8s-platform:bench:Bare", f"bare-{i}", {"index": i})
program()
_sync_await(wait_for_rpcs())
"""


def measure_floor(resources: int) -> tuple[float, float]:
    return _run([sys.executable, "-c", FLOOR_PROGRAM, str(resources)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.scale_benchmark", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="30,300,1000", help="worker counts, comma-separated")
    parser.add_argument("--stacks", default="prod,metal", help="stacks, comma-separated (prod, metal)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per point; the median time is reported")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'stack':6} {'workers':>7} {'resources':>9} {'edges':>9} {'edges/res':>9} {'seconds':>8} "
          f"{'peak MiB':>8} {'floor s':>8} {'x floor':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for stack in args.stacks.split(","):
            by_size = {}
            for workers in sizes:
                runs = sorted((measure_plan(stack, workers, Path(tmp)) for _ in range(args.repeat)),
                              key=lambda m: m.seconds)
                m = runs[len(runs) // 2]
                floor_seconds, _ = measure_floor(m.resources)
                by_size[workers] = m
                print(f"{stack:6} {workers:>7} {m.resources:>9} {m.edges:>9} {m.edges_per_resource:>9.2f} "
                      f"{m.seconds:>8.1f} {m.peak_mib:>8.0f} {floor_seconds:>8.1f} "
                      f"{m.seconds / floor_seconds:>7.2f}", flush=True)
            for low, high in zip(sizes, sizes[1:]):
                a, b = by_size[low], by_size[high]
                print(f"{stack:6} {high}/{low}: resources x{b.resources / a.resources:.2f}, edges "
                      f"x{b.edges / a.edges:.2f}, time x{b.seconds / a.seconds:.2f}, memory "
                      f"x{b.peak_mib / a.peak_mib:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
