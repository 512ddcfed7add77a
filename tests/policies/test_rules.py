"""The policy pack's rules (policies/cluster_policies/), each on crafted resources built with pulumi_policy's own
argument classes."""

from pulumi_policy import (PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, ResourceValidationArgs,
                           StackValidationArgs)

import tools.policy_check  # noqa: F401  (puts policies/ on sys.path)
from cluster_policies import pack, tables
from components import sizing

OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def policy(name):
    return next(p for p in pack.policies() if p.name == name)


def resource_violations(name, type_, props, config=None):
    found = []
    args = ResourceValidationArgs(type_, props, f"urn:pulumi:t::p::{type_}::r", "r", OPTS, None, config or {})
    policy(name).validate(args, lambda message, urn=None: found.append(message))
    return found


def stack_violations(name, resources, config=None):
    found = []
    policy(name).validate(StackValidationArgs(resources, config or {}), lambda message, urn=None: found.append(message))
    return found


def res(type_, name, props, deps=None):
    return PolicyResource(type_, props, f"urn:pulumi:t::p::{type_}::{name}", name, OPTS, None, None, [], deps or {})


def instance(role="worker", tier="prod", itype="r7i.2xlarge", disk=500, volume_type="gp3", **extra):
    props = {"instanceType": itype, "associatePublicIpAddress": False,
             "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"},
             "rootBlockDevice": {"volumeSize": disk, "volumeType": volume_type, "encrypted": True},
             "tags": {"tier": tier, "role": role, "pool": "p"}}
    props.update(extra)
    return props


# --- resource rules ------------------------------------------------------------------------------------------

def test_machine_size_checks_type_disk_and_ssd_per_role_and_tier():
    assert resource_violations("machine-size", "aws:ec2/instance:Instance", instance()) == []
    assert resource_violations("machine-size", "aws:ec2/instance:Instance", instance(itype="m7i.2xlarge")) == [
        "m7i.2xlarge (8 vCPU, 32 GiB) is smaller than the prod worker minimum of 8 vCPU and 64 GiB"]
    assert resource_violations("machine-size", "aws:ec2/instance:Instance",
                               instance("control-plane", disk=50, volume_type="st1", itype="c7i.xlarge")) == [
        "root volume 50 GiB is smaller than the prod control-plane minimum of 100 GiB",
        "control-plane root volume type 'st1' is not SSD-class (gp2, gp3, io1, io2): etcd needs low write latency"]
    assert resource_violations("machine-size", "aws:ec2/instance:Instance", instance(itype="x9z.large")) == [
        "instance type 'x9z.large' is not in the policy pack's table, so its size cannot be checked; add it to the "
        "machine-size policy's instanceTypes config"]
    extra = {"instanceTypes": {"x9z.large": {"vcpu": 8, "memoryGiB": 64}}}
    assert resource_violations("machine-size", "aws:ec2/instance:Instance", instance(itype="x9z.large"), extra) == []
    assert resource_violations("machine-size", "aws:ec2/instance:Instance",
                               instance("bastion", itype="t3.micro", disk=10)) == []


def test_the_packs_instance_table_agrees_with_the_program_where_both_know_a_type():
    for t in sizing.INSTANCE_TYPES:
        assert tables.INSTANCE_TYPES[t.name] == (t.vcpu, t.memory_gib), t.name


def test_imdsv2_and_encryption():
    assert resource_violations("imdsv2-required", "aws:ec2/instance:Instance", instance()) == []
    bad = instance(metadataOptions={"httpTokens": "optional"})
    assert resource_violations("imdsv2-required", "aws:ec2/instance:Instance", bad) == [
        "instance metadata allows IMDSv1 (httpTokens 'optional'); set metadataOptions.httpTokens to 'required'"]
    assert resource_violations("volumes-encrypted", "aws:ec2/instance:Instance", instance()) == []
    bad = instance(ebsBlockDevices=[{"deviceName": "/dev/sdf", "encrypted": False}])
    assert resource_violations("volumes-encrypted", "aws:ec2/instance:Instance", bad) == [
        "volume /dev/sdf is not encrypted"]
    assert resource_violations("volumes-encrypted", "aws:ebs/volume:Volume", {"size": 10}) == [
        "EBS volume is not encrypted"]
    sc = {"provisioner": "ebs.csi.aws.com", "metadata": {"name": "fast"}, "parameters": {"type": "gp3"}}
    assert resource_violations("volumes-encrypted", "kubernetes:storage.k8s.io/v1:StorageClass", sc) == [
        'StorageClass fast makes unencrypted EBS volumes (parameters.encrypted must be "true")']


INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def test_no_public_admin_ingress_in_every_form_of_rule():
    ok = {"cidrIpv4": "198.51.100.0/24", "fromPort": 22, "toPort": 22, "ipProtocol": "tcp", "description": "x"}
    assert resource_violations("no-public-admin-ingress", INGRESS, ok) == []
    https = {**ok, "cidrIpv4": "0.0.0.0/0", "fromPort": 443, "toPort": 443}
    assert resource_violations("no-public-admin-ingress", INGRESS, https) == []
    ssh = {**ok, "cidrIpv4": "0.0.0.0/0"}
    assert resource_violations("no-public-admin-ingress", INGRESS, ssh) == [
        "ingress from 0.0.0.0/0 to port 22 (SSH/Kubernetes API): allow only your networks"]
    everything = {"type": "ingress", "ipv6CidrBlocks": ["::/0"], "fromPort": 0, "toPort": 0, "protocol": "-1"}
    assert resource_violations("no-public-admin-ingress", "aws:ec2/securityGroupRule:SecurityGroupRule",
                               everything) == [
        "ingress from ::/0 to port 22, 6443 (SSH/Kubernetes API): allow only your networks"]
    inline = {"ingress": [{"cidrBlocks": ["0.0.0.0/0"], "fromPort": 6000, "toPort": 7000, "protocol": "tcp"}]}
    assert resource_violations("no-public-admin-ingress", "aws:ec2/securityGroup:SecurityGroup", inline) == [
        "ingress from 0.0.0.0/0 to port 6443 (SSH/Kubernetes API): allow only your networks"]
    colocated = {**ok, "cidrIpv4": "0.0.0.0/0", "fromPort": 8443, "toPort": 8443}
    assert resource_violations("no-public-admin-ingress", INGRESS, colocated, {"adminPorts": [22, 6443, 8443]})


def test_rule_descriptions_public_machines_and_tags():
    assert resource_violations("security-group-rule-descriptions", INGRESS, {"description": "why"}) == []
    assert resource_violations("security-group-rule-descriptions", INGRESS, {"description": " "}) == [
        "security-group rule has no description: say what it lets through and why"]
    assert resource_violations("security-group-rule-descriptions", "aws:ec2/securityGroup:SecurityGroup",
                               {"egress": [{"protocol": "-1"}]}) == ["egress[0] of the security group has no description"]
    assert resource_violations("no-public-machines", "aws:ec2/instance:Instance", instance()) == []
    assert resource_violations("no-public-machines", "aws:ec2/instance:Instance",
                               instance("bastion", associatePublicIpAddress=True)) == []
    assert resource_violations("no-public-machines", "aws:ec2/instance:Instance",
                               instance(associatePublicIpAddress=True)) == [
        "machine has a public IP address; only the bastion may (reach nodes through it)"]
    unset = instance()
    del unset["associatePublicIpAddress"]
    assert resource_violations("no-public-machines", "aws:ec2/instance:Instance", unset) == [
        "associatePublicIpAddress is not set, so the subnet's default decides; set it to false"]
    assert resource_violations("required-tags", "aws:ec2/instance:Instance", instance()) == []
    assert resource_violations("required-tags", "aws:ec2/instance:Instance", {"tags": {"role": "worker"}}) == [
        "tags lack tier, pool: the sizing, HA and cost rules cannot place it"]
    assert resource_violations("required-tags", "k8s-platform:hosts:Node", {"tier": "qa", "role": "w", "pool": "p"}) == [
        "tier 'qa' is not one of lab, dev, prod"]


# --- stack rules ---------------------------------------------------------------------------------------------

def aws_cluster(control_zones=("a", "b", "c"), workers=2, tier="prod"):
    subnets = {z: res("aws:ec2/subnet:Subnet", f"subnet-{z}", {"availabilityZone": f"eu-west-1{z}",
                                                                "tags": {"tier": tier, "role": "x", "pool": "none"}})
               for z in "abc"}
    resources = list(subnets.values())
    for i, zone in enumerate(control_zones):
        resources.append(res("aws:ec2/instance:Instance", f"cp-{i}", instance("control-plane", tier, "c7i.xlarge", 100),
                             {"subnetId": [subnets[zone]]}))
    for i in range(workers):
        resources.append(res("aws:ec2/instance:Instance", f"w-{i}", instance("worker", tier), {"subnetId": [subnets["a"]]}))
    return resources


def with_api_lb(resources, subnets=2, skip=()):
    tags = {"role": "api-load-balancer", "tier": "prod", "pool": "none"}
    lb = res("aws:lb/loadBalancer:LoadBalancer", "api", {"subnets": ["s"] * subnets, "tags": tags})
    group = res("aws:lb/targetGroup:TargetGroup", "api", {"tags": tags})
    attachments = [res("aws:lb/targetGroupAttachment:TargetGroupAttachment", f"att-{r.name}", {"targetId": "10.0.0.1"},
                       {"targetGroupArn": [group], "targetId": [r]})
                   for r in resources if r.name.startswith("cp-") and r.name not in skip]
    return resources + [lb, group] + attachments


