"""The control planes' certificates: the scripts that read and renew them, what a read reports, and when a renewal
is due. Pure.

Every preview and update reads each control plane's certificates (certificates-check.sh over ssh-read.sh, run by
the machine running Pulumi); the `<node>-certificates` step of each control plane, one after another, installs the
renewal program with its daily timer and runs it. The step's input changes only when the read finds something due
(or certificates.renewal is raised): the same certificates give the same plan, and a due renewal shows in the
plan before it runs. The timer renews without an update; the next read then sees the new dates.
"""

from __future__ import annotations

import base64
import datetime
import json
from dataclasses import dataclass, field

from components.remote import host_scripts
from components.settings.certificates import CertificateSettings

PROGRAM_PATH = "/usr/local/lib/k8s-platform/certificates-renew"
UNIT = "k8s-platform-certificates"
# node-exporter's textfile collector reads this folder (addons/monitoring: the host's / is mounted at /host/root).
METRICS_DIR = "/var/lib/k8s-platform/metrics"
METRICS_FILE = f"{METRICS_DIR}/k8s-platform-certificates.prom"
# Each wait of a static pod restart: 90 tries 2 s apart (the kubelet looks at its manifests every 20 s).
RESTART_ATTEMPTS = 90
# The timers of control plane 0, 1, 2... run daily at 03:00, 03:30, 04:00... UTC: a renewal restarts the static pods
# of one control plane in a few minutes, so two never restart at once.
TIMER_START_MINUTE = 180
TIMER_STAGGER_MINUTES = 30
# The cluster's own CA for the web hosts (addons/harbor, registry-ca.sh) keeps its files here on the first control
# plane; a host's certificate is issued again within WEB_RENEW_WITHIN_DAYS of its expiry (docs/certificates.md promises 30).
CA_DIR = "/etc/kubernetes/k8s-platform-ca"
WEB_RENEW_WITHIN_DAYS = 30


@dataclass(frozen=True)
class CertificateReport:
    """What one read of a control plane found: expiry dates by certificate name (UTC)."""
    certificates: dict[str, datetime.datetime] = field(default_factory=dict)  # kubeadm's, renewed here
    authorities: dict[str, datetime.datetime] = field(default_factory=dict)  # kubeadm's CAs, ten years
    web: dict[str, datetime.datetime] = field(default_factory=dict)  # the web hosts' (first control plane)
    renewed: str = ""  # why a renewal ran, when one did
    unavailable: str = ""  # why nothing was read

    def as_output(self) -> dict:
        def dates(values: dict) -> dict:
            return {name: iso(when) for name, when in sorted(values.items())}
        if self.unavailable:
            return {"unavailable": self.unavailable}
        earliest = min(self.certificates.values(), default=None)
        return {"earliest": iso(earliest) if earliest else "", "certificates": dates(self.certificates),
                "authorities": dates(self.authorities), "web": dates(self.web)}


def iso(when: datetime.datetime) -> str:
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dates(values, what: str) -> dict[str, datetime.datetime]:
    if not isinstance(values, dict):
        raise ValueError(f"the certificate report's {what} are not a mapping")
    parsed = {}
    for name, text in values.items():
        try:
            parsed[str(name)] = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"the certificate report gives {name} the date {text!r}") from None
    return parsed


def parse_report(stdout: str | None) -> CertificateReport:
    """A report from certificates-check.sh or certificates-renew.sh (their last line); nothing read: unavailable."""
    lines = (stdout or "").strip().splitlines()
    if not lines:
        return CertificateReport(unavailable="nothing was read")
    try:
        data = json.loads(lines[-1])
    except json.JSONDecodeError:
        return CertificateReport(unavailable=f"the read printed no report: {lines[-1][:200]}")
    if not isinstance(data, dict):
        return CertificateReport(unavailable="the read printed no report")
    if "unavailable" in data:
        return CertificateReport(unavailable=str(data["unavailable"]))
    return CertificateReport(certificates=_dates(data.get("certificates", {}), "certificates"),
                             authorities=_dates(data.get("authorities", {}), "authorities"),
                             web=_dates(data.get("web", {}), "web certificates"), renewed=str(data.get("renewed", "")))


def latest(*reports: CertificateReport) -> CertificateReport:
    """The newest date of each certificate over several reports (a read before a renewal, the renewal's own)."""
    read = [r for r in reports if not r.unavailable]
    if not read:
        return reports[0] if reports else CertificateReport(unavailable="nothing was read")

    def newest(kind: str) -> dict:
        merged: dict[str, datetime.datetime] = {}
        for report in read:
            for name, when in getattr(report, kind).items():
                merged[name] = max(when, merged.get(name, when))
        return merged
    return CertificateReport(newest("certificates"), newest("authorities"), newest("web"),
                             renewed=next((r.renewed for r in read if r.renewed), ""))


def due(report: CertificateReport, now: datetime.datetime, within_days: int) -> tuple[str, ...]:
    """kubeadm's certificates that expire within `within_days` of `now`, by name."""
    limit = now + datetime.timedelta(days=within_days)
    return tuple(sorted(name for name, when in report.certificates.items() if when < limit))


def web_request(report: CertificateReport, now: datetime.datetime) -> str:
    """What the read asks of the web CA step (registry-ca.sh issues a host's certificate again within
    WEB_RENEW_WITHIN_DAYS of its expiry): in words, its input."""
    limit = now + datetime.timedelta(days=WEB_RENEW_WITHIN_DAYS)
    names = sorted(name for name, when in report.web.items() if when < limit)
    return f"due within {WEB_RENEW_WITHIN_DAYS} days: {' '.join(names)}" if names else "nothing due"


def renewal_request(report: CertificateReport, now: datetime.datetime, settings: CertificateSettings) -> str:
    """What the read asks of the `<node>-certificates` step, in words: it is the step's input, so it changes (and
    the step runs) only when something is due. A host that could not be read (a new one, a dead one) asks
nothing: "nothing due", as it does once it is read, so that the read of a new cluster changes no input."""
    names = due(report, now, settings.renew_within_days)
    if not names:
        return "nothing due"
    return f"due within {settings.renew_within_days} days: {' '.join(names)}"


def timer_calendar(index: int) -> str:
    minute = TIMER_START_MINUTE + TIMER_STAGGER_MINUTES * index
    return f"*-*-* {minute // 60 % 24:02d}:{minute % 60:02d}:00 UTC"


def check_script() -> str:
    return host_scripts.render(("certificates-lib.sh", "certificates-check.sh"), {"WEB_CA_DIR": CA_DIR},
                               name="certificates-check")


def renew_program(settings: CertificateSettings) -> str:
    return host_scripts.render(("certificates-lib.sh", "certificates-renew.sh"), {
        "RENEW_WITHIN_DAYS": settings.renew_within_days, "RENEWAL": settings.renewal, "WEB_CA_DIR": CA_DIR,
        "METRICS_FILE": METRICS_FILE, "RESTART_ATTEMPTS": RESTART_ATTEMPTS}, name="certificates-renew")


def step_script(settings: CertificateSettings, index: int, request: str) -> str:
    """The `<node>-certificates` step of the control plane at `index`; `request` is renewal_request's answer."""
    return host_scripts.render(("timer-lib.sh", "certificates-timer.sh"), {
        "PROGRAM_BASE64": base64.b64encode(renew_program(settings).encode()).decode(), "PROGRAM_PATH": PROGRAM_PATH,
        "TIMER_CALENDAR": timer_calendar(index), "UNIT": UNIT, "REQUEST": request}, name="certificates")
