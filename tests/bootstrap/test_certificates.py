"""When a control plane's certificates are due: the read's report, the step's request, the web CA's request,
the timers' stagger and the `certificates` settings. Pure."""

import datetime
import json

import pytest

from components.bootstrap import certificates
from components.bootstrap.certificates import CertificateReport, parse_report
from components.settings import SettingsError, load_settings
from components.settings.certificates import CertificateSettings
from tests.helpers import raw_config

NOW = datetime.datetime(2026, 12, 2, 18, 0, tzinfo=datetime.timezone.utc)
SECRET = {"k8s-platform:sshPrivateKey"}


def at(days: int) -> str:
    return certificates.iso(NOW + datetime.timedelta(days=days))


def read(**days) -> str:
    names = {"admin_conf": "admin.conf", "etcd_peer": "etcd-peer"}
    return json.dumps({"certificates": {names.get(k, k): at(v) for k, v in days.items()},
                       "authorities": {"ca": at(3000)}, "web": {"harbor.example.org": at(40)}, "renewed": ""})


def test_a_report_parses_to_dates_and_its_output_names_the_earliest():
    report = parse_report("kubeadm noise\n" + read(apiserver=100, admin_conf=50))
    assert report.certificates["admin.conf"] == NOW + datetime.timedelta(days=50)
    assert report.as_output() == {"earliest": at(50), "certificates": {"admin.conf": at(50), "apiserver": at(100)},
                                  "authorities": {"ca": at(3000)}, "web": {"harbor.example.org": at(40)}}


@pytest.mark.parametrize("stdout", ["", "not json", '["a list"]', '{"unavailable": "no admin.conf"}'])
def test_nothing_read_is_unavailable_and_asks_nothing(stdout):
    report = parse_report(stdout)
    assert report.unavailable
    assert certificates.renewal_request(report, NOW, CertificateSettings()) == "nothing due"
    assert certificates.web_request(report, NOW) == "nothing due"
    assert report.as_output() == {"unavailable": report.unavailable}


def test_a_bad_date_is_refused_with_the_certificate_name():
    with pytest.raises(ValueError, match="apiserver"):
        parse_report('{"certificates": {"apiserver": "next year"}}')


def test_only_what_expires_within_the_setting_is_due():
    report = parse_report(read(apiserver=89, admin_conf=91, etcd_peer=10))
    assert certificates.due(report, NOW, 90) == ("apiserver", "etcd-peer")
    assert certificates.renewal_request(report, NOW, CertificateSettings(renew_within_days=90)) == \
        "due within 90 days: apiserver etcd-peer"
    assert certificates.renewal_request(report, NOW, CertificateSettings(renew_within_days=30)) == \
        "due within 30 days: etcd-peer"
    assert certificates.renewal_request(parse_report(read(apiserver=200)), NOW, CertificateSettings()) == \
        "nothing due"


def test_web_certificates_are_due_within_thirty_days():
    report = parse_report(read(apiserver=200))
    assert certificates.web_request(report, NOW) == "nothing due", "40 days left"
    assert certificates.web_request(report, NOW + datetime.timedelta(days=11)) == \
        "due within 30 days: harbor.example.org"


def test_the_newer_date_of_the_read_and_the_renewal_wins():
    before = parse_report(read(apiserver=20, admin_conf=20))
    renewed = parse_report(json.dumps({"certificates": {"apiserver": at(365)}, "renewed": "expiring"}))
    merged = certificates.latest(before, renewed)
    assert merged.certificates == {"apiserver": NOW + datetime.timedelta(days=365),
                                   "admin.conf": NOW + datetime.timedelta(days=20)}
    assert merged.renewed == "expiring"
    assert certificates.latest(CertificateReport(unavailable="x"), before).certificates == before.certificates


def test_timers_are_staggered_half_an_hour_apart():
    assert [certificates.timer_calendar(i) for i in range(3)] == [
        "*-*-* 03:00:00 UTC", "*-*-* 03:30:00 UTC", "*-*-* 04:00:00 UTC"]


def test_the_step_changes_only_with_its_request_and_settings():
    base = certificates.step_script(CertificateSettings(), 0, "nothing due")
    assert certificates.step_script(CertificateSettings(), 0, "nothing due") == base
    assert certificates.step_script(CertificateSettings(), 0, "due within 90 days: apiserver") != base
    assert certificates.step_script(CertificateSettings(renewal=1), 0, "nothing due") != base


def test_the_settings_default_and_bounds():
    assert load_settings(raw_config("prod"), SECRET, "prod").certificates == CertificateSettings(90, 0)
    config = {**raw_config("prod"), "k8s-platform:certificates": json.dumps({"renewWithinDays": 60, "renewal": 2})}
    assert load_settings(config, SECRET, "prod").certificates == CertificateSettings(60, 2)


@pytest.mark.parametrize("value,message", [
    ({"renewWithinDays": 10}, "certificates.renewWithinDays: must be at least 30 and at most 180, got 10"),
    ({"renewWithinDays": "90"}, "certificates.renewWithinDays: must be a whole number"),
    ({"renewal": -1}, "certificates.renewal: must be at least 0"),
    ({"renew": 1}, "certificates.renew"),
])
def test_bad_settings_name_the_key_path(value, message):
    config = {**raw_config("prod"), "k8s-platform:certificates": json.dumps(value)}
    with pytest.raises(SettingsError) as caught:
        load_settings(config, SECRET, "prod")
    assert message in str(caught.value)
