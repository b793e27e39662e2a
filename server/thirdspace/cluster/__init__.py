"""Cluster mode: several nodes coordinated through Redis (see node.py and docs/deploy.md)."""
