"""Rooms: instances of a scene, their visitors, poses and chat (pure, no I/O)."""
