"""Serving certificates of the web hosts, and every node's trust in the registry (values in harbor/)."""
