"""The control planes' certificates at every preview and update (certificates.py renders and decides):

    read (each control plane, an invoke over SSH: nothing changes on the host)
      -> first control plane's `<node>-certificates` -> the next control plane's -> ...

Each step installs the renewal program with its daily timer and runs it; its input is what the read found due, so
the plan shows a renewal before it runs and the same certificates give the same plan. The steps follow the
control planes' upgrade steps (an upgrade renews certificates too, and restarts the same static pods), one after
another: at most one control plane restarts its static pods at a time. What each control plane holds afterwards
is the newer of the read and the step's own report: the stack output `certificates`, the admin kubeconfig's
re-read, the web CA step's input.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pulumi

from components.bootstrap import certificates
from components.bootstrap.certificates import CertificateReport
from components.bootstrap.host_reads import read_host
from components.host import Host
from components.remote.runner import HostRunner
from components.settings.certificates import CertificateSettings


# Reads that find nothing for an expected reason: a host that is not a control plane yet (a new cluster, a new
# machine), and the offline plan.
EXPECTED_UNAVAILABLE = ("not a control plane of a cluster yet", "the offline plan reads no host")


def _warned(host: Host, report: CertificateReport) -> CertificateReport:
    if report.unavailable and not report.unavailable.endswith(EXPECTED_UNAVAILABLE):
        # Said plainly first: most often the host does not answer over SSH (python -m tools.check_hosts says why).
        pulumi.log.warn(f"{host.name} ({host.ssh.address}) did not answer this preview's read over SSH: "
                        f"{report.unavailable}. Check it with python -m tools.check_hosts; its steps cannot run until "
                        f"it answers. Its certificates are not renewed from this update (its daily timer still runs)")
    return report


def read_certificates(host: Host, key: pulumi.Input[str], parent: pulumi.Resource) -> pulumi.Output:
    """What `host` reports now (a CertificateReport); a read that failed for an unexpected reason is a warning."""
    return read_host(host, key, parent, certificates.check_script()).apply(
        lambda stdout: _warned(host, certificates.parse_report(stdout)))


@dataclass
class CertificateRenewal:
    settings: CertificateSettings
    key: pulumi.Input[str]
    parent: pulumi.Resource
    # When the program runs (its one clock read, in the bootstrap): renewal_request compares expiry dates with it;
    # resource inputs never carry it.
    now: datetime.datetime
    # What each control plane's read found, by name (CertificateReport outputs; read_certificates): known at
    # preview even when a step is to run, so inputs derived from it alone (the web CA step's) stay quiet.
    reads: dict[str, pulumi.Output]

    def steps(self, control_planes: list[Host], after: list) -> tuple[dict[str, pulumi.Output], list]:
        """The steps, one control plane after another after `after`; returns each control plane's report
        (CertificateReport outputs) by name, and what comes after the last step."""
        run = HostRunner(self.parent, self.key).run
        reports: dict[str, pulumi.Output] = {}
        previous = after
        for index, host in enumerate(control_planes):
            read = self.reads[host.name]
            request = read.apply(lambda r: certificates.renewal_request(r, self.now, self.settings))
            step = run(f"{host.name}-certificates", host,
                       request.apply(lambda q, i=index: certificates.step_script(self.settings, i, q)), previous)
            reports[host.name] = pulumi.Output.all(read, step.stdout).apply(
                lambda v: certificates.latest(v[0], certificates.parse_report(v[1])))
            previous = [step]
        return reports, previous


def expiry_output(reports: dict[str, pulumi.Output]) -> pulumi.Output:
    """The stack output `certificates`: by control plane, the earliest expiry and every certificate's."""
    names = sorted(reports)
    return pulumi.Output.all(*(reports[n] for n in names)).apply(
        lambda values: {name: report.as_output() for name, report in zip(names, values)})


def admin_expiry(report: CertificateReport) -> str:
    when = report.certificates.get("admin.conf")
    return certificates.iso(when) if when else "unknown"
