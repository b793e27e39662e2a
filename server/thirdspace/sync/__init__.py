"""Spatial sync: quantisation, interest management and delta-encoded snapshots.

Each stage is a numba kernel over plain arrays (``kernels.py``) with a
straightforward NumPy/Python twin (``reference.py``) that the property tests
compare it with.  ``engine.py`` owns the arrays of one room and runs a tick;
``validate.py`` checks each uplink pose and stores it in the room's inbox arrays.
"""
