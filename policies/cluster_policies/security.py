"""Security: IMDSv2, encrypted volumes, no administrative port open to the internet, described security-group
rules, no public address but the bastion's, and the tags every other rule relies on."""

from __future__ import annotations

from cluster_policies import facts
from cluster_policies.tables import BASTION, TIERS

PUBLIC = ("0.0.0.0/0", "::/0")
ADMIN_PORTS = (22, 6443)  # SSH and the Kubernetes API (bare metal colocated: add 8443 through config)


def validate_imdsv2(args, report_violation) -> None:
    if args.resource_type not in (facts.INSTANCE, facts.LAUNCH_TEMPLATE):
        return
    options = args.props.get("metadataOptions") or {}
    if options.get("httpEndpoint") == "disabled":
        return
    if options.get("httpTokens") != "required":
        report_violation(f"instance metadata allows IMDSv1 (httpTokens {options.get('httpTokens', 'optional')!r}); "
                         f"set metadataOptions.httpTokens to 'required'", None)


def _block_devices(props) -> list[tuple[str, dict]]:
    devices = []
    if props.get("rootBlockDevice") is not None:
        devices.append(("root volume", props["rootBlockDevice"]))
    for device in props.get("ebsBlockDevices") or []:
        devices.append((f"volume {device.get('deviceName', '?')}", device))
    return devices


def validate_volumes_encrypted(args, report_violation) -> None:
    t, props = args.resource_type, args.props
    if t == facts.INSTANCE:
        devices = _block_devices(props)
        if props.get("rootBlockDevice") is None:
            devices.append(("root volume (not declared, so not encrypted)", {}))
        for what, device in devices:
            if device.get("encrypted") is not True:
                report_violation(f"{what} is not encrypted", None)
    elif t == facts.VOLUME and props.get("encrypted") is not True:
        report_violation("EBS volume is not encrypted", None)
    elif t == facts.LAUNCH_TEMPLATE:
        for mapping in props.get("blockDeviceMappings") or []:
            if (mapping.get("ebs") or {}).get("encrypted") not in (True, "true"):
                report_violation(f"launch template volume {mapping.get('deviceName', '?')} is not encrypted", None)
    elif t == facts.STORAGE_CLASS and props.get("provisioner") == "ebs.csi.aws.com":
        if (props.get("parameters") or {}).get("encrypted") != "true":
            report_violation(f"StorageClass {props.get('metadata', {}).get('name')} makes unencrypted EBS volumes "
                             f"(parameters.encrypted must be \"true\")", None)


def _rules(t: str, props) -> list[dict]:
    """Ingress rules in one shape: {cidrs, from, to, protocol, description}, whatever resource declares them."""
    if t == facts.INGRESS_RULE:
        cidrs = [c for c in (props.get("cidrIpv4"), props.get("cidrIpv6")) if c]
        return [{"cidrs": cidrs, "from": props.get("fromPort"), "to": props.get("toPort"),
                 "protocol": props.get("ipProtocol"), "description": props.get("description")}]
    if t == facts.SECURITY_GROUP_RULE and props.get("type") == "ingress":
        return [{"cidrs": (props.get("cidrBlocks") or []) + (props.get("ipv6CidrBlocks") or []),
                 "from": props.get("fromPort"), "to": props.get("toPort"), "protocol": props.get("protocol"),
                 "description": props.get("description")}]
    if t == facts.SECURITY_GROUP:
        return [{"cidrs": (r.get("cidrBlocks") or []) + (r.get("ipv6CidrBlocks") or []), "from": r.get("fromPort"),
                 "to": r.get("toPort"), "protocol": r.get("protocol"), "description": r.get("description")}
                for r in props.get("ingress") or []]
    return []


def _opens(rule: dict, port: int) -> bool:
    if str(rule["protocol"]) in ("-1", "all"):
        return True
    low, high = rule["from"], rule["to"]
    return low is not None and high is not None and low <= port <= high and str(rule["protocol"]) in ("tcp", "6")


def validate_no_public_admin_ingress(args, report_violation) -> None:
    ports = facts.config_value(args.get_config(), "adminPorts", list(ADMIN_PORTS))
    for rule in _rules(args.resource_type, args.props):
        public = [c for c in rule["cidrs"] if c in PUBLIC]
        opened = [p for p in ports if _opens(rule, p)]
        if public and opened:
            report_violation(f"ingress from {', '.join(public)} to port {', '.join(map(str, opened))} "
                             f"(SSH/Kubernetes API): allow only your networks", None)


def validate_rule_descriptions(args, report_violation) -> None:
    t, props = args.resource_type, args.props
    if t in (facts.INGRESS_RULE, facts.EGRESS_RULE, facts.SECURITY_GROUP_RULE):
        if not (props.get("description") or "").strip():
            report_violation("security-group rule has no description: say what it lets through and why", None)
    elif t == facts.SECURITY_GROUP:
        for direction in ("ingress", "egress"):
            for i, rule in enumerate(props.get(direction) or []):
                if not (rule.get("description") or "").strip():
                    report_violation(f"{direction}[{i}] of the security group has no description", None)


def validate_no_public_machines(args, report_violation) -> None:
    if args.resource_type != facts.INSTANCE or facts.tags(args.props).get("role") == BASTION:
        return
    public = args.props.get("associatePublicIpAddress")
    if public is True:
        report_violation("machine has a public IP address; only the bastion may (reach nodes through it)", None)
    elif public is None:
        report_violation("associatePublicIpAddress is not set, so the subnet's default decides; set it to false",
                         None)


def validate_required_tags(args, report_violation) -> None:
    if args.resource_type not in facts.TAGGED_TYPES + (facts.NODE,):
        return
    labels = facts.labels(args.props, args.resource_type)
    missing = [k for k in facts.REQUIRED_TAGS if not labels.get(k)]
    where = "inputs" if args.resource_type == facts.NODE else "tags"
    if missing:
        report_violation(f"{where} lack {', '.join(missing)}: the sizing, HA and cost rules cannot place it", None)
    elif labels["tier"] not in TIERS:
        report_violation(f"tier {labels['tier']!r} is not one of {', '.join(TIERS)}", None)
