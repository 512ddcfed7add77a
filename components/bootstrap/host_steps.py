"""What each bootstrap phase sends to a host: the rendered script of that phase. Pure.

The bootstrap component calls these inside Pulumi outputs (with real addresses and secrets); the plan calls them
with placeholders to show reviewers what will run.
"""

from __future__ import annotations

import base64
import hashlib
import json

import yaml

from components import versions
from components.bootstrap import api_security, certificates, node_config
from components.bootstrap.join_credentials import CREDENTIALS_RECORDS
from components.bootstrap.node_config import ClusterFacts, NodeFacts
from components.host import CONTROL_PLANE
from components.remote import host_scripts
from components.settings import mirrors
from components.settings.mirrors import PackageMirror

# A control plane's apiserver may take a few minutes to pass /readyz after init on a slow machine.
READY_ATTEMPTS = 60
READY_INTERVAL_SECONDS = 5
DRAIN_TIMEOUT = "5m"
# Before a first control plane decides that no cluster answers at the endpoint (and inits one): 6 tries, 2 s apart
# (each waits up to 10 s for an answer); a new cluster waits about 10 s for it, which the bring-up benchmark counts.
CLUSTER_ANSWER_ATTEMPTS = 6
CLUSTER_ANSWER_INTERVAL_SECONDS = 2


def hosts_block(entries: list[tuple[str, str]]) -> str:
    """/etc/hosts lines for (address, name) entries, sorted by name."""
    return "\n".join(f"{address} {name}" for address, name in sorted(set(entries), key=lambda e: e[1]))


def prepare(node: NodeFacts, resolvable: list[tuple[str, str]], node_domain: str = "",
            container_host: bool = False) -> str:
    """/etc/hosts gets the node and the control planes (enough to bootstrap before DNS answers); every other node
    is found through `node_domain`, the DNS zone with one record per node, when the infrastructure has one.
    `container_host`: the host is a container (hostSystem.containers), whose clock and kernel are its machine's."""
    entries = [(node.address, node.name)] + list(resolvable)
    return host_scripts.render("prepare-host.sh", {"NODE_NAME": node.name, "HOSTS_BLOCK": hosts_block(entries),
                                                   "NODE_DOMAIN": node_domain,
                                                   "CONTAINER_HOST": "yes" if container_host else "no"})


def containerd_inputs(c: ClusterFacts) -> dict[str, str]:
    """What containerd-lib.sh needs: the pinned containerd.io, its signed repository (upstream's, whose key must have
    the pinned fingerprint, or the mirror's, with the key the settings give) and our config."""
    mirror = c.mirrors.containerd_packages
    return {"CONTAINERD_PACKAGE": versions.CONTAINERD_PACKAGE, "CONTAINERD_VERSION": versions.CONTAINERD_VERSION,
            "CONTAINERD_APT_REPOSITORY": mirror.url if mirror else versions.CONTAINERD_APT_REPOSITORY,
            "CONTAINERD_APT_KEY": mirror.signing_key.rstrip("\n") if mirror else "",
            "CONTAINERD_APT_KEY_FINGERPRINT": "" if mirror else versions.CONTAINERD_APT_KEY_FINGERPRINT,
            "LEGACY_CONTAINERD_PACKAGE": versions.LEGACY_CONTAINERD_PACKAGE,
            "CONTAINERD_CONFIG": node_config.containerd_config(c).rstrip("\n")}


def kubernetes_repository(version: str, mirror: PackageMirror | None) -> dict[str, str]:
    """kubernetes-packages-lib.sh's inputs: the repository of `version`'s minor, upstream's or the mirror's (laid out
    like it), and the mirror's signing key (upstream's is fetched from the repository)."""
    minor = versions.kubernetes_minor(version)
    base = mirror.url if mirror else versions.KUBERNETES_APT_REPOSITORY_BASE
    return {"KUBERNETES_REPOSITORY": versions.KUBERNETES_APT_REPOSITORY_LAYOUT.format(base=base, minor=minor),
            "KUBERNETES_SIGNING_KEY": mirror.signing_key.rstrip("\n") if mirror else ""}


