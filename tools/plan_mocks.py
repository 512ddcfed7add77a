"""Pulumi mocks for the offline plan: deterministic fake values, and a record of every registration.

Every computed value (id, address, DNS name) is derived from a hash of the resource's own type and name, so it is
the same on every run and adding one resource never changes another one's values.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex
import ipaddress
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc

SECRET_SIG_KEY = rpc._special_sig_key
SECRET_SIG_VALUE = rpc._special_secret_sig
FAKE_ADDRESSES = ipaddress.IPv4Network("10.0.0.0/8")

_ID_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
    "aws:ec2/instance:Instance": "i",
    "aws:ec2/keyPair:KeyPair": "key",
}


def digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def fake_address(*parts: str) -> str:
    offset = int(digest(*parts)[:8], 16) % (FAKE_ADDRESSES.num_addresses - 2) + 1
    return str(FAKE_ADDRESSES.network_address + offset)


def fake_public_address(*parts: str) -> str:
    # The documentation range, so that no fake public address is ever someone's real one.
    return str(ipaddress.IPv4Address("203.0.113.0") + int(digest(*parts)[:4], 16) % 254 + 1)


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE:
        return value.get("value")
    return value


PLANNED_EXPIRY = 4102444800  # 2100-01-01T00:00:00Z


def fake_command_stdout(stdin: Any, h: str) -> str:
    """What a host script prints, for the scripts whose output the program reads."""
    text = _unwrap(stdin) or ""
    if "from join-credentials.sh" in text:
        # A fixed expiry: the same plan every time.
        credentials = {"token": f"{h[:6]}.{h[6:22]}", "caCertHash": f"sha256:{h}", "expires": PLANNED_EXPIRY}
        if "readonly UPLOAD_CERTS_CONFIG=''" not in text:  # a control plane's: with the key the host made for it
            credentials["certificateKey"] = digest(h, "certificate-key")
        return json.dumps(credentials) + "\n"
    if "from preflight.sh" in text:
        match = re.search(r"^readonly HOST_NAME=(\S+)$", text, re.MULTILINE)
        host = shlex.split(match[1])[0] if match else "unknown"
        return json.dumps({"host": host, "hostname": host, "machineId": h[:32], "productUuid": h[32:64],
                           "member": "no"}) + "\n"
    if "from registry-ca.sh" in text:
        match = re.search(r"^readonly HOSTS=(.+)$", text, re.MULTILINE)
        hosts = shlex.split(match[1])[0].split() if match else []
        planned = base64.b64encode(f"PLANNED {h}".encode()).decode()
        return json.dumps({"ca": planned, "hosts": {host: {"cert": planned, "key": planned} for host in hosts}}) + "\n"
    if "from encryption-key.sh" in text:  # 32 bytes in base64, the same in every plan of the stack
        return base64.b64encode(bytes.fromhex(h)[:32]).decode() + "\n"
    if "from read-etcd-image.sh" in text:
        return "registry.k8s.io/etcd:planned\n"
    if "from read-admin-kubeconfig.sh" in text:
        return (
            "apiVersion: v1\nkind: Config\nclusters:\n- name: planned\n  cluster:\n"
            "    server: https://planned:6443\n    certificate-authority-data: UExBTk5FRA==\n"
            "users:\n- name: admin\n  user:\n    client-key-data: UExBTk5FRA==\n"
            "contexts:\n- name: admin@planned\n  context: {cluster: planned, user: admin}\n"
            "current-context: admin@planned\n"
        )
    return ""


class PlanMocks(pulumi.runtime.Mocks):
    """Deterministic fake outputs. With `preview`, a resource's outputs are its inputs and nothing else, as in a
    real preview of a create: every computed value (id, ARN, address, zone, command output) is unknown, and so is
    every input the program derives from one."""

    def __init__(self, region: str, preview: bool = False, running: dict[str, tuple[str, str]] | None = None,
                 host_reads: dict[str, str] | None = None):
        self.region = region
        self.preview = preview
        self.running = dict(running or {})
        # What a read over SSH (ssh-read.sh, an invoke) prints, by (host address, read script: "certificates-check",
        # "credentials-read"); the offline plan reads no host.
        self.host_reads = dict(host_reads or {})

    def new_resource(self, args: mocks.MockResourceArgs):
        if not args.custom:
            return "", {}
        if self.preview:
            return "", dict(args.inputs)
        h = digest(args.typ, args.name)
        prefix = _ID_PREFIXES.get(args.typ, args.typ.split(":")[-1].lower())
        resource_id = f"{prefix}-{h[:17]}"
        outputs = dict(args.inputs)
        outputs["id"] = resource_id
        outputs.setdefault("arn", f"arn:aws:{args.typ.split(':')[1].split('/')[0]}:{self.region}:000000000000:"
                                  f"{prefix}/{args.name}-{h[:12]}")
        if args.typ.startswith("aws:") and "name" not in args.inputs:
            # Auto-naming: the logical name plus a suffix (random in Pulumi, derived from the name here).
            outputs["name"] = f"{args.name}-{h[:7]}"
        if args.typ == "aws:s3/bucket:Bucket":
            outputs.setdefault("bucket", f"{args.inputs.get('bucketPrefix', args.name)}{h[:12]}")
            outputs["arn"] = f"arn:aws:s3:::{outputs['bucket']}"
        if args.typ == "aws:ec2/instance:Instance":
            outputs["privateIp"] = fake_address(args.typ, args.name)
            if args.inputs.get("associatePublicIpAddress"):
                outputs["publicIp"] = fake_public_address(args.typ, args.name)
        elif args.typ == "aws:lb/loadBalancer:LoadBalancer":
            outputs["dnsName"] = f"{args.name}-{h[:16]}.elb.{self.region}.amazonaws.com"
        elif args.typ == "aws:ec2/eip:Eip":
            outputs["allocationId"] = resource_id
            outputs["publicIp"] = fake_public_address(args.typ, args.name)
        elif args.typ == "aws:ec2/keyPair:KeyPair":
            outputs.setdefault("keyName", f"{args.name}-{h[:7]}")
        elif args.typ in ("random:index/randomString:RandomString", "random:index/randomPassword:RandomPassword"):
            length = int(args.inputs.get("length", 16))
            outputs["result"] = (h * 4)[:length]
        elif args.typ == "random:index/randomBytes:RandomBytes":
            outputs["hex"] = (h * 4)[: 2 * int(args.inputs.get("length", 32))]
            outputs["base64"] = base64.b64encode(bytes.fromhex(outputs["hex"])).decode()
        elif args.typ == "command:remote:Command":
            outputs["stdout"] = fake_command_stdout(args.inputs.get("stdin"), h)
            outputs["stderr"] = ""
        return resource_id, outputs

    def call(self, args: mocks.MockCallArgs):
        if args.token == "command:local:run":
            command = args.args.get("command") or ""
            match = re.search(r"^readonly HOST=(\S+)$", command, re.MULTILINE)
            host = shlex.split(match[1])[0] if match else ""
            # The read's own script is the last one rendered into ssh-read.sh's command.
            scripts = re.findall(r"^# Generated by k8s-platform from (?:.+, )?([\w-]+)\.sh\. Do not edit\.$", command,
                                 re.MULTILINE)
            unread = json.dumps({"unavailable": "the offline plan reads no host"})
            return {"stdout": self.host_reads.get((host, scripts[-1] if scripts else ""), unread), "stderr": ""}, []
        # Machines as AWS runs them (name -> (instance type, image)): none for a new stack; a test or a plan diff
        # against a deployed base sets them (tools/plan.py --running).
        if args.token == "aws:ec2/getInstances:getInstances":
            name = (args.args.get("instanceTags") or {}).get("Name", "")
            found = [f"i-{digest('running', name)[:17]}"] if name in self.running else []
            return {"ids": found, "privateIps": [], "publicIps": []}, []
        if args.token == "aws:ec2/getInstance:getInstance":
            name = next((n for n in self.running if f"i-{digest('running', n)[:17]}" == args.args.get("instanceId")),
                        None)
            if name is None:
                return {}, []
            instance_type, image = self.running[name]
            return {"id": args.args["instanceId"], "instanceType": instance_type, "ami": image,
                    "launchTime": "2026-01-01T00:00:00Z"}, []
        if args.token == "aws:ec2/getAmi:getAmi":
            h = digest(args.token, json.dumps(args.args, sort_keys=True, default=str))
            return {"id": f"ami-{h[:17]}", "imageId": f"ami-{h[:17]}", "name": "ubuntu-noble-24.04 (planned)"}, []
        return {}, []


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    depends_on: list[str] = field(default_factory=list)
    id: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    # input name -> URNs of the resources its value came from (what policies use to follow an instance's subnet)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    # A component's registered outputs (register_outputs): what the engine's stack policies see of it.
    outputs: dict[str, Any] | None = None


class RecordingMonitor(mocks.MockMonitor):
    """A MockMonitor that also keeps each registration's parent and dependencies, which mocks do not report."""

    def __init__(self, plan_mocks: PlanMocks):
        super().__init__(plan_mocks)
        self.registrations: list[Registration] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives: the parent's whole qualified type before this type, except for the root stack,
        which the engine leaves out (the SDK's mock monitor keeps the stack and only the parent's last type)."""
        qualified = parent.split("::")[2] if parent else ""
        if qualified and qualified != "pulumi:pulumi:Stack":
            type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResourceOutputs(self, request):
        outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        for registration in self.registrations:
            if registration.urn == request.urn:
                registration.outputs = outputs
        return super().RegisterResourceOutputs(request)

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(Registration(
                urn=response.urn, type=request.type, name=request.name, parent=request.parent,
                custom=request.custom, inputs=rpc.deserialize_properties(request.object, keep_unknowns=True),
                depends_on=sorted(set(request.dependencies)), id=response.id, options=resource_options(request),
                property_dependencies={key: sorted(set(deps.urns))
                                       for key, deps in sorted(request.propertyDependencies.items()) if deps.urns},
            ))
        return response


def resource_options(request) -> dict[str, Any]:
    """The lifecycle options a registration asked for (only those set), as the engine will apply them."""
    options: dict[str, Any] = {}
    if request.ignoreChanges:
        options["ignoreChanges"] = sorted(request.ignoreChanges)
    if request.replaceOnChanges:
        options["replaceOnChanges"] = sorted(request.replaceOnChanges)
    if request.deleteBeforeReplace:
        options["deleteBeforeReplace"] = True
    if request.protect:
        options["protect"] = True
    if request.retainOnDelete:
        options["retainOnDelete"] = True
    if request.additionalSecretOutputs:
        options["additionalSecretOutputs"] = sorted(request.additionalSecretOutputs)
    if request.provider and "pulumi:providers:" in request.provider and "::default" not in request.provider:
        # An explicit provider reference is "<urn>::<id>"; the URN says which cluster or account it is.
        options["provider"] = request.provider.rsplit("::", 1)[0]
    return options


def secret_digests(value: Any, path: str = "") -> dict[str, str]:
    """input path -> a short digest of each secret's value, so that plan diffs can say a secret changed while the
    plan shows only "[secret]". The offline plan never holds a real secret (encrypted settings stay encrypted), so
    the digests are of placeholders and of the mocks' own values."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE:
            return {path: digest(json.dumps(value.get("value"), sort_keys=True, default=str))[:12]}
        found: dict[str, str] = {}
        for key, item in value.items():
            found.update(secret_digests(item, f"{path}.{key}" if path else str(key)))
        return found
    if isinstance(value, (list, tuple)):
        found = {}
        for i, item in enumerate(value):
            found.update(secret_digests(item, f"{path}[{i}]"))
        return found
    return {}


def mask_secrets(value: Any) -> Any:
    """The value with every secret replaced by "[secret]", and whole numbers as integers again (the wire format
    carries every number as a double)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE:
            return "[secret]"
        return {k: mask_secrets(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_secrets(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
