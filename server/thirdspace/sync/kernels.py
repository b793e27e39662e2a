"""numba kernels for one room tick: quantise, grid, interest, delta encode.

Every kernel works in place on arrays the engine preallocates; none allocates
per visitor.  ``reference.py`` holds the plain twin of each; the property
tests check that the two agree bit for bit.  All kernels use ``cache=True``
and are compiled by :func:`warm_up` when the server starts.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from thirdspace.protocol.constants import FLAG_LEFT, FLAG_RIGHT, FLAG_TELEPORT, FRAME_SNAPSHOT_V2
from thirdspace.sync.layout import (
    FLAG_BITS,
    ID_BITS,
    NEW_COUNT_BITS,
    POS_STEPS_PER_M,
    QUAT_BITS,
    QUAT_DELTA_MAX_WIDTH,
    QUAT_INDEX_SHIFT,
    QUAT_MAX,
    QUAT_PACKED_BITS,
    QUAT_RANGE,
    SNAPSHOT_FULL,
    WIDTH_ABSOLUTE,
    WIDTH_BITS,
)

KEEP = 0
UPDATE = 1
REMOVED = 2
TRACKED_MASK = FLAG_LEFT | FLAG_RIGHT
MAX_NEW = 1 << NEW_COUNT_BITS


# -- quantisation --------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def quantise(parts, bounds_min, axis_max, out):
    """parts float32 (n, 3, 7) -> out int64 (n, 3, 4): x, y, z steps and a packed smallest-three quaternion."""
    for i in range(parts.shape[0]):
        for p in range(3):
            for a in range(3):
                v = math.floor((np.float64(parts[i, p, a]) - bounds_min[a]) * POS_STEPS_PER_M + 0.5)
                if v < 0:
                    v = 0
                elif v > axis_max[a]:
                    v = axis_max[a]
                out[i, p, a] = np.int64(v)
            out[i, p, 3] = pack_quaternion(parts[i, p, 3], parts[i, p, 4], parts[i, p, 5], parts[i, p, 6])


@njit(cache=True, error_model="numpy")
def pack_quaternion(x, y, z, w):
    q = np.empty(4, np.float64)
    q[0] = x
    q[1] = y
    q[2] = z
    q[3] = w
    norm = math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    if norm == 0.0:
        q[3] = 1.0
        norm = 1.0
    largest = 0
    for k in range(1, 4):
        if abs(q[k]) > abs(q[largest]):
            largest = k
    sign = -1.0 if q[largest] < 0 else 1.0
    packed = np.int64(largest) << QUAT_INDEX_SHIFT
    shift = 2 * QUAT_BITS
    for k in range(4):
        if k == largest:
            continue
        c = sign * q[k] / norm
        v = math.floor((c + QUAT_RANGE) / (2 * QUAT_RANGE) * QUAT_MAX + 0.5)
        if v < 0:
            v = 0
        elif v > QUAT_MAX:
            v = QUAT_MAX
        packed |= np.int64(v) << shift
        shift -= QUAT_BITS
    return packed


# -- interest ------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def build_grid(positions, has_pose, bounds_min, cell_m, grid_x, grid_z, cell_of, cell_start, cell_items):
    """Counting sort of posed avatars into a uniform xz grid (a spatial hash rebuilt each tick)."""
    n_cells = grid_x * grid_z
    for c in range(n_cells + 1):
        cell_start[c] = 0
    for i in range(positions.shape[0]):
        if not has_pose[i]:
            cell_of[i] = -1
            continue
        cx = int((positions[i, 0] - bounds_min[0]) / cell_m)
        cz = int((positions[i, 2] - bounds_min[2]) / cell_m)
        cx = min(max(cx, 0), grid_x - 1)
        cz = min(max(cz, 0), grid_z - 1)
        cell = cz * grid_x + cx
        cell_of[i] = cell
        cell_start[cell + 1] += 1
    for c in range(n_cells):
        cell_start[c + 1] += cell_start[c]
    fill = cell_start[:n_cells].copy()
    for i in range(positions.shape[0]):
        cell = cell_of[i]
        if cell >= 0:
            cell_items[fill[cell]] = i
            fill[cell] += 1


@njit(cache=True, error_model="numpy", inline="always")
def _before(d2_a, id_a, d2_b, id_b):
    return d2_a < d2_b or (d2_a == d2_b and id_a < id_b)


DISTANCE_BUCKETS = 256


@njit(cache=True, error_model="numpy")
def select_interest(
    clients, positions, has_pose, ids, always_slots, radius_m, k, bounds_min, cell_m, grid_x, grid_z,
    cell_start, cell_items, sel_slot, sel_d2, sel_count, sel_always,
):  # fmt: skip
    """For each client: the always-visible avatars (by id), then the k nearest within radius, nearest first.

    Candidates within the radius are counting-sorted into distance buckets (monotonic
    in distance), then each bucket is ordered by (distance squared, id): the same
    order as a full sort, without one."""
    r2 = radius_m * radius_m
    reach = int(math.ceil(radius_m / cell_m))
    n_total = positions.shape[0]
    cand_d2 = np.empty(n_total, np.float64)
    cand_id = np.empty(n_total, np.int64)
    cand_slot = np.empty(n_total, np.int64)
    cand_bucket = np.empty(n_total, np.int64)
    order = np.empty(n_total, np.int64)
    counts = np.zeros(DISTANCE_BUCKETS + 1, np.int64)
    for ci in range(clients.shape[0]):
        c = clients[ci]
        n = 0
        for a in range(always_slots.shape[0]):
            s = always_slots[a]
            if s == c or not has_pose[s]:
                continue
            sel_slot[c, n] = s
            sel_d2[c, n] = _distance2(positions, c, s) if has_pose[c] else 0.0
            n += 1
        sel_always[c] = n
        if not has_pose[c]:
            sel_count[c] = n
            continue
        found = 0
        cx = min(max(int((positions[c, 0] - bounds_min[0]) / cell_m), 0), grid_x - 1)
        cz = min(max(int((positions[c, 2] - bounds_min[2]) / cell_m), 0), grid_z - 1)
        for gz in range(max(cz - reach, 0), min(cz + reach, grid_z - 1) + 1):
            for gx in range(max(cx - reach, 0), min(cx + reach, grid_x - 1) + 1):
                cell = gz * grid_x + gx
                for item in range(cell_start[cell], cell_start[cell + 1]):
                    s = cell_items[item]
                    if s == c:
                        continue
                    d2 = _distance2(positions, c, s)
                    if d2 > r2 or _is_always(always_slots, s):
                        continue
                    cand_d2[found] = d2
                    cand_id[found] = ids[s]
                    cand_slot[found] = s
                    bucket = int(math.sqrt(d2 / r2) * DISTANCE_BUCKETS)
                    cand_bucket[found] = min(bucket, DISTANCE_BUCKETS - 1)
                    found += 1
        for b in range(DISTANCE_BUCKETS + 1):
            counts[b] = 0
        for j in range(found):
            counts[cand_bucket[j] + 1] += 1
        for b in range(DISTANCE_BUCKETS):
            counts[b + 1] += counts[b]
        for j in range(found):
            b = cand_bucket[j]
            order[counts[b]] = j
            counts[b] += 1
        # counts[b] is now the end of bucket b; order each bucket by (d2, id) with insertion sort
        start = 0
        for b in range(DISTANCE_BUCKETS):
            end = counts[b]
            for x in range(start + 1, end):
                j = order[x]
                y = x - 1
                while y >= start and _before(cand_d2[j], cand_id[j], cand_d2[order[y]], cand_id[order[y]]):
                    order[y + 1] = order[y]
                    y -= 1
                order[y + 1] = j
            start = end
            if start >= k:
                break
        take = min(found, k)
        for x in range(take):
            j = order[x]
            sel_slot[c, n + x] = cand_slot[j]
            sel_d2[c, n + x] = cand_d2[j]
        sel_count[c] = n + take


@njit(cache=True, error_model="numpy", inline="always")
def _distance2(positions, a, b):
    dx = np.float64(positions[a, 0]) - np.float64(positions[b, 0])
    dy = np.float64(positions[a, 1]) - np.float64(positions[b, 1])
    dz = np.float64(positions[a, 2]) - np.float64(positions[b, 2])
    return dx * dx + dy * dy + dz * dz


@njit(cache=True, error_model="numpy", inline="always")
def _is_always(always_slots, s):
    for a in range(always_slots.shape[0]):
        if always_slots[a] == s:
            return True
    return False


# -- bit writing ---------------------------------------------------------------------


@njit(cache=True, error_model="numpy", inline="always")
def _put(buf, pos, value, nbits, dry):
    """Write the low ``nbits`` (at most 64) of ``value`` at bit ``pos`` of ``buf`` (uint64 words); return the new position.

    Bits go least significant first, so on this little-endian layout the words read
    as the bytes of the stream.  Bits below ``pos`` in the word are kept and bits above
    the value are cleared, so the buffer needs no clearing between ticks."""
    if not dry and nbits > 0:
        word = pos >> 6
        shift = pos & 63
        off = np.uint64(shift)
        v = np.uint64(value)
        if nbits < 64:
            v &= (np.uint64(1) << np.uint64(nbits)) - np.uint64(1)
        buf[word] = (buf[word] & ((np.uint64(1) << off) - np.uint64(1))) | (v << off)
        if shift + nbits > 64:
            buf[word + 1] = v >> (np.uint64(64) - off)
    return pos + nbits


@njit(cache=True, error_model="numpy", inline="always")
def _bit_length(v):
    """Bits needed for ``v`` >= 0, in six steps."""
    n = 0
    if v >= 1 << 32:
        v >>= 32
        n += 32
    if v >= 1 << 16:
        v >>= 16
        n += 16
    if v >= 1 << 8:
        v >>= 8
        n += 8
    if v >= 1 << 4:
        v >>= 4
        n += 4
    if v >= 1 << 2:
        v >>= 2
        n += 2
    if v >= 2:
        v >>= 1
        n += 1
    return n + v


@njit(cache=True, error_model="numpy", inline="always")
def _zigzag(d):
    return (d << 1) ^ (d >> 63)


@njit(cache=True, error_model="numpy")
def _put_part_full(buf, pos, cur, part, axis_bits, dry):
    for a in range(3):
        pos = _put(buf, pos, cur[part, a], axis_bits[a], dry)
    return _put(buf, pos, cur[part, 3], QUAT_PACKED_BITS, dry)


@njit(cache=True, error_model="numpy")
def _put_part_delta(buf, pos, held, cur, part, held_known, axis_bits, dry):
    """A part the client already has: 1 bit changed, then position and rotation deltas."""
    same = held_known
    if held_known:
        for a in range(4):
            if held[part, a] != cur[part, a]:
                same = False
    else:
        same = False
    if same:
        return _put(buf, pos, 0, 1, dry)
    pos = _put(buf, pos, 1, 1, dry)
    # position
    width = WIDTH_ABSOLUTE
    if held_known:
        spread = 0  # the widest of the three zigzags has the bit length of their OR
        for a in range(3):
            spread |= _zigzag(np.int64(cur[part, a]) - np.int64(held[part, a]))
        widest = _bit_length(spread)
        if widest < WIDTH_ABSOLUTE:
            width = widest
    pos = _put(buf, pos, width, WIDTH_BITS, dry)
    if width == WIDTH_ABSOLUTE:
        for a in range(3):
            pos = _put(buf, pos, cur[part, a], axis_bits[a], dry)
    else:
        for a in range(3):
            pos = _put(buf, pos, _zigzag(np.int64(cur[part, a]) - np.int64(held[part, a])), width, dry)
    # rotation
    cur_q = np.int64(cur[part, 3])
    held_q = np.int64(held[part, 3])
    if held_known and cur_q == held_q:
        return _put(buf, pos, 0, 1, dry)
    pos = _put(buf, pos, 1, 1, dry)
    if held_known and (cur_q >> QUAT_INDEX_SHIFT) == (held_q >> QUAT_INDEX_SHIFT):
        spread = 0
        for shift in (2 * QUAT_BITS, QUAT_BITS, 0):
            spread |= _zigzag(((cur_q >> shift) & QUAT_MAX) - ((held_q >> shift) & QUAT_MAX))
        widest = _bit_length(spread)
        if widest <= QUAT_DELTA_MAX_WIDTH:
            pos = _put(buf, pos, 1, 1, dry)
            pos = _put(buf, pos, widest, WIDTH_BITS, dry)
            for shift in (2 * QUAT_BITS, QUAT_BITS, 0):
                d = ((cur_q >> shift) & QUAT_MAX) - ((held_q >> shift) & QUAT_MAX)
                pos = _put(buf, pos, _zigzag(d), widest, dry)
            return pos
    pos = _put(buf, pos, 0, 1, dry)
    return _put(buf, pos, cur_q, QUAT_PACKED_BITS, dry)


@njit(cache=True, error_model="numpy")
def _put_full(buf, pos, cur, flags, axis_bits, dry):
    pos = _put(buf, pos, flags, FLAG_BITS, dry)
    pos = _put_part_full(buf, pos, cur, 0, axis_bits, dry)
    if flags & FLAG_LEFT:
        pos = _put_part_full(buf, pos, cur, 1, axis_bits, dry)
    if flags & FLAG_RIGHT:
        pos = _put_part_full(buf, pos, cur, 2, axis_bits, dry)
    return pos


@njit(cache=True, error_model="numpy")
def _put_update(buf, pos, held, held_flags, held_known, cur, flags, axis_bits, dry):
    pos = _put(buf, pos, flags, FLAG_BITS, dry)
    pos = _put_part_delta(buf, pos, held, cur, 0, held_known, axis_bits, dry)
    for part, bit in ((1, FLAG_LEFT), (2, FLAG_RIGHT)):
        if flags & bit:
            if held_flags & bit:
                pos = _put_part_delta(buf, pos, held, cur, part, held_known, axis_bits, dry)
            else:
                pos = _put_part_full(buf, pos, cur, part, axis_bits, dry)
    return pos


@njit(cache=True, error_model="numpy", inline="always")
def _part_count(flags):
    return 1 + (1 if flags & FLAG_LEFT else 0) + (1 if flags & FLAG_RIGHT else 0)


@njit(cache=True, error_model="numpy")
def _changed(held, held_flags, cur, flags):
    if (held_flags & TRACKED_MASK) != (flags & TRACKED_MASK):
        return True
    for a in range(4):
        if held[0, a] != cur[0, a]:
            return True
    for part, bit in ((1, FLAG_LEFT), (2, FLAG_RIGHT)):
        if flags & bit:
            for a in range(4):
                if held[part, a] != cur[part, a]:
                    return True
    return False


@njit(cache=True, error_model="numpy", inline="always")
def _load(held, cur, hist_q, q, tick, held_tick, slot):
    """Copy the avatar's current and held states into scratch arrays; False if the held one is gone."""
    for p in range(3):
        for a in range(4):
            cur[p, a] = q[slot, p, a]
    history = hist_q.shape[0]
    if tick - held_tick >= history:
        return False
    h = held_tick % history
    for p in range(3):
        for a in range(4):
            held[p, a] = hist_q[h, slot, p, a]
    return True