def cri_tools_package_version(version: str) -> str:
    return f"{versions.CRI_TOOLS_VERSIONS[versions.kubernetes_minor(version)]}-{versions.KUBERNETES_PACKAGE_REVISION}"


def install(c: ClusterFacts) -> str:
    """The container runtime and the Kubernetes packages, as one phase (one command per host); the registry
    mirrors on every node, joined or not (containerd reads them at each pull)."""
    return host_scripts.render(
        ("containerd-lib.sh", "kubernetes-packages-lib.sh", "registry-mirrors.sh", "install-containerd.sh",
         "install-kubernetes.sh"),
        {
            **containerd_inputs(c),
            **kubernetes_repository(c.kubernetes_version, c.mirrors.kubernetes_packages),
            **registry_mirror_inputs(c),
            "KUBERNETES_PACKAGE_VERSION": f"{c.kubernetes_version}-{versions.KUBERNETES_PACKAGE_REVISION}",
            "CRI_TOOLS_PACKAGE_VERSION": cri_tools_package_version(c.kubernetes_version),
        },
        name="install",
    )


def registry_mirror_inputs(c: ClusterFacts) -> dict[str, str]:
    """registry-mirrors.sh's inputs: per mirrored registry a line "registry upstream-server mirror-url", and the
    CA of each mirror that has one as "registry base64-PEM" lines."""
    lines, cas = [], []
    for name, mirror in c.mirrors.registries:
        lines.append(f"{name} {mirrors.UPSTREAM_SERVERS[name]} {mirror.url}")
        if mirror.ca:
            cas.append(f"{name} {base64.b64encode(mirror.ca.encode()).decode()}")
    return {"REGISTRY_MIRRORS": "\n".join(lines), "REGISTRY_MIRROR_CAS": "\n".join(cas),
            "CERTS_DIR": node_config.CONTAINERD_CERTS_DIR}


def kubelet_patch(c: ClusterFacts, node: NodeFacts) -> str:
    """The node's kubelet patch as its init or join writes it, and as its upgrade-kubelet step keeps it: one
    rendering, so that the step finds an unchanged patch unchanged."""
    return node_config.to_yaml(node_config.kubelet_patch(c.tier, node, c.max_pods))


def _patch(c: ClusterFacts, node: NodeFacts) -> dict[str, str]:
    return {"KUBELET_PATCH": kubelet_patch(c, node).rstrip("\n"),
            "PATCH_FILE": node_config.KUBELET_PATCH_FILE}


def init(c: ClusterFacts, node: NodeFacts, token: str, join_from: str = "") -> str:
    """kubeadm init, unless a cluster already answers at the endpoint: then a replaced first control plane joins it
    with credentials from `join_from` ("" when it is the only control plane: the init stops, saying so)."""
    documents = node_config.init_documents(c, node, token)
    # With the encryption configuration's and the API server's helpers (no key: a new cluster's seals from the start).
    return host_scripts.render(("encryption-config-lib.sh", "api-server-lib.sh", "kubeadm-init.sh"), {
        "KUBEADM_CONFIG": node_config.to_yaml(documents).rstrip("\n"), "ENDPOINT": c.endpoint, "JOIN_FROM": join_from,
        "ANSWER_ATTEMPTS": CLUSTER_ANSWER_ATTEMPTS, "ANSWER_INTERVAL": CLUSTER_ANSWER_INTERVAL_SECONDS,
        "CLUSTER_SETTINGS": fixed_cluster_settings(c), **_patch(c, node),
        **_encryption_files(), "AUDIT_POLICY_FILE": api_security.AUDIT_POLICY_FILE,
        "RESTART_ATTEMPTS": certificates.RESTART_ATTEMPTS}, name="kubeadm-init")


def fixed_cluster_settings(c: ClusterFacts) -> str:
    """The settings a cluster keeps for life, as "<settings key> <ClusterConfiguration field> <value>" lines."""
    fields = (("network.podCidr", "podSubnet", c.pod_cidr), ("network.serviceCidr", "serviceSubnet", c.service_cidr),
              ("clusterName", "clusterName", c.cluster_name),
              ("the API endpoint (the load balancer)", "controlPlaneEndpoint", c.endpoint))
    return "\n".join(f"{key.replace(' ', '_')} {field} {value}" for key, field, value in fields)


