"""benchmarks/sync_coding.py prices the real engine's deltas correctly: the benchmark behind the bytes figures."""

import importlib.util

import numpy as np

from thirdspace.config import PROJECT_ROOT
from thirdspace.sync import reference

SCRIPT = PROJECT_ROOT / "benchmarks" / "sync_coding.py"


def _load():
    spec = importlib.util.spec_from_file_location("sync_coding_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _part(x, y, z, quaternion):
    return np.array([x, y, z, reference.pack_quaternion(*quaternion)], np.int64)


def test_a_steady_mover_is_predicted_exactly_and_priced_as_today_without_prediction():
    coding = _load()
    turn = (0.0, 0.0, 0.0, 1.0)
    before, held, cur = _part(100, 50, 100, turn), _part(110, 50, 97, turn), _part(120, 50, 94, turn)
    change = coding.Change(0, held, cur, before)
    assert change.plain_pos == [20, 0, 5]  # zigzag of +10, 0, -3
    assert change.pred_pos == [0, 0, 0] and change.pred_rot == [0, 0, 0]
    bits = coding.price([change], [13, 12, 13])
    # today's delta part: changed, width 5 (zigzag 20), three 5-bit deltas, rotation unchanged
    assert bits["v2"] == 1 + 4 + 15 + 1
    # predicted: width 0 and nothing after it
    assert bits["pred"] == 1 + 4 + 0 + 1
    assert bits["choose"] == 1 + bits["pred"]


def test_the_v2_price_is_what_the_encoder_writes():
    coding = _load()
    rng = np.random.default_rng(3)
    for _ in range(300):
        held = _part(*rng.integers(0, 8000, 3), rng.normal(size=4))
        step = int(rng.choice([0, 1, 7, 300, 5000]))
        turn = rng.normal(size=4) if rng.random() < 0.3 else reference.unpack_quaternion(int(held[3])) + rng.normal(0, 0.01, 4)
        cur = _part(*(held[:3] + rng.integers(-step, step + 1, 3)), turn)
        if np.array_equal(held, cur):
            continue
        writer = reference.BitWriter()
        reference._part_delta(writer, held, cur, True, [13, 12, 13])
        assert coding.price([coding.Change(0, held, cur, None)], [13, 12, 13])["v2"] == writer.bits


def test_a_small_run_accounts_for_every_part():
    coding = _load()
    report = coding.run(entities=60, seconds=2.0, ack_delay=1, observers=4, area=40.0)
    assert 0 < report["changed_parts"] <= report["parts_sent"]
    assert 0 < report["with_prediction"] <= report["changed_parts"]
    bits = report["bits_per_changed_part"]
    assert bits["entropy"] < bits["v2"] and bits["choose"] <= bits["v2"] + 1
