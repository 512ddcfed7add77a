"""Tier table, instance-type choice and kubelet reservations."""

import pytest

from components import sizing
from components.settings.quantities import QuantityError, cpu_millicores, memory_mib
from components.sizing import NodeSize


def test_tier_table_matches_the_operations_brief():
    assert sizing.tier_minimum("lab", "control-plane") == NodeSize(2, 2, 20)
    assert sizing.tier_minimum("lab", "worker") == NodeSize(2, 2, 20)
    assert sizing.tier_minimum("dev", "control-plane") == NodeSize(2, 4, 40)
    assert sizing.tier_minimum("dev", "worker") == NodeSize(4, 8, 40)
    assert sizing.tier_minimum("prod", "control-plane") == NodeSize(4, 8, 100)
    assert sizing.tier_minimum("prod", "worker") == NodeSize(8, 64, 500)


@pytest.mark.parametrize("tier, role, expected", [
    ("lab", "worker", "t3.small"),
    ("dev", "control-plane", "t3.medium"),
    ("dev", "worker", "c7i.xlarge"),
    ("prod", "control-plane", "c7i.xlarge"),
    ("prod", "worker", "r7i.2xlarge"),
])
def test_smallest_type_meeting_each_minimum(tier, role, expected):
    minimum = sizing.tier_minimum(tier, role)
    chosen = sizing.smallest_instance_type(tier, minimum.vcpu, minimum.memory_gib)
    assert chosen.name == expected
    # Nothing smaller in the catalogue would also have met the minimum.
    smaller = [t for t in sizing.INSTANCE_TYPES
               if t.vcpu >= minimum.vcpu and t.memory_gib >= minimum.memory_gib
               and (t.vcpu, t.memory_gib) < (chosen.vcpu, chosen.memory_gib)
               and (sizing.burstable_allowed(tier) or not t.burstable)]
    assert smaller == []


def test_prod_never_gets_a_burstable_type():
    assert not sizing.smallest_instance_type("prod", 2, 2).burstable
    assert "burstable" in sizing.instance_type_problem("prod", "worker", NodeSize(8, 64, 500), "t3.2xlarge")


def test_catalogue_names_are_unique_and_current_generation():
    names = [t.name for t in sizing.INSTANCE_TYPES]
    assert len(names) == len(set(names))
    assert {n.split(".")[0] for n in names} == {"t3", "c7i", "m7i", "r7i"}


def test_prod_reservations_never_below_the_baseline():
    for size in (NodeSize(4, 8, 100), NodeSize(8, 64, 500), NodeSize(64, 512, 2000)):
        r = sizing.kubelet_reservations("prod", size)
        assert r.system_cpu_m >= 200 and r.kube_cpu_m >= 200
        assert r.system_memory_mib >= 250 and r.kube_memory_mib >= 250
        assert r.eviction_memory_mib >= 1024
        assert r.eviction_nodefs_gib >= 1 and r.eviction_imagefs_gib >= 1
        assert (r.reclaim_memory_mib, r.reclaim_nodefs_mib, r.reclaim_imagefs_mib) == (500, 500, 1024)


def test_reservations_grow_with_node_size():
    small = sizing.kubelet_reservations("prod", NodeSize(4, 8, 100))
    large = sizing.kubelet_reservations("prod", NodeSize(32, 256, 1000))
    assert large.kube_cpu_m > small.kube_cpu_m
    assert large.kube_memory_mib > small.kube_memory_mib
    assert large.eviction_nodefs_gib > small.eviction_nodefs_gib


def test_lab_node_keeps_more_than_1_gib_allocatable():
    lab = sizing.allocatable("lab", NodeSize(2, 2, 20), 110)
    assert lab.memory_mib > 1024
    assert lab.cpu_m > 1000


def test_allocatable_of_a_prod_worker():
    # 8 vCPU: 300m system + 300m kube. 64 GiB: 5,612 MiB reserved in all, plus the 1 GiB eviction floor.
    a = sizing.allocatable("prod", NodeSize(8, 64, 500), 110)
    assert (a.cpu_m, a.memory_mib, a.pods) == (7400, 65536 - 5612 - 1024, 110)


def test_capacity_planning_adds_headroom():
    demand = sizing.demand_with_headroom([(10, 500, 1024)])
    assert (demand.cpu_m, demand.memory_mib, demand.pods) == (6000, 12288, 12)


def test_no_shortfall_when_capacity_covers_demand():
    pool = sizing.PoolCapacity("general", 2, sizing.Allocatable(4000, 8192, 110))
    assert sizing.capacity_shortfall(sizing.Demand(8000, 16384, 200), [pool]) is None
    short = sizing.capacity_shortfall(sizing.Demand(8001, 100, 1), [pool])
    assert short.more_nodes == (("general", 1),)


@pytest.mark.parametrize("text, millis", [("500m", 500), ("2", 2000), (0.25, 250), (1, 1000), ("1.5", 1500)])
def test_cpu_quantities(text, millis):
    assert cpu_millicores(text) == millis


@pytest.mark.parametrize("text, mib", [("512Mi", 512), ("2Gi", 2048), ("1G", 954), ("1048576", 1), ("1.5Gi", 1536)])
def test_memory_quantities(text, mib):
    assert memory_mib(text) == mib


@pytest.mark.parametrize("bad", ["", "2 cores", "-1", True, "0", "1e3"])
def test_bad_quantities_are_refused(bad):
    with pytest.raises(QuantityError):
        cpu_millicores(bad)