def test_control_plane_ha_counts_and_zones():
    assert stack_violations("control-plane-ha", aws_cluster()) == []
    assert stack_violations("control-plane-ha", aws_cluster(("a", "b", "b"))) == [
        "control planes span 2 zone(s) (eu-west-1a, eu-west-1b) in prod: spread them over at least 3 so one zone's "
        "outage keeps the etcd quorum"]
    assert stack_violations("control-plane-ha", aws_cluster(("a", "b"))) == [
        "2 control planes: etcd needs an odd member count (3 or 5); 2 members tolerate no more failures than 1",
        "2 control plane(s) in prod: at least 3 are needed to survive the loss of one",
        "control planes span 2 zone(s) (eu-west-1a, eu-west-1b) in prod: spread them over at least 3 so one zone's "
        "outage keeps the etcd quorum"]
    assert stack_violations("control-plane-ha", aws_cluster(("a",), tier="dev")) == []


def test_worker_ha_in_prod_only():
    assert stack_violations("worker-ha", aws_cluster(workers=2)) == []
    assert stack_violations("worker-ha", aws_cluster(workers=1)) == [
        "1 worker(s) in prod: at least 2 are needed to reschedule workloads when one fails"]
    assert stack_violations("worker-ha", aws_cluster(("a",), workers=1, tier="dev")) == []


def test_api_load_balancer_targets_every_control_plane_and_spans_zones():
    assert stack_violations("api-load-balancer-ha", with_api_lb(aws_cluster())) == []
    assert stack_violations("api-load-balancer-ha", with_api_lb(aws_cluster(), subnets=1, skip=("cp-2",))) == [
        "the API load balancer spans 1 zone(s) in prod: it must span at least 2",
        "the API target group does not target control plane(s) cp-2"]
    assert stack_violations("api-load-balancer-ha", aws_cluster()) == [
        "no load balancer tagged role=api-load-balancer fronts the control planes"]


def metal_node(name, role="worker", tier="prod", vcpu=16, memory=64, disk=500, max_pods=110):
    props = {"infrastructure": "bareMetal", "tier": tier, "role": role, "pool": "p", "zone": "rack",
             "vcpu": vcpu, "memoryGiB": memory, "diskGiB": disk, "maxPods": max_pods}
    return res("k8s-platform:hosts:Node", f"{name}-node", props)


def test_bare_metal_capacity_vip_and_scale():
    nodes = [metal_node(f"cp-{i}", "control-plane", vcpu=4, memory=8, disk=100) for i in range(3)]
    nodes += [metal_node("w-1"), metal_node("w-2", vcpu=4, memory=32)]
    assert stack_violations("bare-metal-capacity", nodes) == [
        "w-2-node: declared vCPU 4 < 8, memory GiB 32 < 64: below the prod worker minimum of 8 vCPU, 64 GiB memory, "
        "500 GiB disk"]
    vip = res("k8s-platform:bare-metal:VipLoadBalancer", "vip", {"holders": ["lb-1"], "backends": ["cp-0", "cp-1"]})
    assert stack_violations("api-load-balancer-ha", nodes + [vip]) == [
        "the API VIP does not balance control plane(s) cp-2",
        "the API VIP has 1 holder(s) in prod: at least 2, so it moves when one fails"]
    vip.props = {"holders": ["lb-1", "lb-2"], "backends": ["cp-0", "cp-1", "cp-2"]}
    assert stack_violations("api-load-balancer-ha", nodes + [vip]) == []
    assert stack_violations("control-plane-ha", nodes[:2]) == [
        "2 control planes: etcd needs an odd member count (3 or 5); 2 members tolerate no more failures than 1",
        "2 control plane(s) in prod: at least 3 are needed to survive the loss of one"]
    assert stack_violations("cluster-scale", nodes) == []
    assert stack_violations("cluster-scale", nodes + [metal_node("w-3", max_pods=250)]) == [
        "w-3-node: maxPods 250 is above 110 per node"]
    assert stack_violations("cluster-scale", nodes, {"maxNodes": 4}) == ["5 nodes: Kubernetes is tested up to 4"]


def test_many_small_workers_get_advice():
    small = [metal_node(f"w-{i}", vcpu=8) for i in range(24)]
    assert stack_violations("fewer-larger-workers", small) == [
        "24 workers, 24 of them under 16 vCPU (192 vCPU in total): about 10 to 20 larger workers schedule with less "
        "overhead, fewer image pulls and less fragmentation, e.g. 12 workers of 16 vCPU"]
    assert stack_violations("fewer-larger-workers", small[:20]) == []
    assert stack_violations("fewer-larger-workers", [metal_node(f"w-{i}", vcpu=32) for i in range(24)]) == []


# --- whole stacks, planned end to end --------------------------------------------------------------------------
