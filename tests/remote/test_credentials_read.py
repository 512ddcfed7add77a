"""Fresh join credentials for a node whose join failed, however long ago: the credentials step records what it made
on its control plane, the read (at every preview and update) reports it with whether the node has joined, and the
program asks for fresh ones only for a node that has not joined and whose credentials expired."""

import datetime
import json

from components.bootstrap import host_steps, join_credentials
from tests.remote.test_host_scripts import CLUSTER, WORKER
from tests.remote.test_removal_scripts import first_control_plane
from tests.sandbox import render_for

NOW = datetime.datetime.now(datetime.timezone.utc)


def read(box) -> dict:
    result = box.run(render_for(box, join_credentials.read_script))
    assert result.returncode == 0, result.stderr
    return join_credentials.parse_records(result.stdout)


def test_a_failed_join_gets_fresh_credentials_once_its_own_expired_and_the_request_then_stays(tmp_path):
    box = first_control_plane(tmp_path, [WORKER.name])
    (box.state / "nodes" / WORKER.name).unlink()  # the worker never joined
    made = box.run(render_for(box, lambda: host_steps.credentials(CLUSTER, WORKER, "")))
    assert made.returncode == 0, made.stderr
    records = read(box)
    expires = json.loads(made.stdout.strip().splitlines()[-1])["expires"]
    assert records[WORKER.name] == {"expires": expires, "request": "", "joined": False}
    assert join_credentials.request(records, WORKER.name, NOW) == "", "an hour left: the same credentials are good"

    later = NOW + datetime.timedelta(hours=3)
    fresh = join_credentials.request(records, WORKER.name, later)
    assert fresh.startswith(f"fresh credentials for {WORKER.name}: the ones that expired ")
    box.reset_calls()
    again = box.run(render_for(box, lambda: host_steps.credentials(CLUSTER, WORKER, fresh)))
    assert again.returncode == 0 and any(c.startswith("kubeadm token create") for c in box.calls())
    # The node joins with them: its join records its identity on its Node.
    (box.state / "nodes" / WORKER.name).touch()
    (box.state / "identity").mkdir()
    (box.state / "identity" / WORKER.name).write_text("i-0123\n")
    records = read(box)
    assert records[WORKER.name]["joined"] is True and records[WORKER.name]["request"] == fresh
    much_later = NOW + datetime.timedelta(days=300)
    assert join_credentials.request(records, WORKER.name, much_later) == fresh, \
        "a joined node keeps the request its credentials were made under: nothing changes any more"


def test_a_node_without_a_recorded_identity_has_not_joined(tmp_path):
    box = first_control_plane(tmp_path, [WORKER.name])  # a Node of the name, registered by a join that failed
    assert box.run(render_for(box, lambda: host_steps.credentials(CLUSTER, WORKER, ""))).returncode == 0
    assert read(box)[WORKER.name]["joined"] is False


def test_the_read_changes_nothing_and_a_host_without_admin_conf_reports_no_records(tmp_path):
    box = first_control_plane(tmp_path, [WORKER.name])
    before = box.snapshot()
    read(box)
    assert box.mutating_calls() == [] and box.snapshot() == before
    (box.root / "etc/kubernetes/admin.conf").unlink()
    result = box.run(render_for(box, join_credentials.read_script))
    assert "unavailable" in json.loads(result.stdout) and join_credentials.parse_records(result.stdout) == {}
    assert join_credentials.request({}, WORKER.name, NOW) == ""



def test_a_failed_kubectl_read_fails_rather_than_reporting_nodes_not_joined(tmp_path):
    box = first_control_plane(tmp_path, [WORKER.name])
    assert box.run(render_for(box, lambda: host_steps.credentials(CLUSTER, WORKER, ""))).returncode == 0
    box.fail("kubectl")
    assert box.run(render_for(box, join_credentials.read_script)).returncode != 0, \
        "ssh-read.sh makes it unavailable: no fresh credentials asked for on a guess"


def test_nothing_parsable_is_no_records():
    for stdout in ("", "garbage", '{"nodes": []}', '["x"]'):
        assert join_credentials.parse_records(stdout) == {}