@njit(cache=True, error_model="numpy", inline="always")
def _copy_bits(out, pos, cache_bits, kind, slot, nbits):
    """Append a cached encoding, a 64-bit word at a time."""
    k = 0
    while nbits >= 64:
        pos = _put(out, pos, cache_bits[kind, slot, k], 64, False)
        nbits -= 64
        k += 1
    if nbits:
        pos = _put(out, pos, cache_bits[kind, slot, k], nbits, False)
    return pos


@njit(cache=True, error_model="numpy", inline="always")
def _fill_cache(kind, slot, tick, hist_q, hist_flags, q, flags, axis_bits, held, cur, scratch, cache_bits, cache_len, cache_changed):
    """Encode one avatar once per tick for every client that needs the same bits.

    kind 0: the avatar in full (it is new to the client); kind k >= 1: its update
    from the state it had k ticks ago (the client's held state)."""
    if kind == 0:
        _load(held, cur, hist_q, q, tick, tick, slot)
        cache_changed[kind, slot] = True
        nbits = _put_full(scratch, 0, cur, flags[slot], axis_bits, False)
    else:
        held_tick = tick - kind
        _load(held, cur, hist_q, q, tick, held_tick, slot)
        held_flags = hist_flags[held_tick % hist_q.shape[0], slot]
        changed = _changed(held, held_flags, cur, flags[slot])
        cache_changed[kind, slot] = changed
        nbits = _put_update(scratch, 0, held, held_flags, True, cur, flags[slot], axis_bits, False) if changed else 0
    cache_len[kind, slot] = nbits
    for k in range((nbits + 63) >> 6):
        cache_bits[kind, slot, k] = scratch[k]


