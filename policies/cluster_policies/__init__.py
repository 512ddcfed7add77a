"""The k8s-platform policy pack's rules, importable without starting the policy server (see ../__main__.py)."""
