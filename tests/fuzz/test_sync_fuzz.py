"""Fuzzing the snapshot decoder with damaged real snapshots: (seq, view), None or SnapshotFormatError, never a crash.

The decoder is only ever fed snapshots the server made, so the inputs start from a real stream
(fuzz.contracts.snapshot_stream) and are cut short, bit-flipped, overwritten or extended.
"""

from __future__ import annotations

from fuzz.contracts import SNAPSHOT_BOUNDS, check_snapshot, check_snapshots, mutate_frame, snapshot_stream
from hypothesis import example, given
from hypothesis import strategies as st

from thirdspace.protocol.constants import FRAME_SNAPSHOT_V2
from thirdspace.sync.decode import SnapshotDecoder, SnapshotFormatError
from thirdspace.sync.layout import SNAPSHOT_FULL

STREAM = snapshot_stream()


def test_the_real_stream_decodes_in_full_and_in_deltas():
    results = check_snapshots(list(STREAM))
    assert all(isinstance(r, tuple) for r in results), results
    assert STREAM[0][1] & SNAPSHOT_FULL and any(not frame[1] & SNAPSHOT_FULL for frame in STREAM)
    assert len({len(view) for _, view in results}) > 1  # someone joins on the way


@given(
    at=st.integers(0, len(STREAM) - 1),
    flips=st.lists(st.integers(0, 2**16), max_size=6),
    cut=st.none() | st.integers(0, 200),
    tail=st.binary(max_size=16),
    splice=st.none() | st.tuples(st.integers(0, 200), st.binary(min_size=1, max_size=8)),
)
@example(at=0, flips=[], cut=6, tail=b"", splice=None)  # a header alone
@example(at=1, flips=[33], cut=None, tail=b"", splice=None)  # the baseline's low bit
@example(at=3, flips=[], cut=None, tail=b"", splice=(1, b"\x01"))  # a delta claiming to be full
def test_a_damaged_snapshot_in_a_real_stream(at, flips, cut, tail, splice):
    frames = list(STREAM)
    frames[at] = mutate_frame(frames[at], flips, cut, tail, splice)
    check_snapshots(frames)  # the damaged frame, and the real ones after it


@given(st.binary(max_size=300))
def test_arbitrary_bytes(data):
    check_snapshots([data])


@given(
    flags=st.integers(0, 255), seq=st.integers(0, 0xFFFF), baseline=st.sampled_from(range(len(STREAM) + 2)), body=st.binary(max_size=200)
)
def test_arbitrary_bodies_against_known_baselines(flags, seq, baseline, body):
    decoder = SnapshotDecoder(*SNAPSHOT_BOUNDS)
    for frame in STREAM:
        decoder.decode(frame)
    header = bytes([FRAME_SNAPSHOT_V2, flags]) + seq.to_bytes(2, "little") + baseline.to_bytes(2, "little")
    check_snapshot(decoder, header + body)
    check_snapshot(decoder, STREAM[-1])  # and the decoder still takes a real one (or refuses it cleanly)


def test_a_truncated_snapshot_is_a_format_error():
    decoder = SnapshotDecoder(*SNAPSHOT_BOUNDS)
    assert isinstance(check_snapshot(decoder, STREAM[0][:7]), SnapshotFormatError)
    assert isinstance(check_snapshot(decoder, b"\x03\x01"), SnapshotFormatError)