def credentials_step_name(node_name: str) -> str:
    """The name of the step that makes `node_name`'s join credentials (a join names it when they expired)."""
    return f"{node_name}-credentials"


def credentials(c: ClusterFacts, node: NodeFacts, request: str = "") -> str:
    """Run on a control plane for `node`: a fresh token and the CA hash, and for a control plane a fresh certificate
    key under which the certificates are uploaded; first, the Node of a machine `node` replaces leaves. The script
    carries no secret; its output does. `request`: why fresh credentials are made (join_credentials.request)."""
    upload = node_config.to_yaml(node_config.upload_certs_configuration(c)).rstrip("\n") \
        if node.role == CONTROL_PLANE else ""
    # With the encryption configuration's helpers: a control plane is told the key the cluster seals under.
    return host_scripts.render(("encryption-config-lib.sh", "join-credentials.sh"), {
        **_encryption_files(), "NODE_NAME": node.name, "NODE_ADDRESS": node.address, "NODE_IDENTITY": node.identity,
        "NODE_FRESH": "yes" if node.fresh else "no", "ROLE": node.role,
        "DRAIN_TIMEOUT": DRAIN_TIMEOUT, "TOKEN_TTL_SECONDS": node_config.JOIN_TOKEN_TTL_SECONDS,
        "UPLOAD_CERTS_CONFIG": upload, "REQUEST": request, "CREDENTIALS_RECORDS": CREDENTIALS_RECORDS},
        name="join-credentials")


# What a join gets when the control plane that makes credentials is not a member (it is being replaced itself): a
# node in the cluster already needs none; any other stops at its join with the reason.
_NO_CREDENTIALS = ("unavailable.0000000000000000", "sha256:" + "0" * 64, "0" * 64)


