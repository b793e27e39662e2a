"""Protocol v1: JSON control messages and binary pose/snapshot frames (see docs/protocol.md)."""
