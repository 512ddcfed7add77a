"""The serving certificates of the web hosts and every node's trust in the registry (see addons/harbor/values.py): by
default a CA of the cluster's own, made on the first control plane, signs them; with `addons.tls` the user's
certificate serves them instead (web_tls.py) and the nodes trust its CA, or only their system store."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi

from components.addons.harbor import values as harbor
from components.host import CONTROL_PLANE, Host
from components.remote.runner import HostRunner
from components.settings import Settings


@dataclass(frozen=True)
class WebCertificatesArgs:
    settings: Settings
    nodes: list[Host]
    ssh_private_key: pulumi.Input[str]
    web_hosts: list[str]
    registry_host: str | None  # every node trusts the CA for it
    after: list  # API readiness
    # What the first control plane's certificate read found due among the web hosts: a new request issues again.
    renewal_request: pulumi.Input[str] = "nothing due"


class WebCertificates(pulumi.ComponentResource):
    certificates: pulumi.Output[dict]  # secret: {"ca", "hosts": {host: {"cert", "key"}}}, base64 PEM

    def __init__(self, name: str, args: WebCertificatesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:addons:WebCertificates", name, None, opts)
        run = HostRunner(self, args.ssh_private_key).run
        own = args.settings.addons.tls
        if own is not None:
            # Nothing to make: the user's certificate and key (a secret from here on) serve every web host.
            self.certificates = pulumi.Output.secret(own.certificates(args.web_hosts))
            ca_pem = pulumi.Output.from_input(own.ca or "")
            after = list(args.after)
        else:
            first = next(h for h in args.nodes if h.role == CONTROL_PLANE)
            script = pulumi.Output.from_input(args.renewal_request).apply(
                lambda request: harbor.ca_script(args.settings.cluster_name, args.web_hosts, request))
            issued = run(f"{name}-ca", first, script, list(args.after), secret=True)
            self.certificates = pulumi.Output.secret(issued.stdout).apply(harbor.parse_certificates)
            # The CA certificate is public; it is unwrapped from the secret output it travels in.
            ca_pem = pulumi.Output.unsecret(self.certificates.apply(lambda c: base64.b64decode(c["ca"]).decode()))
            after = [issued]
        if args.registry_host:
            for host in args.nodes:
                script = ca_pem.apply(lambda pem: harbor.trust_script(
                    args.registry_host, pem, args.settings.addons.harbor_proxy_cache))
                run(f"{host.name}-registry-trust", host, script, [*host.ready_after, *after])
        self.register_outputs({})