def _credentials_record(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def parse_credentials(stdout: str) -> tuple[str, str, str | None]:
    """(token, CA hash, certificate key or None) from what join-credentials.sh printed."""
    data = _credentials_record(stdout)
    if "unavailable" in data:
        return _NO_CREDENTIALS
    return data["token"], data["caCertHash"], data.get("certificateKey")


def join(c: ClusterFacts, node: NodeFacts, credentials_stdout: str) -> str:
    record = _credentials_record(credentials_stdout)
    token, ca_hash, certificate_key = parse_credentials(credentials_stdout)
    if node.role == CONTROL_PLANE and not certificate_key:
        raise ValueError(f"the join credentials of control plane {node.name} carry no certificate key")
    document = node_config.join_configuration(c, node, token, ca_hash,
                                              certificate_key if node.role == CONTROL_PLANE else None)
    # A control plane joining a cluster that seals under the key it holds seals from its API server's first start.
    seals_with = str(record.get("sealsWith", "")) if node.role == CONTROL_PLANE else ""
    return host_scripts.render(("encryption-config-lib.sh", "api-server-lib.sh", "kubeadm-join.sh"), {
        "KUBEADM_CONFIG": node_config.to_yaml(document).rstrip("\n"), "NODE_NAME": node.name,
        "NODE_IDENTITY": node.identity, "JOIN_EXPIRES": int(record.get("expires", 0)),
        "CREDENTIALS_STEP": credentials_step_name(node.name), "CREDENTIALS_PROBLEM": record.get("unavailable", ""),
        "SEALS_WITH": seals_with, **_patch(c, node), **_encryption_files(),
        "AUDIT_POLICY_FILE": api_security.AUDIT_POLICY_FILE, "RESTART_ATTEMPTS": certificates.RESTART_ATTEMPTS},
        name="kubeadm-join")


def node_labels(node_name: str, labels: tuple[tuple[str, str], ...], taints: tuple, identity: str = "") -> str:
    """On a control plane: the node's labels and taints from the settings, through the API (node-labels.sh); run
    again on a new machine (`identity`), whose Node has none of them."""
    taint_lines = [f"{t.key}={t.value}:{t.effect}" if t.value else f"{t.key}:{t.effect}" for t in taints]
    return host_scripts.render("node-labels.sh", {"NODE_NAME": node_name, "NODE_IDENTITY": identity,
                                                   "LABELS": "\n".join(f"{k}={v}" for k, v in labels),
                                                   "TAINTS": "\n".join(taint_lines)})


def member(node_name: str, action: str) -> str:
    """On the first control plane: marks `node_name` kept (action "add") or not (action "remove")."""
    if action not in ("add", "remove"):
        raise ValueError(f"unknown member action {action!r}")
    return host_scripts.render("member.sh", {"NODE_NAME": node_name, "ACTION": action})


def leave_cluster(node: NodeFacts) -> str:
    """On the first control plane when `node` leaves the settings: drain, etcd member, Node."""
    return host_scripts.render("leave-cluster.sh", {"NODE_NAME": node.name, "ROLE": node.role,
                                                     "DRAIN_TIMEOUT": DRAIN_TIMEOUT})


# The encryption key's input name in the scripts that carry it (encryption-lib.sh); secret.
# The keys file and the EncryptionConfiguration made from it (encryption-config-lib.sh), then what needs the key.
ENCRYPTION_LIBS = ("encryption-config-lib.sh", "encryption-lib.sh")


def _encryption_files() -> dict[str, str]:
    return {"ENCRYPTION_KEYS_FILE": api_security.ENCRYPTION_KEYS_FILE,
            "ENCRYPTION_CONFIG_FILE": api_security.ENCRYPTION_CONFIG_FILE}


def _key(encryption_key: str) -> dict[str, str]:
    return {"ENCRYPTION_KEY": encryption_key, **_encryption_files()}


def _api_server(encryption_key: str) -> dict[str, object]:
    """The inputs every API server step shares (encryption-lib.sh, api-server-lib.sh)."""
    return {**_key(encryption_key), "AUDIT_POLICY_FILE": api_security.AUDIT_POLICY_FILE,
            "RESTART_ATTEMPTS": certificates.RESTART_ATTEMPTS, "ENCRYPTION_FLAG": api_security.encryption_flag()}


def _audit_policy() -> str:
    return node_config.to_yaml(api_security.audit_policy()).rstrip("\n")


def encryption_key() -> str:
    """On the first control plane: prints a new encryption key, or the one its hosts write with when the stack did
    not make it (encryption-key.sh)."""
    return host_scripts.render("encryption-key.sh", {
        "ENCRYPTION_KEYS_FILE": api_security.ENCRYPTION_KEYS_FILE,
        "ENCRYPTION_STACK_MARKER": api_security.ENCRYPTION_STACK_MARKER,
        "KEY_BYTES": api_security.ENCRYPTION_KEY_BYTES})


def api_server_files(encryption_key: str) -> str:
    """On a control plane before its init or join: the audit policy and the encryption key (api-server-files.sh)."""
    return host_scripts.render((*ENCRYPTION_LIBS, "api-server-lib.sh", "api-server-files.sh"), {
        **_api_server(encryption_key), "AUDIT_POLICY": _audit_policy(), "AUDIT_LOG_DIR": api_security.AUDIT_LOG_DIR,
        "ENCRYPTION_STACK_MARKER": api_security.ENCRYPTION_STACK_MARKER}, name="api-server-files")


def api_server_config(c: ClusterFacts, node: NodeFacts, encryption_key: str) -> str:
    """On each control plane in turn: kube-apiserver runs with our flags and policy and reads Secrets sealed under
    the key (api-server-config.sh)."""
    documents = node_config.api_server_documents(c, node)
    # sha256sum of the file the files step writes (write_file ends it with a newline).
    policy_digest = hashlib.sha256((_audit_policy() + "\n").encode()).hexdigest()
    return host_scripts.render(("certificates-lib.sh", *ENCRYPTION_LIBS, "api-server-lib.sh",
                                "api-server-config.sh"), {
        **_api_server(encryption_key), "KUBEADM_CONFIG": node_config.to_yaml(documents).rstrip("\n"),
        "MANIFEST_FLAGS": api_security.manifest_flags(), "AUDIT_POLICY_SHA256": policy_digest},
        name="api-server-config")


def api_server_encryption(encryption_key: str) -> str:
    """On each control plane in turn, once every one reads the key: the key writes (api-server-encryption.sh)."""
    return host_scripts.render(("certificates-lib.sh", *ENCRYPTION_LIBS, "api-server-lib.sh",
                                "api-server-encryption.sh"), _api_server(encryption_key), name="api-server-encryption")


SECRETS_REWRITE_ATTEMPTS = 3


def secrets_rewrite(encryption_key: str, control_planes: tuple[str, ...]) -> str:
    """Once every API server writes with the key: every Secret written again under it (secrets-rewrite.sh).
    `control_planes` are part of the script so that it runs again when one joins: a new control plane's API server
    writes with the key only from its own encryption step on, and a Secret written through it before that would
    otherwise stay in clear (pulumi-command runs nothing whose inputs did not change)."""
    return host_scripts.render((*ENCRYPTION_LIBS, "secrets-rewrite.sh"), {
        **_key(encryption_key), "ATTEMPTS": SECRETS_REWRITE_ATTEMPTS,
        "CONTROL_PLANES": " ".join(control_planes)}, name="secrets-rewrite")


ETCD_RESTORE_PATH = "/usr/local/sbin/k8s-platform-etcd-restore"


def etcd_restore_tool() -> str:
    """On every control plane: installs etcd-restore.sh (run by hand, in three phases, to restore etcd)."""
    program = (host_scripts.SCRIPTS_DIR / "etcd-restore.sh").read_text()
    return host_scripts.render("install-etcd-restore.sh", {
        "PROGRAM_BASE64": base64.b64encode(program.encode()).decode(), "PROGRAM_PATH": ETCD_RESTORE_PATH})


def reset_node(node_name: str, endpoint: str) -> str:
    """On the node when it has left: kubeadm reset, unless the cluster still has its Node."""
    return host_scripts.render(("timer-lib.sh", "reset-node.sh"), {
        "NODE_NAME": node_name, "ENDPOINT": endpoint,
        "API_SERVER_FILES": "\n".join((api_security.ENCRYPTION_DIR, api_security.AUDIT_DIR,
                                      api_security.AUDIT_LOG_DIR, *api_security.AUDIT_TAIL_DB_FILES)),
    }, name="reset-node")


def read_kubeconfig(admin_conf_expires: str = "unknown") -> str:
    """`admin_conf_expires`: when the control plane's admin.conf expires, as its certificate read last saw it (a
    new date, after a renewal, reads it again)."""
    return host_scripts.render("read-admin-kubeconfig.sh", {"ADMIN_CONF_EXPIRES": admin_conf_expires})


def wait_ready(endpoint: str) -> str:
    return host_scripts.render("wait-api-ready.sh", {"ENDPOINT": endpoint, "ATTEMPTS": READY_ATTEMPTS,
                                                     "INTERVAL_SECONDS": READY_INTERVAL_SECONDS})


def kubeconfig_for_endpoint(admin_conf: str, endpoint: str) -> str:
    """admin.conf with every cluster's server set to the load-balanced endpoint. Anything but a kubeconfig (a
    truncated read, a host that printed something else) stops the update here, saying so, instead of handing
    the add-ons a kubeconfig that cannot work."""
    try:
        document = yaml.safe_load(admin_conf)
    except yaml.YAMLError as error:
        raise ValueError(f"the admin kubeconfig read from the first control plane is not YAML: {error}") from None
    if not isinstance(document, dict) or document.get("kind") != "Config" or not isinstance(
            document.get("clusters"), list):
        raise ValueError("the admin kubeconfig read from the first control plane (/etc/kubernetes/admin.conf) is not a "
                         "kubeconfig (kind: Config with clusters)")
    for cluster in document["clusters"]:
        cluster["cluster"]["server"] = f"https://{endpoint}"
    return yaml.safe_dump(document, sort_keys=False)
