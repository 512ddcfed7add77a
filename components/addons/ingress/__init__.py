"""The ingress controller: Traefik."""
