"""Monitoring: kube-prometheus-stack (Prometheus, Alertmanager, Grafana)."""
