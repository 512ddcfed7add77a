"""Logging: Fluent Bit on every node shipping to Loki."""
