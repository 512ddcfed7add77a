"""Derives the field lists of the Kubernetes config kinds we generate into tests/data/kube-config-fields.json.

    python -m tools.derive_kube_fields [SCHEMA_DIR]

SCHEMA_DIR (default ../shared/schemas) holds field lists derived from the Kubernetes Go types. We keep only the
facts a test needs: for each kind and each nested type, its field names and field types, plus where they came
from. Tests read the committed output, never SCHEMA_DIR.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "tests" / "data" / "kube-config-fields.json"
SOURCES = {
    "kubeadm.k8s.io/v1beta4": "kubeadm-v1beta4.json",
    "kubelet.config.k8s.io/v1beta1": "kubelet-v1beta1.json",
    "kubeproxy.config.k8s.io/v1alpha1": "kubeproxy-v1alpha1.json",
}


def _fields(entry: dict) -> dict[str, str]:
    return {name: spec["type"] for name, spec in sorted(entry["fields"].items())}


def derive(schema_dir: Path) -> dict:
    result: dict = {}
    for api_version, file_name in SOURCES.items():
        data = json.loads((schema_dir / file_name).read_text())
        result[api_version] = {
            "source": {"repo": data["source"]["repo"], "path": data["source"]["path"],
                       "commit": data["source"]["commit"]},
            "kinds": {kind: _fields(entry) for kind, entry in sorted(data["kinds"].items())},
            "types": {name: _fields(entry) for name, entry in sorted(data["types"].items())},
        }
    return result


def main(argv: list[str]) -> int:
    schema_dir = Path(argv[0]) if argv else ROOT.parent / "shared" / "schemas"
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(derive(schema_dir), indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
