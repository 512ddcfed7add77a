"""The AWS layer under Pulumi mocks, through the real __main__.py, for the shipped stacks."""

import pytest

from components import sizing
from tests.plan_fixtures import INSTANCE, TARGET_ATTACHMENT, of_type, shipped_plan
from tools.plan import build_plan


def machines(stack, role):
    return [r for r in of_type(shipped_plan(stack), INSTANCE) if r["inputs"]["tags"]["role"] == role]


def test_prod_has_three_control_planes_in_three_zones_at_or_above_minimum():
    result = shipped_plan("prod")
    control_planes = machines("prod", "control-plane")
    assert len(control_planes) == 3
    assert len({r["_zone"] for r in control_planes}) == 3
    minimum = sizing.tier_minimum("prod", "control-plane")
    for cp in control_planes:
        itype = sizing.INSTANCE_TYPES_BY_NAME[cp["inputs"]["instanceType"]]
        assert itype.vcpu >= minimum.vcpu and itype.memory_gib >= minimum.memory_gib
        disk = cp["inputs"]["rootBlockDevice"]
        assert disk["volumeSize"] >= minimum.disk_gib
        assert disk["volumeType"] == "gp3" and disk["encrypted"] is True
    assert result.document["stack"] == "prod"


def test_prod_workers_meet_the_worker_minimum():
    workers = machines("prod", "worker")
    assert len(workers) >= 3
    for worker in workers:
        itype = sizing.INSTANCE_TYPES_BY_NAME[worker["inputs"]["instanceType"]]
        assert itype.vcpu >= 8 and itype.memory_gib >= 64
        assert worker["inputs"]["rootBlockDevice"]["volumeSize"] >= 500


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_machine_requires_imdsv2_and_encrypts_its_disk(stack):
    for machine in of_type(shipped_plan(stack), INSTANCE):
        assert machine["inputs"]["metadataOptions"]["httpTokens"] == "required"
        assert machine["inputs"]["rootBlockDevice"]["encrypted"] is True
        assert machine["inputs"]["rootBlockDevice"]["volumeType"] == "gp3"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_aws_resource_is_tagged(stack):
    for resource in shipped_plan(stack).document["resources"]:
        if not resource["type"].startswith("aws:") or resource["type"] in (
                "aws:ec2/routeTableAssociation:RouteTableAssociation", TARGET_ATTACHMENT,
                "aws:route53/record:Record", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                "aws:iam/rolePolicy:RolePolicy", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                "aws:s3/bucketVersioning:BucketVersioning",
                "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
            continue  # these AWS types take no tags
        tags = resource["inputs"].get("tags", {})
        assert {"cluster", "tier", "role", "pool"} <= set(tags), resource["urn"]
        assert tags["tier"] == stack


def test_prod_machines_are_private_except_the_bastion():
    for machine in of_type(shipped_plan("prod"), INSTANCE):
        public = machine["inputs"].get("associatePublicIpAddress", False)
        assert public == (machine["inputs"]["tags"]["role"] == "bastion"), machine["name"]


def test_dev_machines_are_public_and_no_bastion_or_nat():
    result = shipped_plan("dev")
    assert all(m["inputs"]["associatePublicIpAddress"] for m in of_type(result, INSTANCE))
    assert not of_type(result, "aws:ec2/natGateway:NatGateway")
    assert result.document["outputs"]["bastion"] is None


def test_prod_has_one_nat_gateway_per_zone_and_private_routes_use_their_own_zone():
    result = shipped_plan("prod")
    nats = of_type(result, "aws:ec2/natGateway:NatGateway")
    assert len(nats) == 3
    private_tables = [r for r in of_type(result, "aws:ec2/routeTable:RouteTable") if "private" in r["name"]]
    assert len({t["inputs"]["routes"][0]["natGatewayId"] for t in private_tables}) == 3


def api_only(result, type_token):
    """Resources of the API load balancer (the ingress load balancer has its own test)."""
    return [r for r in of_type(result, type_token) if r["name"].split("-")[2] == "api"]


def test_load_balancer_targets_are_exactly_the_control_planes():
    for stack in ("dev", "prod"):
        result = shipped_plan(stack)
        targets = sorted(a["inputs"]["targetId"] for a in api_only(result, TARGET_ATTACHMENT))
        control_plane_ips = sorted(n["privateAddress"] for n in result.document["outputs"]["nodes"]
                                   if n["role"] == "control-plane")
        assert targets == control_plane_ips
        assert all(a["inputs"]["port"] == 6443 for a in api_only(result, TARGET_ATTACHMENT))


def test_load_balancer_and_health_check_settings():
    result = shipped_plan("prod")
    (lb,) = api_only(result, "aws:lb/loadBalancer:LoadBalancer")
    assert lb["inputs"]["loadBalancerType"] == "network"
    assert lb["inputs"]["internal"] is True
    assert lb["inputs"]["enableCrossZoneLoadBalancing"] is True
    assert len(lb["inputs"]["subnets"]) == 3
    (tg,) = api_only(result, "aws:lb/targetGroup:TargetGroup")
    # IP targets without client IP preservation: hairpin traffic from a control plane to itself is not dropped.
    assert (tg["inputs"]["targetType"], tg["inputs"]["preserveClientIp"]) == ("ip", "false")
    assert (tg["inputs"]["protocol"], tg["inputs"]["port"]) == ("TCP", 6443)
    hc = tg["inputs"]["healthCheck"]
    assert (hc["protocol"], hc["path"], hc["matcher"], hc["port"]) == ("HTTPS", "/readyz", "200", "traffic-port")
    assert hc["interval"] * hc["unhealthyThreshold"] <= 30
    (listener,) = api_only(result, "aws:lb/listener:Listener")
    assert (listener["inputs"]["protocol"], listener["inputs"]["port"]) == ("TCP", 6443)


def test_dev_load_balancer_is_internet_facing_in_public_subnets():
    result = shipped_plan("dev")
    public_ids = {r.id for r in result.registrations
                  if r.type == "aws:ec2/subnet:Subnet" and "-public-" in r.name}
    assert len(public_ids) == 2
    load_balancers = of_type(result, "aws:lb/loadBalancer:LoadBalancer")
    assert len(load_balancers) == 2  # the API's and the ingress's
    for lb in load_balancers:
        assert lb["inputs"]["internal"] is False and set(lb["inputs"]["subnets"]) == public_ids


def test_security_group_rules_all_have_descriptions_and_no_open_ssh_or_api_in_prod():
    result = shipped_plan("prod")
    rules = of_type(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rules
    for rule in rules:
        assert rule["inputs"]["description"].strip()
        if rule["inputs"].get("fromPort") in (22, 6443):
            assert rule["inputs"].get("cidrIpv4") != "0.0.0.0/0"


def test_machines_depend_on_their_key_pair_subnet_and_groups():
    result = shipped_plan("prod")
    cp0 = next(r for r in of_type(result, INSTANCE) if r["name"] == "k8s-prod-cp-0")
    kinds = {urn.split("::")[-2].split("$")[-1] for urn in cp0["dependsOn"]}
    assert {"aws:ec2/keyPair:KeyPair", "aws:ec2/subnet:Subnet", "aws:ec2/securityGroup:SecurityGroup"} <= kinds


def test_running_machines_keep_their_image_when_canonical_publishes_a_newer_one():
    # A new Ubuntu image must not replace running nodes behind the user's back; and no ignoreChanges, which would
    # keep the old image even on a deliberate replacement.
    new_stack = of_type(shipped_plan("prod"), INSTANCE)
    running = {m["name"]: (m["inputs"]["instanceType"], "ami-0running000000000") for m in new_stack}
    deployed = of_type(build_plan("prod", check_policies=False, running=running), INSTANCE)
    assert {m["inputs"]["ami"] for m in new_stack} != {"ami-0running000000000"}, "the newest image differs"
    for machine in deployed:
        assert machine["inputs"]["ami"] == "ami-0running000000000", machine["name"]
        assert "ignoreChanges" not in machine["options"], machine["name"]


def test_every_node_has_a_dns_record_in_the_private_zone():
    result = shipped_plan("prod")
    (zone,) = of_type(result, "aws:route53/zone:Zone")
    assert zone["inputs"]["name"] == "k8s-prod.internal" and len(zone["inputs"]["vpcs"]) == 1
    all_records = of_type(result, "aws:route53/record:Record")
    records = {r["inputs"]["name"]: r["inputs"]["records"] for r in all_records if "records" in r["inputs"]}
    nodes = {f"{n['name']}.k8s-prod.internal": [n["privateAddress"]] for n in result.document["outputs"]["nodes"]}
    assert records == nodes
    # Harbor and Grafana: aliases of the ingress load balancer.
    aliases = {r["inputs"]["name"]: r["inputs"]["aliases"][0] for r in all_records if "aliases" in r["inputs"]}
    assert set(aliases) == {"harbor.k8s-prod.internal", "grafana.k8s-prod.internal"}
    ingress_lb = next(lb for lb in of_type(result, "aws:lb/loadBalancer:LoadBalancer") if "-ing" in lb["name"])
    assert all(a["name"].startswith(ingress_lb["name"]) for a in aliases.values())


def test_ingress_load_balancer_sends_80_and_443_to_every_workers_node_ports():
    for stack in ("dev", "prod"):
        result = shipped_plan(stack)
        ingress = [r for r in of_type(result, TARGET_ATTACHMENT) if "-ing-" in r["name"]]
        workers = sorted(n["privateAddress"] for n in result.document["outputs"]["nodes"] if n["role"] == "worker")
        for port, node_port in ((80, 30080), (443, 30443)):
            targets = sorted(a["inputs"]["targetId"] for a in ingress if a["inputs"]["port"] == node_port)
            assert targets == workers, (stack, port)
        groups = [g for g in of_type(result, "aws:lb/targetGroup:TargetGroup") if "-ing-" in g["name"]]
        assert sorted(g["inputs"]["port"] for g in groups) == [30080, 30443]
        assert all((g["inputs"]["targetType"], g["inputs"]["preserveClientIp"]) == ("ip", "false") for g in groups)
        assert all(len(g["inputs"]["namePrefix"]) <= 6 for g in groups), "target group names allow 32 characters"
