#!/usr/bin/env bash
# Prints the etcd image this control plane runs (kubeadm's choice for the cluster's Kubernetes version), so that
# backups use the same etcdctl as the cluster. Read-only.
# Inputs (generated header): ROOT, KUBERNETES_VERSION (the image changes with it: a new version reads it again).
# shellcheck disable=SC2154
set -euo pipefail

etcd_image
