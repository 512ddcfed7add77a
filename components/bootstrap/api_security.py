"""The API server's audit log and the encryption of Secrets at rest: the files on every control plane, the flags
and mounts of kube-apiserver in the ClusterConfiguration, as Python data. Pure.

Audit: our policy (audit_policy) logs who did what to which object, never a Secret's or a token's content; the API
server writes JSON lines to AUDIT_LOG_FILE and rotates them itself (AUDIT_LOG_ROTATION); Fluent Bit ships them to
Loki (addons/logging/values.py). Encryption: Secrets are written to etcd sealed with secretbox (XSalsa20-Poly1305,
the strongest provider that needs no KMS) under a 32-byte key made on the first control plane and kept as a Pulumi
secret (api_security_steps.py); `identity` comes last so that Secrets written before encryption was on stay
readable until they are rewritten. The host keeps its keys in
ENCRYPTION_KEYS_FILE (newest first is the one that writes) and makes the configuration from it
(encryption-lib.sh), so a rotated key never makes older Secrets unreadable (docs/encryption.md, "Rotate the encryption key").
"""

from __future__ import annotations

AUDIT_DIR = "/etc/kubernetes/audit"
AUDIT_POLICY_FILE = f"{AUDIT_DIR}/policy.yaml"
AUDIT_LOG_DIR = "/var/log/kubernetes/audit"
AUDIT_LOG_FILE = f"{AUDIT_LOG_DIR}/audit.log"
# Rotated by the API server: files of 100 MB, 10 kept, none older than 14 days: at most 1.1 GB on a control plane,
# which Loki keeps for the tier's retention once Fluent Bit has read them.
AUDIT_LOG_ROTATION = {"maxsize": 100, "maxbackup": 10, "maxage": 14}
ENCRYPTION_DIR = "/etc/kubernetes/encryption"
ENCRYPTION_CONFIG_FILE = f"{ENCRYPTION_DIR}/config.yaml"
ENCRYPTION_KEYS_FILE = f"{ENCRYPTION_DIR}/keys"
ENCRYPTION_KEY_BYTES = 32  # secretbox takes exactly 32 bytes
# On a control plane whose keys came from the stack (api-server-files.sh); a host with keys and without it has keys
# the stack did not make, which the key step adopts (encryption-key.sh).
ENCRYPTION_STACK_MARKER = f"{ENCRYPTION_DIR}/keys-from-stack"
ENCRYPTED_RESOURCES = ("secrets",)

_READS = ["get", "list", "watch"]
# Namespaces of the cluster's own components whose ServiceAccounts renew leases (leader election).
SYSTEM_NAMESPACES = ("kube-system", "tigera-operator", "calico-system")
_LEASE_RENEWALS = ["get", "update", "patch"]
# Fluent Bit's place in the audit log, on the host's /var/log (the chart mounts it writable; it is there on every
# node, so Fluent Bit starts on workers too), with SQLite's journal files; a node's reset removes them.
AUDIT_TAIL_DB = "/var/log/k8s-platform-fluent-bit-audit.db"
AUDIT_TAIL_DB_FILES = (AUDIT_TAIL_DB, f"{AUDIT_TAIL_DB}-wal", f"{AUDIT_TAIL_DB}-shm")


