"""The bare-metal API load balancer: haproxy and keepalived on the hosts that hold the virtual IP.

One `<host>-load-balancer` command per holder, after that host's preflight. The endpoint it returns (the VIP and
haproxy's port) depends on all of them, so `kubeadm init` runs only once the VIP can be served.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random

from components.baremetal import keepalived_config, vip_configs
from components.host import ApiEndpoint, Host
from components.remote.runner import HostRunner
from components.settings import Settings


@dataclass(frozen=True)
class VipLoadBalancerArgs:
    settings: Settings
    holders: list[Host]  # the hosts that run haproxy and keepalived, in priority order
    ssh_private_key: pulumi.Input[str]  # a secret


class VipLoadBalancer(pulumi.ComponentResource):
    endpoint: ApiEndpoint
    artifacts: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: VipLoadBalancerArgs, opts: pulumi.ResourceOptions | None = None):
        s = args.settings
        # What the policy pack checks: the VIP is held by enough hosts and balances every control plane.
        facts = {"tier": s.tier, "vip": s.load_balancer.vip, "port": s.load_balancer.port,
                 "holders": [h.name for h in args.holders],
                 "backends": [b.name for b in vip_configs.backends(s)]}
        super().__init__("k8s-platform:bare-metal:VipLoadBalancer", name, facts, opts)
        run = HostRunner(self, args.ssh_private_key).run
        auth = random.RandomPassword(f"{name}-vrrp-auth", length=keepalived_config.AUTH_PASS_LENGTH, special=False,
                                     opts=pulumi.ResourceOptions(parent=self))
        haproxy_cfg = vip_configs.haproxy(s)
        self.artifacts, installed = {}, []
        for host in args.holders:
            keepalived_conf = pulumi.Output.secret(auth.result).apply(
                lambda secret, h=host.name: vip_configs.keepalived(s, h, secret))
            script = keepalived_conf.apply(lambda conf: vip_configs.install_script(haproxy_cfg, conf))
            installed.append(run(f"{host.name}-load-balancer", host, script, list(host.ready_after), secret=True))
            self.artifacts[f"hosts/{host.name}/haproxy.cfg"] = pulumi.Output.from_input(haproxy_cfg)
            self.artifacts[f"hosts/{host.name}/keepalived.conf"] = pulumi.Output.from_input(
                vip_configs.keepalived(s, host.name, vip_configs.PLACEHOLDER_AUTH_PASS))
        self.endpoint = ApiEndpoint(host=s.load_balancer.vip, port=s.load_balancer.port,
                                    depends_on=tuple(installed))
        self.register_outputs(facts)
