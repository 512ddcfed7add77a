"""The plan's fake values: deterministic, derived from each resource's own name, secrets masked."""

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from tools.plan_mocks import SECRET_SIG_KEY, SECRET_SIG_VALUE, PlanMocks, mask_secrets

FILTERS = [{"name": "name", "values": ["ubuntu/*"]}, {"name": "architecture", "values": ["x86_64"]}]


def test_invoke_results_do_not_depend_on_key_order():
    # Protobuf hands the mock maps in a per-process random order; the fake AMI id must not notice.
    mocks = PlanMocks("eu-west-1")
    forward = {"mostRecent": True, "owners": ["099720109477"], "filters": FILTERS}
    backward = {"filters": [dict(reversed(list(f.items()))) for f in FILTERS], "owners": ["099720109477"],
                "mostRecent": True}
    first, _ = mocks.call(MockCallArgs("aws:ec2/getAmi:getAmi", forward, ""))
    second, _ = mocks.call(MockCallArgs("aws:ec2/getAmi:getAmi", backward, ""))
    assert first["id"] == second["id"] and first["id"].startswith("ami-")


def test_resource_values_come_from_the_resource_own_name():
    mocks = PlanMocks("eu-west-1")
    a1 = mocks.new_resource(MockResourceArgs("aws:ec2/instance:Instance", "node-1", {"x": 1}, "", None, True))
    a2 = mocks.new_resource(MockResourceArgs("aws:ec2/instance:Instance", "node-1", {"x": 2}, "", None, True))
    b = mocks.new_resource(MockResourceArgs("aws:ec2/instance:Instance", "node-2", {"x": 1}, "", None, True))
    assert a1[0] == a2[0] and a1[1]["privateIp"] == a2[1]["privateIp"]
    assert a1[0] != b[0] and a1[1]["privateIp"] != b[1]["privateIp"]


def test_secrets_are_masked_at_any_depth_and_whole_numbers_restored():
    secret = {SECRET_SIG_KEY: SECRET_SIG_VALUE, "value": "hunter2"}
    masked = mask_secrets({"a": [secret, {"b": secret}], "port": 6443.0, "ratio": 0.5})
    assert masked == {"a": ["[secret]", {"b": "[secret]"}], "port": 6443, "ratio": 0.5}
