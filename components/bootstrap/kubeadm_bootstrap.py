"""Bootstraps Kubernetes on a list of hosts over SSH: one remote command per host per phase.

    prepare -> install (containerd + kubeadm/kubelet/kubectl) -> init (first control plane)
                                                               -> credentials -> join (every host)
Control planes join one after another; workers join in parallel, each depending only on the init, on its own
hosts' phases and on the control planes' upgrade steps (upgrade.py: a new kubelet never joins an API server
older than itself), so the chain to "API ready" is as long for 3 workers as for 300. The upgrade steps follow the
bootstrap; on a new cluster, or once a version change is done, they do nothing. Every join fetches fresh
credentials from a control plane of the cluster right before it runs (the first that answers this run's read; for
the first itself the second that does: lifecycle_choice.py), so a node added months later still joins, and a lost
control plane stops no join and no removal; for a control plane they include a certificate key made for that join
alone (init uploads no certificates). The first control plane's own join does nothing on the cluster its init
made; when its machine is replaced or re-imaged, the init finds the cluster answering and that join makes the new
machine a member. A replaced or re-imaged machine of any node is noticed by its identity (Host.identity): its
credentials step takes the old machine's Node (and etcd member) out before the new one joins.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

import pulumi
import pulumi_random as random
from pulumi_command import remote

from components.bootstrap import api_security_steps, certificates, host_steps, join_credentials, node_config
from components.bootstrap.certificate_renewal import CertificateRenewal, admin_expiry, expiry_output, read_certificates
from components.bootstrap.lifecycle_hosts import LifecycleHosts
from components.bootstrap.preflight import identity as preflight_report
from components.bootstrap.upgrade import Upgrade
from components.bootstrap.node_config import ClusterFacts, NodeFacts
from components.host import CONTROL_PLANE, ApiEndpoint, Host
from components.remote.runner import LEAVING_DIAL_ERROR_LIMIT, HostRunner
from components.settings import Settings

# Placeholders the reviewable copies of scripts carry where the hosts get secrets.
PLACEHOLDER_TOKEN = "secret.placeholder00000"
PLACEHOLDER_CERTIFICATE_KEY = "0" * 64
_PLACEHOLDER_JOIN = {"token": PLACEHOLDER_TOKEN, "caCertHash": "sha256:" + "0" * 64, "expires": 0}
PLACEHOLDER_CREDENTIALS = json.dumps(_PLACEHOLDER_JOIN)
PLACEHOLDER_CONTROL_PLANE_CREDENTIALS = json.dumps({**_PLACEHOLDER_JOIN, "certificateKey": PLACEHOLDER_CERTIFICATE_KEY})


@dataclass(frozen=True)
class KubeadmBootstrapArgs:
    settings: Settings
    hosts: list[Host]
    endpoint: ApiEndpoint
    ssh_private_key: pulumi.Input[str]  # a secret
    node_domain: str = ""  # a DNS zone with a record per node, searched by every host ("" when there is none)


def _node_facts(host: Host, region: str | None, address: str, identity: str, capacity,
                preflight: str | None) -> NodeFacts:
    fresh = bool(preflight) and preflight_report(preflight).get("member") == "no"
    labels = (*node_config.topology_labels(host.zone, region), *host.labels)
    return NodeFacts(name=host.name, address=address, role=host.role, capacity=capacity or host.capacity,
                     labels=labels, taints=host.taints, identity=identity, fresh=fresh)


class KubeadmBootstrap(pulumi.ComponentResource):
    kubeconfig: pulumi.Output[str]
    api_ready: remote.Command
    # The last control plane's upgrade steps: after them every control plane runs the stack's version (what reads the
    # cluster's images, such as the etcd backups', comes after them).
    control_planes_upgraded: remote.Command
    certificates: pulumi.Output[dict]  # by control plane: when its certificates expire
    web_certificate_request: pulumi.Output[str]  # what the web CA step is asked (certificates.web_request)
    artifacts: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: KubeadmBootstrapArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:bootstrap:Kubeadm", name, None, opts)
        s = args.settings
        control_planes = [h for h in args.hosts if h.role == CONTROL_PLANE]
        if not control_planes:
            raise ValueError("bootstrap needs at least one control-plane host")
        first, *other_control_planes = control_planes
        workers = [h for h in args.hosts if h.role != CONTROL_PLANE]
        endpoint = pulumi.Output.concat(args.endpoint.host, ":", str(args.endpoint.port))
        self.artifacts = {}
        # The program's one clock read: the reads' dates are compared with it; no resource input carries it.
        now = datetime.datetime.now(datetime.timezone.utc)

        child = pulumi.ResourceOptions(parent=self)
        token_id = random.RandomString(f"{name}-token-id", length=6, special=False, upper=False, opts=child)
        token_secret = random.RandomPassword(f"{name}-token-secret", length=16, special=False, upper=False,
                                             opts=child)
        token = pulumi.Output.secret(pulumi.Output.concat(token_id.result, ".", token_secret.result))

        cp_addresses = [pulumi.Output.from_input(h.private_address) for h in control_planes]
        cluster = pulumi.Output.all(args.endpoint.host, endpoint, *cp_addresses).apply(
            lambda v: ClusterFacts(
                cluster_name=s.cluster_name, tier=s.tier, kubernetes_version=s.kubernetes_version, endpoint=v[1],
                cert_sans=tuple([v[0], *v[2:]]), pod_cidr=s.network.pod_cidr, service_cidr=s.network.service_cidr,
                node_cidr_mask_size=s.network.node_cidr_mask_size, max_pods=s.max_pods_per_node,
                image_repository=s.image_repository, host_system=s.host_system, mirrors=s.mirrors,
                monitoring=s.addons.monitoring))
        resolvable = pulumi.Output.all(*cp_addresses).apply(
            lambda addresses: [(a, h.name) for a, h in zip(addresses, control_planes)])
        facts = {h.name: pulumi.Output.all(h.private_address, h.identity, h.machine_capacity, h.preflight).apply(
            lambda v, h=h: _node_facts(h, s.region, *v)) for h in args.hosts}

        runner = HostRunner(self, args.ssh_private_key)
        run = runner.run

        # The same on every host: rendered once.
        install_script = cluster.apply(host_steps.install)
        api = api_security_steps.ApiServerSecurity(name, self, runner, maker=first)
        api_files_reviewable = api_security_steps.reviewable_files()
        api_encryption_reviewable = pulumi.Output.from_input(api_security_steps.reviewable_encryption())
        self._artifact(first, "encryption-key.sh", pulumi.Output.from_input(host_steps.encryption_key()))
        etcd_restore_tool = host_steps.etcd_restore_tool()
        containerd_config = cluster.apply(node_config.containerd_config)
        installed: dict[str, remote.Command] = {}
        kubelet_patches = {h.name: pulumi.Output.all(cluster, facts[h.name]).apply(
            lambda v: host_steps.kubelet_patch(*v)) for h in args.hosts}
        for host in args.hosts:
            node = facts[host.name]
            prepare_script = pulumi.Output.all(node, resolvable).apply(
                lambda v: host_steps.prepare(v[0], v[1], args.node_domain, s.host_system.containers))
            prepared = run(f"{host.name}-prepare", host, prepare_script, list(host.ready_after))
            installed[host.name] = run(f"{host.name}-install", host, install_script, [prepared])
            if host.role == CONTROL_PLANE:  # the restore program, there before it is needed
                run(f"{host.name}-etcd-restore-tool", host, etcd_restore_tool, [prepared])
                api.files_step(host, [installed[host.name]])
                self._artifact(host, "api-server-files.sh", pulumi.Output.from_input(api_files_reviewable))
                self._artifact(host, "api-server-config.sh", pulumi.Output.all(cluster, node).apply(
                    lambda v: api_security_steps.reviewable_config(*v)))
                self._artifact(host, "api-server-encryption.sh", api_encryption_reviewable)
            self._artifact(host, "prepare.sh", prepare_script)
            self._artifact(host, "install.sh", install_script)
            self._artifact(host, "containerd-config.toml", containerd_config)
            self._artifact(host, "kubelet-patch.yaml", kubelet_patches[host.name])

        # Where each node's credentials, member mark, labels and removal run: the first control plane that answered
        # this run's certificate read (for the first control plane, the second that did).
        certificate_reads = {h.name: read_certificates(h, args.ssh_private_key, self) for h in control_planes}
        lifecycle_hosts = LifecycleHosts(control_planes, certificate_reads, args.ssh_private_key, self)
        second = other_control_planes[0] if other_control_planes else None
        init_script = pulumi.Output.all(cluster, facts[first.name], token).apply(
            lambda v: host_steps.init(*v, join_from=second.name if second else ""))
        init = run(f"{first.name}-init", first, init_script,
                   [installed[first.name], api.files[first.name], *args.endpoint.depends_on], secret=True)
        self._artifact(first, "kubeadm-init.sh", pulumi.Output.all(cluster, facts[first.name]).apply(
            lambda v: host_steps.init(v[0], v[1], PLACEHOLDER_TOKEN)))
        self._artifact(first, "kubeadm-init.yaml", pulumi.Output.all(cluster, facts[first.name]).apply(
            lambda v: node_config.to_yaml(node_config.init_documents(v[0], v[1], PLACEHOLDER_TOKEN))))

        def join(host: Host, *after: remote.Command) -> remote.Command:
            is_control_plane = host.role == CONTROL_PLANE
            # Where the node's credentials are made and its removal runs: a control plane of the cluster that is not
            # this node and answered (the only control plane: itself).
            lifecycle = lifecycle_hosts.host_for(host.name)
            # Carries no secret: the host makes the token (and a control plane's certificate key) and prints them.
            credentials_script = pulumi.Output.all(cluster, facts[host.name],
                                                   lifecycle_hosts.credential_records(host.name)).apply(
                lambda v: host_steps.credentials(v[0], v[1], join_credentials.request(v[2], host.name, now)))
            credentials = run(host_steps.credentials_step_name(host.name), lifecycle, credentials_script, list(after),
                              secret=True)
            join_script = pulumi.Output.all(cluster, facts[host.name], pulumi.Output.secret(credentials.stdout)).apply(
                lambda v: host_steps.join(*v))
            placeholder = PLACEHOLDER_CONTROL_PLANE_CREDENTIALS if is_control_plane else PLACEHOLDER_CREDENTIALS
            self._artifact(host, "kubeadm-join.sh", pulumi.Output.all(cluster, facts[host.name]).apply(
                lambda v: host_steps.join(v[0], v[1], placeholder)))
            self._artifact(host, "kubeadm-join.yaml", pulumi.Output.all(cluster, facts[host.name]).apply(
                lambda v: node_config.to_yaml(node_config.join_configuration(
                    v[0], v[1], *host_steps.parse_credentials(placeholder)))))
            joined = run(f"{host.name}-join", host, join_script,
                         [installed[host.name], credentials, api.files.get(host.name)], secret=True)
            labelled.append((host, lifecycle, joined))
            # A node leaving the settings: Pulumi deletes in reverse dependency order, so the leave step (drain,
            # etcd member, Node; on the lifecycle control plane) runs first, then the reset of the host, then the join
            # and the machine (the join depends on it through its address). Each runs only for a node the settings
            # no longer hold: a replaced step (`--replace` too) removes and resets nothing.
            reset = runner.on_delete(f"{host.name}-reset", host,
                                     endpoint.apply(lambda e: host_steps.reset_node(host.name, e)), [joined],
                                     dial_error_limit=LEAVING_DIAL_ERROR_LIMIT)
            leave = runner.on_delete(f"{host.name}-leave", lifecycle,
                                     facts[host.name].apply(host_steps.leave_cluster), [reset])
            # Deleted before the leave step (it depends on it): the node loses its mark first. Replaced delete-first,
            # so a `--replace` of it leaves the mark in place.
            run(f"{host.name}-member", lifecycle, host_steps.member(host.name, "add"), [leave],
                delete=host_steps.member(host.name, "remove"), delete_before_replace=True)
            return joined

        labelled: list[tuple[Host, Host, remote.Command]] = []
        previous = init
        first_member = [init]  # what makes the first control plane a member: its init, or its join when replaced
        # The first control plane has the same steps as every node whatever the count, so that no change of the
        # count ever deletes them (their deletion would take it out of the cluster). They come right after the
        # second's join: on a new cluster a no-op (its init made it a member); a replaced first control plane
        # joins there, with credentials from the second, before anything else runs on it.
        if second is None:
            previous = join(first, previous)
            first_member.append(previous)
        for host in other_control_planes:  # one after another: etcd grows by one member at a time
            previous = join(host, previous)
            if host is second:
                previous = join(first, previous)
                first_member.append(previous)
        last_control_plane = previous
        self.api_ready = run(f"{name}-api-ready", first, endpoint.apply(host_steps.wait_ready),
                             [init, last_control_plane])

        upgrade = Upgrade(s.kubernetes_version, first, args.ssh_private_key, self, cluster, kubelet_patches,
                          drain_from=lambda node: lifecycle_hosts.host_for(node, itself=True),
                          packages=s.mirrors.kubernetes_packages,
                          ignored_preflight_errors=s.host_system.ignored_preflight_errors)
        _, control_planes_upgraded = upgrade.control_planes(name, other_control_planes, [self.api_ready])
        self.control_planes_upgraded = control_planes_upgraded
        # After the upgrades (which write the API servers' manifests from kubeadm-config too), one at a time.
        api.config_steps(control_planes, cluster, facts, [self.api_ready, control_planes_upgraded],
                         rewrite_on=lifecycle_hosts.host_for(first.name, itself=True))
        renewal = CertificateRenewal(s.certificates, args.ssh_private_key, self, now, certificate_reads)
        reports, renewed = renewal.steps(control_planes, [control_planes_upgraded])
        renew_program = pulumi.Output.from_input(certificates.renew_program(s.certificates))
        for host in control_planes:  # what the step installs and its timer runs, for reviewers
            self._artifact(host, "certificates-renew.sh", renew_program)
        self.certificates = expiry_output(reports)
        # The web certificates are the web CA step's to renew, never the renewal's: the read alone tells what is due
        # (the step's report would make every renewal a possible change of the web CA step and what follows it).
        self.web_certificate_request = renewal.reads[first.name].apply(lambda r: certificates.web_request(r, now))
        # admin.conf is renewed with the first control plane's certificates: read again when its expiry moves.
        read_kubeconfig = run(f"{name}-kubeconfig", first, reports[first.name].apply(
            lambda r: host_steps.read_kubeconfig(admin_expiry(r))), [*first_member, *renewed], secret=True)
        self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(read_kubeconfig.stdout, endpoint).apply(
            lambda v: host_steps.kubeconfig_for_endpoint(v[0], v[1])))
        # In parallel, each after the init and the control planes' upgrade steps: a new kubelet is never newer
        # than any API server.
        joined = {host.name: join(host, init, control_planes_upgraded) for host in workers}
        # Labels and taints through the API, so that a change reaches a node that joined long ago; after the first
        # control plane is a member (a replaced one too), and again on a new machine (its identity).
        for host, lifecycle, node_joined in labelled:
            script = facts[host.name].apply(lambda n: host_steps.node_labels(n.name, n.labels, n.taints, n.identity))
            run(f"{host.name}-labels", lifecycle, script, [node_joined, first_member[-1]])
        upgrade.workers(workers, joined, s.upgrade.max_unavailable_workers, control_planes_upgraded)
        self.register_outputs({"kubeconfig": self.kubeconfig, "certificates": self.certificates})

    def _artifact(self, host: Host, file_name: str, content: pulumi.Output[str]) -> None:
        self.artifacts[f"hosts/{host.name}/{file_name}"] = content

