"""A certificate of the user's own for the web hosts (harbor.<domain>, grafana.<domain>), instead of the
cluster's generated CA (`addons.tls`). Pure: no Pulumi.

    addons:
      tls:
        certificate: PEM chain, the server certificate first (pulumi config set --path addons.tls.certificate < fullchain.pem)
        key: PEM private key, a secret (pulumi config set --secret --path addons.tls.key < privkey.pem)
        ca: PEM of the CA the nodes trust for the registry; leave out for a publicly trusted certificate

Everything is checked before any resource is declared: the key matches the certificate, the certificate names
every web host, the chain links up to the CA, and nothing has expired. The key never appears in a message.
"""

from __future__ import annotations

import base64
import datetime
import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID

from components.settings import catalog
from components.settings.reader import REQUIRED, Problems

KEYS = ("certificate", "key", "ca")
OPTIONAL = ("ca",)  # left out for a publicly trusted certificate: the nodes' system store suffices
_KINDS = {"certificate": catalog.Kind("PEM certificates"), "key": catalog.Kind("PEM private key, a secret"),
          "ca": catalog.Kind("PEM certificates")}
# What the offline plan (tools/stack_file.py) reads in place of an encrypted value it cannot decrypt: "[secret]",
# or "[secret <digest>]". The Pulumi CLI always hands the program the decrypted key, so only the plan sees this;
# there the key cannot be checked.
UNDECRYPTED = "[secret]"
_UNDECRYPTED = re.compile(r"\[secret( [0-9a-f]{12})?\]")
SET_KEY_HINT = "pulumi config set --secret --path addons.tls.key < privkey.pem"


@dataclass(frozen=True)
class WebTls:
    certificate: str  # PEM chain, server certificate first
    key: str = field(repr=False)  # PEM; the program passes it on as a Pulumi secret only
    ca: str | None = None  # PEM; None: the chain is publicly trusted and the nodes' system store suffices

    def certificates(self, hosts: list[str]) -> dict:
        """The same shape as the generated CA's output (addons/harbor/values.py parse_certificates): base64 PEM."""
        def b64(pem: str) -> str:
            return base64.b64encode(pem.encode()).decode()
        return {"ca": b64(self.ca) if self.ca else "",
                "hosts": {host: {"cert": b64(self.certificate), "key": b64(self.key)} for host in sorted(hosts)}}


def _host_matches(pattern: str, host: str) -> bool:
    """RFC 6125: a wildcard stands for exactly one whole left-most label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == pattern[2:]
    return pattern == host


def _dns_names(cert: x509.Certificate) -> list[str]:
    try:
        return cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value.get_values_for_type(
            x509.DNSName)
    except x509.ExtensionNotFound:
        return []  # clients ignore the common name; a certificate without DNS names serves nobody


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def _load_chain(pem: str, path: str, problems: Problems) -> list[x509.Certificate] | None:
    try:
        chain = x509.load_pem_x509_certificates(pem.encode())
    except ValueError as error:
        problems.add(path, f"must be PEM certificates (-----BEGIN CERTIFICATE-----): {error}")
        return None
    return chain


def _load_key(text: str, problems: Problems):
    if _UNDECRYPTED.fullmatch(text.strip()):
        return UNDECRYPTED
    try:
        return serialization.load_pem_private_key(text.encode(), password=None)
    except TypeError:
        problems.add("addons.tls.key", "must not be protected by a passphrase (the ingress cannot prompt for one)")
    except (ValueError, UnsupportedAlgorithm):  # the library's own message is not echoed: it could quote the key
        problems.add("addons.tls.key", "must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)")
    return None


def read_web_tls(value, hosts: list[str], key_is_secret: bool, now: datetime.datetime,
                 problems: Problems) -> WebTls | None:
    """`hosts`: the web hosts the ingress serves; `key_is_secret`: whether `addons` was stored as a secret (it is
    when addons.tls.key was set with --secret); `now`: the time certificates must be valid at."""
    catalog.mapping("addons.tls", KEYS, absent=value is None)
    for name in KEYS:
        catalog.note(f"addons.tls.{name}", _KINDS[name], None if name in OPTIONAL else REQUIRED)
    if not isinstance(value, dict):
        problems.add("addons.tls", f"must be a mapping with keys {', '.join(KEYS)}")
        return None
    for unknown in sorted(set(value) - set(KEYS)):
        problems.add(f"addons.tls.{unknown}", f"unknown key (known: {', '.join(KEYS)})")
    texts = {}
    for name in KEYS:
        raw = value.get(name)
        if raw is None and name in OPTIONAL:
            continue
        if not isinstance(raw, str) or not raw.strip():
            problems.add(f"addons.tls.{name}", "is required: PEM text" + (f"; {SET_KEY_HINT}" if name == "key" else ""))
        else:
            texts[name] = raw.strip() + "\n"
    if "key" in texts and not key_is_secret:
        problems.add("addons.tls.key", f"must be a secret setting; set it again with {SET_KEY_HINT}")
        return None
    if not hosts:
        problems.add("addons.tls", "has nothing to serve: Harbor and Grafana are both off, or the ingress is")
        return None
    if set(value) - set(KEYS) or not {"certificate", "key"} <= set(texts):
        return None

    chain = _load_chain(texts["certificate"], "addons.tls.certificate", problems)
    cas = _load_chain(texts["ca"], "addons.tls.ca", problems) if "ca" in texts else []
    key = _load_key(texts["key"], problems)
    if chain is None or cas is None or key is None:
        return None

    leaf = chain[0]
    ok = True
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key is not UNDECRYPTED and key.public_key().public_bytes(serialization.Encoding.DER, public) != \
            leaf.public_key().public_bytes(serialization.Encoding.DER, public):
        problems.add("addons.tls.key", f"does not belong to the certificate for {leaf.subject.rfc4514_string()}")
        ok = False
    names = _dns_names(leaf)
    for host in hosts:
        if not any(_host_matches(name, host) for name in names):
            problems.add("addons.tls.certificate", f"does not name {host} (its DNS names: "
                                                   f"{', '.join(names) or 'none'})")
            ok = False
    for i, cert in enumerate(chain + cas):
        if cert.not_valid_after_utc <= now:
            where = "addons.tls.ca" if i >= len(chain) else "addons.tls.certificate"
            problems.add(where, f"{cert.subject.rfc4514_string()} expired on "
                                f"{cert.not_valid_after_utc.date().isoformat()}")
            ok = False
    for lower, upper in zip(chain, chain[1:]):
        if not _issued_by(lower, upper):
            problems.add("addons.tls.certificate", f"the chain is out of order: {lower.subject.rfc4514_string()} "
                                                   f"is not signed by the next certificate")
            ok = False
    if cas and not any(_issued_by(chain[-1], ca) or chain[-1] == ca for ca in cas):
        problems.add("addons.tls.ca", f"did not sign {chain[-1].subject.rfc4514_string()}, the last certificate "
                                      f"of addons.tls.certificate")
        ok = False
    if not ok:
        return None
    return WebTls(certificate=texts["certificate"], key=texts["key"], ca=texts.get("ca"))
