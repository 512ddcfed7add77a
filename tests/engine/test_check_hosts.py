"""`python -m tools.check_hosts` before `pulumi up` on bare metal, against real sshd hosts in the test's network
namespaces: one line per host, ok or why not (the pinned host key differs, the key is refused, no answer), all hosts
at once, and an exit status a script can use."""

from __future__ import annotations

import copy
import subprocess
import sys
import time

import yaml

from tests.engine.hosts import ssh_key, ssh_lab
from tests.engine.test_up import HOSTS
from tests.helpers import ROOT, stack_document


def test_each_host_gets_one_line_saying_whether_it_answers_and_why_not(tmp_path):
    with ssh_lab(tmp_path, "chk") as (hosts, key):
        public = key.with_suffix(".pub").read_text()
        for name in ("cp-1", "cp-2", "cp-3"):
            hosts.add(name, HOSTS[name], public)
        hosts.add("worker-1", HOSTS["worker-1"], ssh_key(tmp_path / "stranger").with_suffix(".pub").read_text())
        pinned = {name: host.host_key for name, host in hosts.hosts.items()}
        pinned["cp-2"] = pinned["cp-3"]  # another machine's key pinned for cp-2
        pinned["worker-2"] = pinned["cp-1"]  # worker-2 has no SSH server at all
        document = copy.deepcopy(stack_document("metal"))
        config = document["config"]
        config.update({"k8s-platform:tier": "dev", "k8s-platform:sshUser": "root", "k8s-platform:loadBalancer": {
            **config["k8s-platform:loadBalancer"], "mode": "colocated"}})
        config["k8s-platform:inventory"] = {"hosts": [
            {"name": name, "address": address, "roles": ["worker" if name.startswith("worker") else "control-plane"],
             "vcpu": 8, "memoryGiB": 32, "diskGiB": 200, "zone": "rack-a", "hostKey": pinned[name]}
            for name, address in HOSTS.items()]}
        stack_file = tmp_path / "Pulumi.metal.yaml"
        stack_file.write_text(yaml.safe_dump(document))
        started = time.monotonic()
        done = subprocess.run(["ip", "netns", "exec", hosts.engine_namespace, sys.executable, "-m",
                               "tools.check_hosts", "--stack", "metal", "--config-file", str(stack_file),
                               "--identity", str(key), "--seconds", "6"], cwd=ROOT, capture_output=True, text=True,
                              timeout=180)
        took = time.monotonic() - started
    lines = {line.split()[1]: line for line in done.stdout.splitlines()}
    assert done.returncode == 1, done
    assert lines["cp-1"].startswith("ok   cp-1 (control-plane): cp-1 (root@203.0.113.21:22) answers over SSH")
    assert lines["cp-3"].startswith("ok   cp-3 (control-plane)")
    assert lines["cp-2"].startswith("FAIL cp-2 (control-plane): cp-2 (root@203.0.113.22:22) offers an SSH host key "
                                    "other than the one pinned for it")
    assert lines["worker-1"].startswith("FAIL worker-1 (worker): worker-1 (root@203.0.113.31:22) refuses the SSH key")
    assert lines["worker-2"].startswith("FAIL worker-2 (worker): worker-2 (root@203.0.113.32:22) did not answer over "
                                        "SSH within 6 s")
    assert "2 of 5 hosts answer over SSH" in done.stderr
    assert took < 60, "every host at once, each bounded"
