"""Derives the ports that charts we install serve on the nodes' own addresses (a DaemonSet on the host network),
at their pinned versions, into tests/data/chart-ports.json: the firewall test checks that the security groups
admit each one a scraper reaches. Read only when this script runs, never by the tests.

    python -m tools.derive_chart_ports --shared ../shared/chart-values
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "chart-ports.json"
# chart folder -> the value paths that say whether it runs on the host network and on which port it listens.
HOST_NETWORK_CHARTS = {"prometheus-node-exporter": ("hostNetwork", "service.targetPort")}


def lookup(values: dict, path: str):
    for part in path.split("."):
        values = values[part]
    return values


def derive(shared: Path) -> dict:
    found = {}
    for chart, (host_network, port) in sorted(HOST_NETWORK_CHARTS.items()):
        values = yaml.safe_load((shared / chart / "values.yaml").read_text())
        version = yaml.safe_load((shared / chart / "Chart.yaml").read_text())["version"]
        found[chart] = {"version": version, "hostNetwork": bool(lookup(values, host_network)),
                        "port": int(lookup(values, port))}
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True)
    args = parser.parse_args()
    OUT.write_text(json.dumps(derive(args.shared), indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