# -- delta encoding ------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def encode_snapshots(
    tick, clients, ids, q, flags, hist_q, sel_slot, sel_d2, sel_count, sel_always,
    ring_ids, ring_tick, ring_acc, ring_flags, ring_count, ring_seq, client_seq, client_ack,
    axis_bits, full_rate_m, budget_bits, out, out_offset, out_len, out_updates, out_parts,
    hist_flags, cache_bits, cache_len, cache_tick, cache_changed,
):  # fmt: skip
    """Write every client's snapshot for ``tick`` into ``out`` at ``out_offset[slot]``.

    Each snapshot is delta-encoded against the view the client last acknowledged
    (``client_ack``), kept in the per-client ring; avatars are chosen nearest first
    while the byte budget lasts, far ones less often (a priority accumulator)."""
    ages = cache_len.shape[0] - 1  # updates from 1..ages ticks ago are encoded once per avatar
    ring = ring_ids.shape[1]
    width = ring_ids.shape[2]
    status = np.empty(width, np.int64)
    base_slot = np.empty(width, np.int64)
    base_acc = np.empty(width, np.float64)
    new_slot = np.empty(width, np.int64)
    new_id = np.empty(width, np.int64)
    new_acc = np.empty(width, np.float64)
    fresh = np.empty(width, np.bool_)  # the client's copy is current after this snapshot
    index_of_id = np.full(1 << ID_BITS, -1, np.int64)
    prev_index_of_id = np.full(1 << ID_BITS, -1, np.int64)
    row_id = np.empty(width, np.int64)
    row_tick = np.empty(width, np.int64)
    row_acc = np.empty(width, np.float64)
    row_flags = np.empty(width, np.int64)  # the client's copy is current after this snapshot
    held = np.zeros((3, 4), np.int64)  # scratch copies: no array views in the inner loop
    cur = np.zeros((3, 4), np.int64)
    scratch = np.zeros(cache_bits.shape[2] + 1, np.uint64)
    for ci in range(clients.shape[0]):
        c = clients[ci]
        seq = (client_seq[c] + 1) & 0xFFFF
        row = seq % ring
        prev_row = client_seq[c] % ring
        n_prev = ring_count[c, prev_row] if ring_seq[c, prev_row] == client_seq[c] else 0
        ack = client_ack[c]
        full = True
        base_row = 0
        n_base = 0
        if ack >= 0 and ring_seq[c, ack % ring] == ack and ((seq - ack) & 0xFFFF) < ring:
            full = False
            base_row = ack % ring
            n_base = ring_count[c, base_row]
        used = 48 + 2 * n_base + 1 + NEW_COUNT_BITS
        for b in range(n_base):
            status[b] = REMOVED
            index_of_id[ring_ids[c, base_row, b]] = b  # where each held avatar sits in the baseline
        same_rows = prev_row == base_row and n_prev == n_base and not full
        if not same_rows:
            for j in range(n_prev):
                prev_index_of_id[ring_ids[c, prev_row, j]] = j
        n_new = 0
        for s in range(sel_count[c]):
            slot = sel_slot[c, s]
            vid = ids[slot]
            if s < sel_always[c]:
                weight = 1.0
            else:
                distance = math.sqrt(sel_d2[c, s])
                weight = 1.0 if distance <= full_rate_m else full_rate_m / distance
            b = index_of_id[vid]
            # with prompt acks the previous snapshot is the baseline: no second search
            j = b if same_rows else prev_index_of_id[vid]
            acc = min((ring_acc[c, prev_row, j] if j >= 0 else 0.0) + weight, 2.0)
            if (j < 0 or flags[slot] & FLAG_TELEPORT) and acc < 1.0:
                # a jump goes out now, however far (the flag lives for this tick only), and so does an
                # avatar back in view: the baseline may still hold it, but from before it left
                acc = 1.0
            if b >= 0:
                base_slot[b] = slot
                held_tick = ring_tick[c, base_row, b]
                age = tick - held_tick
                status[b] = KEEP
                fresh[b] = False
                if age <= ages:
                    if cache_tick[age, slot] != tick:
                        _fill_cache(
                            age,
                            slot,
                            tick,
                            hist_q,
                            hist_flags,
                            q,
                            flags,
                            axis_bits,
                            held,
                            cur,
                            scratch,
                            cache_bits,
                            cache_len,
                            cache_changed,
                        )
                        cache_tick[age, slot] = tick
                    known = True
                    changed = cache_changed[age, slot]
                else:
                    known = _load(held, cur, hist_q, q, tick, held_tick, slot)
                    changed = not known or _changed(held, ring_flags[c, base_row, b], cur, flags[slot])
                if not changed:
                    fresh[b] = True
                elif acc >= 1.0:
                    if age <= ages:
                        cost = cache_len[age, slot]
                    else:
                        cost = _put_update(out, 0, held, ring_flags[c, base_row, b], known, cur, flags[slot], axis_bits, True)
                    if used + cost <= budget_bits:
                        used += cost
                        status[b] = UPDATE
                        fresh[b] = True
                        acc -= 1.0
                base_acc[b] = acc
            elif n_new < MAX_NEW:
                if cache_tick[0, slot] != tick:
                    _fill_cache(
                        0, slot, tick, hist_q, hist_flags, q, flags, axis_bits, held, cur, scratch, cache_bits, cache_len, cache_changed
                    )
                    cache_tick[0, slot] = tick
                cost = ID_BITS + cache_len[0, slot]
                if used + cost <= budget_bits:
                    used += cost
                    new_slot[n_new] = slot
                    new_id[n_new] = vid
                    new_acc[n_new] = acc - 1.0 if acc >= 1.0 else 0.0
                    n_new += 1
        for b in range(n_base):
            index_of_id[ring_ids[c, base_row, b]] = -1
        if not same_rows:
            for j in range(n_prev):
                prev_index_of_id[ring_ids[c, prev_row, j]] = -1
        # sort the new avatars by id (few per tick: insertion sort)
        for i in range(1, n_new):
            vid, slot, acc = new_id[i], new_slot[i], new_acc[i]
            j = i - 1
            while j >= 0 and new_id[j] > vid:
                new_id[j + 1], new_slot[j + 1], new_acc[j + 1] = new_id[j], new_slot[j], new_acc[j]
                j -= 1
            new_id[j + 1], new_slot[j + 1], new_acc[j + 1] = vid, slot, acc
        # write
        pos = out_offset[c] * 8
        start = pos
        pos = _put(out, pos, FRAME_SNAPSHOT_V2, 8, False)
        pos = _put(out, pos, 0 if not full else SNAPSHOT_FULL, 8, False)
        pos = _put(out, pos, seq, 16, False)
        pos = _put(out, pos, 0 if full else ack, 16, False)
        updates = n_new
        parts_sent = 0
        for b in range(n_base):
            st = status[b]
            if st == KEEP:
                pos = _put(out, pos, 0, 1, False)
            elif st == REMOVED:
                pos = _put(out, pos, 3, 2, False)
            else:
                slot = base_slot[b]
                age = tick - ring_tick[c, base_row, b]
                updates += 1
                parts_sent += _part_count(flags[slot])
                pos = _put(out, pos, 1, 2, False)
                if age <= ages:
                    pos = _copy_bits(out, pos, cache_bits, age, slot, cache_len[age, slot])
                else:
                    known = _load(held, cur, hist_q, q, tick, ring_tick[c, base_row, b], slot)
                    pos = _put_update(out, pos, held, ring_flags[c, base_row, b], known, cur, flags[slot], axis_bits, False)
        if n_new == 0:
            pos = _put(out, pos, 0, 1, False)
        else:
            pos = _put(out, pos, 1, 1, False)
            pos = _put(out, pos, n_new - 1, NEW_COUNT_BITS, False)
            for i in range(n_new):
                pos = _put(out, pos, new_id[i], ID_BITS, False)
                pos = _copy_bits(out, pos, cache_bits, 0, new_slot[i], cache_len[0, new_slot[i]])
        out_len[c] = (pos - start + 7) // 8
        for i in range(n_new):
            parts_sent += _part_count(flags[new_slot[i]])
        out_updates[c] = updates
        out_parts[c] = parts_sent
        # the view the client will hold after this snapshot: kept + updated + new, by id
        n_row = 0
        i = 0
        b = 0
        while b < n_base or i < n_new:
            if b < n_base and status[b] == REMOVED:
                b += 1
                continue
            if b < n_base and (i >= n_new or ring_ids[c, base_row, b] < new_id[i]):
                row_id[n_row] = ring_ids[c, base_row, b]
                row_acc[n_row] = base_acc[b]
                if fresh[b]:
                    row_tick[n_row] = tick
                    row_flags[n_row] = flags[base_slot[b]] & ~FLAG_TELEPORT
                else:
                    row_tick[n_row] = ring_tick[c, base_row, b]
                    row_flags[n_row] = ring_flags[c, base_row, b]
                b += 1
            else:
                row_id[n_row] = new_id[i]
                row_acc[n_row] = new_acc[i]
                row_tick[n_row] = tick
                row_flags[n_row] = flags[new_slot[i]] & ~FLAG_TELEPORT
                i += 1
            n_row += 1
        for j in range(n_row):
            ring_ids[c, row, j] = row_id[j]
            ring_tick[c, row, j] = row_tick[j]
            ring_acc[c, row, j] = row_acc[j]
            ring_flags[c, row, j] = row_flags[j]
        ring_count[c, row] = n_row
        ring_seq[c, row] = seq
        client_seq[c] = seq
