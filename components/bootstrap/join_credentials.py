"""When a node gets fresh join credentials on its own. Pure.

A node's credentials step makes a token for an hour (for a control plane, certificates uploaded for two) and runs
only when its inputs change. Its input REQUEST comes from a read, at every preview and update, of what the control
plane that makes the node's credentials recorded (credentials-read.sh): a node that has not joined and whose
credentials have expired (or expire within FRESH_MARGIN) is asked for fresh ones; otherwise the request is what the
last credentials were made under, so that a read finds the same request again and nothing changes. A lifecycle
host that cannot be read asks nothing new of a node that never needed fresh credentials.
"""

from __future__ import annotations

import datetime
import json

from components.bootstrap.certificates import iso
from components.remote import host_scripts

CREDENTIALS_RECORDS = "/etc/kubernetes/k8s-platform/credentials.d"
# A join takes a few minutes: credentials with less than this left are as good as expired.
FRESH_MARGIN = datetime.timedelta(minutes=10)


def read_script() -> str:
    return host_scripts.render("credentials-read.sh", {"CREDENTIALS_RECORDS": CREDENTIALS_RECORDS},
                               name="credentials-read")


def parse_records(stdout: str | None) -> dict[str, dict]:
    """node name -> {"expires", "request", "joined"}; nothing read: no records."""
    lines = (stdout or "").strip().splitlines()
    try:
        data = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        return {}
    nodes = data.get("nodes") if isinstance(data, dict) else None
    return {str(k): v for k, v in nodes.items() if isinstance(v, dict)} if isinstance(nodes, dict) else {}


def request(records: dict[str, dict], node: str, now: datetime.datetime) -> str:
    """The REQUEST input of `node`'s credentials step."""
    record = records.get(node)
    if record is None:
        return ""
    expires = datetime.datetime.fromtimestamp(int(record.get("expires", 0)), datetime.timezone.utc)
    if not record.get("joined") and expires < now + FRESH_MARGIN:
        return f"fresh credentials for {node}: the ones that expired {iso(expires)} were made for a join that failed"
    return str(record.get("request", ""))
