"""`certificates`: when the control planes' kubeadm certificates are renewed. Pure.

    certificates:
      renewWithinDays: 90   # renew when any certificate expires within this many days (30..180)
      renewal: 0            # raise it to renew every control plane's certificates now, one after another

kubeadm's certificates last a year. Renewing three months ahead leaves room for a failed renewal to be seen (the
alert fires three weeks ahead, see addons/monitoring) and fixed; 30 days is the least, so that the alert never fires
before the renewal had its chance; 180 the most, so that a renewal does not run twice a year.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.settings.reader import Problems, Reader

RENEW_WITHIN_DAYS = 90
RENEW_WITHIN_LIMITS = (30, 180)
RENEWAL_LIMIT = 1_000_000


@dataclass(frozen=True)
class CertificateSettings:
    renew_within_days: int = RENEW_WITHIN_DAYS
    renewal: int = 0  # a counter: a new value renews now, once per control plane


def read_certificates(value: Any, problems: Problems) -> CertificateSettings:
    r = Reader({} if value is None else value, "certificates", problems, ["renewWithinDays", "renewal"])
    low, high = RENEW_WITHIN_LIMITS
    within = r.integer("renewWithinDays", RENEW_WITHIN_DAYS, minimum=low, maximum=high)
    renewal = r.integer("renewal", 0, minimum=0, maximum=RENEWAL_LIMIT)
    return CertificateSettings(within if isinstance(within, int) else RENEW_WITHIN_DAYS,
                               renewal if isinstance(renewal, int) else 0)
