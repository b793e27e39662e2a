"""Hypothesis strategies shared by the fuzz tests: JSON values (as the wire or Python's json module can hold them) and mutations."""

from __future__ import annotations

from fuzz.contracts import MUTATIONS, NASTY_VALUES, WIRE_VALUES
from hypothesis import strategies as st

# Text orjson can encode (no lone surrogates), with control characters, whitespace and non-ASCII in the mix.
wire_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
wire_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | wire_text
    | st.sampled_from(WIRE_VALUES)
)
# What Python's json module can produce: NaN, infinities, integers of any size, lone surrogates.
python_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=24) | st.sampled_from(NASTY_VALUES)


def json_values(scalars: st.SearchStrategy, keys: st.SearchStrategy | None = None) -> st.SearchStrategy:
    keys = st.text(max_size=10) if keys is None else keys
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5), max_leaves=16)


wire_json = json_values(wire_scalars, wire_text)
python_json = json_values(python_scalars)


def mutations(values: st.SearchStrategy, max_size: int = 5) -> st.SearchStrategy:
    """Lists of (where, what, value) for fuzz.contracts.mutate_json."""
    return st.lists(st.tuples(st.integers(0, 2**16), st.sampled_from(MUTATIONS), values), min_size=1, max_size=max_size)