def audit_policy() -> dict:
    """First matching rule wins. Health probes, the kubelets' and controllers' constant reads and events are left
    out (they are most of the volume and say nothing about who changed what); Secrets, ConfigMaps and token requests
    at Metadata only (their bodies carry credentials); other writes with their request body; other reads at
    Metadata."""
    return {
        "apiVersion": "audit.k8s.io/v1",
        "kind": "Policy",
        # RequestReceived repeats what ResponseComplete says a moment later.
        "omitStages": ["RequestReceived"],
        "rules": [
            {"level": "None", "nonResourceURLs": ["/healthz*", "/livez*", "/readyz*", "/version", "/metrics"]},
            {"level": "None", "users": ["system:kube-proxy"], "verbs": ["watch"],
             "resources": [{"group": "", "resources": ["endpoints", "services", "services/status"]},
                           {"group": "discovery.k8s.io", "resources": ["endpointslices"]}]},
            {"level": "None", "userGroups": ["system:nodes"], "verbs": ["get"],
             "resources": [{"group": "", "resources": ["nodes", "nodes/status"]}]},
            # Lease renewals by the cluster's own identities: every kubelet's about every 10 s, the API servers', the
            # control plane's and every controller's leader election. A person's change to a lease is logged.
            {"level": "None", "users": ["system:apiserver", "system:kube-controller-manager", "system:kube-scheduler"],
             "verbs": _LEASE_RENEWALS, "resources": [{"group": "coordination.k8s.io", "resources": ["leases"]}]},
            # The kubelets' and the service accounts of the cluster's own components: kube-system's, and Calico's
            # (its operator and its typha and controllers elect leaders). Not every ServiceAccount's: the group
            # system:serviceaccounts would hide the lease writes of every workload.
            {"level": "None", "userGroups": ["system:nodes", *(f"system:serviceaccounts:{namespace}"
                                                               for namespace in SYSTEM_NAMESPACES)],
             "verbs": _LEASE_RENEWALS, "resources": [{"group": "coordination.k8s.io", "resources": ["leases"]}]},
            {"level": "None", "resources": [{"group": "", "resources": ["events"]},
                                            {"group": "events.k8s.io", "resources": ["events"]}]},
            {"level": "Metadata", "resources": [
                {"group": "", "resources": ["secrets", "configmaps", "serviceaccounts/token"]},
                {"group": "authentication.k8s.io", "resources": ["tokenreviews"]},
                {"group": "certificates.k8s.io", "resources": ["certificatesigningrequests"]}]},
            {"level": "Metadata", "verbs": _READS},
            {"level": "Request"},
        ],
    }


def api_server_args() -> dict[str, str]:
    """kube-apiserver flags (name without dashes -> value) for the audit log and the encryption at rest."""
    return {
        "audit-policy-file": AUDIT_POLICY_FILE,
        "audit-log-path": AUDIT_LOG_FILE,
        "audit-log-format": "json",
        **{f"audit-log-{name}": str(value) for name, value in AUDIT_LOG_ROTATION.items()},
        "encryption-provider-config": ENCRYPTION_CONFIG_FILE,
    }


def api_server_volumes() -> list[dict]:
    """The host folders kube-apiserver reads its policy and keys from and writes its audit log to (kubeadm
    HostPathMount). The policy and keys are read-only in the container."""
    return [
        {"name": "k8s-platform-audit-policy", "hostPath": AUDIT_DIR, "mountPath": AUDIT_DIR, "readOnly": True,
         "pathType": "DirectoryOrCreate"},
        {"name": "k8s-platform-audit-log", "hostPath": AUDIT_LOG_DIR, "mountPath": AUDIT_LOG_DIR, "readOnly": False,
         "pathType": "DirectoryOrCreate"},
        {"name": "k8s-platform-encryption", "hostPath": ENCRYPTION_DIR, "mountPath": ENCRYPTION_DIR,
         "readOnly": True, "pathType": "DirectoryOrCreate"},
    ]


def manifest_flags() -> str:
    """The flags a control plane's kube-apiserver manifest must carry, one `--name=value` per line, in the order
    the file scripts check them (api-server-config.sh)."""
    return "\n".join(f"--{name}={value}" for name, value in sorted(api_server_args().items()))


def encryption_flag() -> str:
    """The flag that turns encryption on: a manifest without it belongs to an API server that writes in the clear."""
    return f"--encryption-provider-config={api_server_args()['encryption-provider-config']}"


def encryption_config(keys: list[tuple[str, str]], identity_writes: bool = False) -> dict:
    """The EncryptionConfiguration for `keys` ((name, base64 secret), the writing key first), as encryption-lib.sh
    writes it on the host: the tests hold the two to each other. `identity_writes`: identity comes first, as on a
    control plane whose API server ran without encryption until this update (it reads sealed Secrets before any
    API server writes them)."""
    secretbox = {"secretbox": {"keys": [{"name": name, "secret": secret} for name, secret in keys]}}
    return {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [{
            "resources": list(ENCRYPTED_RESOURCES),
            "providers": [{"identity": {}}, secretbox] if identity_writes else [secretbox, {"identity": {}}],
        }],
    }
