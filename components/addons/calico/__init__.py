"""Calico, the CNI, through the tigera-operator chart."""
