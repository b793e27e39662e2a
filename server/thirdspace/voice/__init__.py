"""Spatial voice: which visitors hear which (selection on the sync grid), and the voice state of a room."""
