"""The k8s-platform policy pack. Building it starts the policy server and blocks, so this file only builds it;
the rules live in cluster_policies/ (tested without a server)."""

from pulumi_policy import PolicyPack

from cluster_policies.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=policies())
