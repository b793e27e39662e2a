"""numba kernels for one room tick: quantise, grid, interest, delta encode.

Every kernel works in place on arrays the engine preallocates; none allocates
per visitor.  ``reference.py`` holds the plain twin of each; the property
tests check that the two agree bit for bit.  All kernels use ``cache=True``
and are compiled by :func:`warm_up` when the server starts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numba.extending import intrinsic

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


def _borrow_typer(typingctx, arr):
    """The same array without its reference count: passing it to helpers costs no atomic increments.

    Numba counts references to an array each time it is bound to a new name, and helpers
    bind their arguments, so a hot loop calling them spends much of its time on locked increments
    and decrements.  A borrowed array has no owner to count; the caller's array keeps it alive."""

    def codegen(context, builder, signature, args):
        aty = signature.args[0]
        src = context.make_array(aty)(context, builder, value=args[0])
        dst = context.make_array(aty)(context, builder)
        context.populate_array(dst, data=src.data, shape=src.shape, strides=src.strides, itemsize=src.itemsize, meminfo=None)
        return dst._getvalue()

    return arr(arr), codegen


_borrow: Any = intrinsic(_borrow_typer)


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


@njit(cache=True, error_model="numpy", inline="always")
def _quat_component(k, x, y, z, w):
    if k == 0:
        return x
    if k == 1:
        return y
    if k == 2:
        return z
    return w


@njit(cache=True, error_model="numpy")
def pack_quaternion(x, y, z, w):
    x, y, z, w = np.float64(x), np.float64(y), np.float64(z), np.float64(w)
    norm = math.sqrt(x * x + y * y + z * z + w * w)
    if norm == 0.0:
        w = 1.0
        norm = 1.0
    largest = 0
    for k in range(1, 4):
        if abs(_quat_component(k, x, y, z, w)) > abs(_quat_component(largest, x, y, z, w)):
            largest = k
    sign = -1.0 if _quat_component(largest, x, y, z, w) < 0 else 1.0
    packed = np.int64(largest) << QUAT_INDEX_SHIFT
    shift = 2 * QUAT_BITS
    for k in range(4):
        if k == largest:
            continue
        c = sign * _quat_component(k, x, y, z, w) / norm
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
    """Counting sort of posed avatars into a uniform xz grid (a spatial hash rebuilt each tick).

    Avatars outside the bounds go to the edge cells.  Within a cell, avatars are in slot order."""
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
    # place each avatar at its cell's fill point (cell_start[cell] runs up to the next cell's start) ...
    for i in range(positions.shape[0]):
        cell = cell_of[i]
        if cell >= 0:
            cell_items[cell_start[cell]] = i
            cell_start[cell] += 1
    # ... then shift the starts back by one cell
    for c in range(n_cells, 0, -1):
        cell_start[c] = cell_start[c - 1]
    cell_start[0] = 0


@njit(cache=True, error_model="numpy")
def sort_by_cell(positions, ids, cell_items, count, cell_pos, cell_id):
    """Copy the posed avatars' positions and ids in grid order, so a cell is read as one run of memory."""
    for j in range(count):
        s = cell_items[j]
        cell_pos[j, 0] = positions[s, 0]
        cell_pos[j, 1] = positions[s, 1]
        cell_pos[j, 2] = positions[s, 2]
        cell_id[j] = ids[s]


@njit(cache=True, error_model="numpy", inline="always")
def _before(d2_a, id_a, d2_b, id_b):
    return d2_a < d2_b or (d2_a == d2_b and id_a < id_b)


DISTANCE_BUCKETS = 128
EDGE_SLACK_M = 1e-6  # cells are widened by this much when culled, against rounding at their borders


@njit(cache=True, error_model="numpy")
def _gather(
    c, px, py, pz, reach2, positions, is_always, bounds_min, cell_m, grid_x, grid_z, cell_start, cell_items, cell_pos, cell_id,
    cand_d2, cand_id, cand_slot,
):  # fmt: skip
    """Every other avatar within ``sqrt(reach2)`` of (px, py, pz), except the always-visible ones; return how many.

    Only the cells that overlap the disc are read.  Edge cells reach out to infinity (they hold the avatars
    beyond the bounds), so culling them by distance is safe wherever the client stands."""
    reach = math.sqrt(reach2)
    gx0 = min(max(math.floor((px - reach - bounds_min[0]) / cell_m) - 1, 0), grid_x - 1)
    gx1 = min(max(math.floor((px + reach - bounds_min[0]) / cell_m) + 1, 0), grid_x - 1)
    gz0 = min(max(math.floor((pz - reach - bounds_min[2]) / cell_m) - 1, 0), grid_z - 1)
    gz1 = min(max(math.floor((pz + reach - bounds_min[2]) / cell_m) + 1, 0), grid_z - 1)
    found = 0
    for gz in range(gz0, gz1 + 1):
        z_lo = -math.inf if gz == 0 else bounds_min[2] + gz * cell_m - EDGE_SLACK_M
        z_hi = math.inf if gz == grid_z - 1 else bounds_min[2] + (gz + 1) * cell_m + EDGE_SLACK_M
        dz = z_lo - pz if pz < z_lo else (pz - z_hi if pz > z_hi else 0.0)
        dz2 = dz * dz
        if dz2 > reach2:
            continue
        for gx in range(gx0, gx1 + 1):
            x_lo = -math.inf if gx == 0 else bounds_min[0] + gx * cell_m - EDGE_SLACK_M
            x_hi = math.inf if gx == grid_x - 1 else bounds_min[0] + (gx + 1) * cell_m + EDGE_SLACK_M
            dx = x_lo - px if px < x_lo else (px - x_hi if px > x_hi else 0.0)
            if dx * dx + dz2 > reach2:
                continue
            cell = gz * grid_x + gx
            for j in range(cell_start[cell], cell_start[cell + 1]):
                ex = px - cell_pos[j, 0]
                ey = py - cell_pos[j, 1]
                ez = pz - cell_pos[j, 2]
                d2 = ex * ex + ey * ey + ez * ez
                if d2 > reach2:
                    continue
                s = cell_items[j]
                if s == c or is_always[s]:
                    continue
                cand_d2[found] = d2
                cand_id[found] = cell_id[j]
                cand_slot[found] = s
                found += 1
    return found


@njit(cache=True, error_model="numpy")
def select_interest(
    clients, positions, has_pose, ids, always_slots, radius_m, k, bounds_min, cell_m, grid_x, grid_z,
    cell_start, cell_items, cell_pos, cell_id, is_always, sel_slot, sel_d2, sel_count, sel_always, sel_kth_d2,
    cand_d2, cand_id, cand_slot, cand_bucket, order, counts,
):  # fmt: skip
    """For each client: the always-visible avatars (by id), then the k nearest within radius, nearest first.

    The search starts from a disc just wider than last tick's k-th nearest (``sel_kth_d2``) and widens
    until it holds k candidates or reaches the radius; since every avatar inside the disc is a
    candidate, the k nearest of them are the k nearest of all.  Candidates are counting-sorted into
    distance-squared buckets (monotonic in distance), then each bucket is ordered by (distance
    squared, id): the same order as a full sort, without one."""
    r2 = radius_m * radius_m
    positions, cell_start, cell_items, cell_pos, cell_id, is_always = (
        _borrow(positions),
        _borrow(cell_start),
        _borrow(cell_items),
        _borrow(cell_pos),
        _borrow(cell_id),
        _borrow(is_always),
    )
    cand_d2, cand_id, cand_slot, bounds_min = _borrow(cand_d2), _borrow(cand_id), _borrow(cand_slot), _borrow(bounds_min)
    for a in range(always_slots.shape[0]):
        is_always[always_slots[a]] = True
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
            sel_kth_d2[c] = -1.0
            continue
        px = np.float64(positions[c, 0])
        py = np.float64(positions[c, 1])
        pz = np.float64(positions[c, 2])
        last = sel_kth_d2[c]
        reach = radius_m if last < 0 else math.sqrt(last) + 0.25 + 0.5 * cell_m
        while True:
            reach2 = r2 if reach >= radius_m else reach * reach
            found = _gather(
                c, px, py, pz, reach2, positions, is_always, bounds_min, cell_m, grid_x, grid_z, cell_start, cell_items,
                cell_pos, cell_id, cand_d2, cand_id, cand_slot,
            )  # fmt: skip
            if found >= k or reach2 == r2:
                break
            reach = reach * 2.0 + cell_m
        for b in range(DISTANCE_BUCKETS + 1):
            counts[b] = 0
        scale = DISTANCE_BUCKETS / reach2 if reach2 > 0 else 0.0
        for j in range(found):
            bucket = min(int(cand_d2[j] * scale), DISTANCE_BUCKETS - 1)
            cand_bucket[j] = bucket
            counts[bucket + 1] += 1
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
        sel_kth_d2[c] = cand_d2[order[take - 1]] if take == k else -1.0
    for a in range(always_slots.shape[0]):
        is_always[always_slots[a]] = False


@njit(cache=True, error_model="numpy", inline="always")
def _distance2(positions, a, b):
    dx = np.float64(positions[a, 0]) - np.float64(positions[b, 0])
    dy = np.float64(positions[a, 1]) - np.float64(positions[b, 1])
    dz = np.float64(positions[a, 2]) - np.float64(positions[b, 2])
    return dx * dx + dy * dy + dz * dz


# -- bit writing ---------------------------------------------------------------------
#
# A stream is written through three values kept in registers: ``wi``, the index of the word being
# filled, ``acc``, its bits so far, and ``n``, how many.  A word is stored once, when it is full
# (and the last one by ``_flush``).  Bits go least significant first, so on this little-endian
# layout the words read as the bytes of the stream.


@njit(cache=True, error_model="numpy", inline="always")
def _w(buf, wi, acc, n, value, nbits):
    """Append the low ``nbits`` (0 to 64) of ``value``."""
    v = np.uint64(value)
    if nbits < 64:
        v &= (np.uint64(1) << np.uint64(nbits)) - np.uint64(1)
    acc |= v << np.uint64(n)
    n += nbits
    if n >= 64:
        buf[wi] = acc
        wi += 1
        n -= 64
        acc = v >> np.uint64(nbits - n) if n > 0 else np.uint64(0)
    return wi, acc, n


@njit(cache=True, error_model="numpy", inline="always")
def _flush(buf, wi, acc, n):
    """Store the last, partial word (its unused bits are zero); return the stream's end in words."""
    if n > 0:
        buf[wi] = acc
        return wi + 1
    return wi


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


@njit(cache=True, error_model="numpy", inline="always")
def _part_full(buf, wi, acc, n, cur, slot, part, axis_bits):
    for a in range(3):
        wi, acc, n = _w(buf, wi, acc, n, cur[slot, part, a], axis_bits[a])
    return _w(buf, wi, acc, n, cur[slot, part, 3], QUAT_PACKED_BITS)


@njit(cache=True, error_model="numpy")
def _part_delta(buf, wi, acc, n, held, cur, slot, part, known, axis_bits):
    """A part the client already has: 1 bit changed, then position and rotation deltas.

    ``held`` and ``cur`` are (slots, 3, 4) states; ``held`` is read only when ``known``."""
    same = known
    if known:
        for a in range(4):
            if held[slot, part, a] != cur[slot, part, a]:
                same = False
    if same:
        return _w(buf, wi, acc, n, 0, 1)
    wi, acc, n = _w(buf, wi, acc, n, 1, 1)
    # position
    width = WIDTH_ABSOLUTE
    if known:
        d0 = _zigzag(np.int64(cur[slot, part, 0]) - np.int64(held[slot, part, 0]))
        d1 = _zigzag(np.int64(cur[slot, part, 1]) - np.int64(held[slot, part, 1]))
        d2 = _zigzag(np.int64(cur[slot, part, 2]) - np.int64(held[slot, part, 2]))
        widest = _bit_length(d0 | d1 | d2)  # the widest of the three zigzags has the bit length of their OR
        if widest < WIDTH_ABSOLUTE:
            width = widest
    wi, acc, n = _w(buf, wi, acc, n, width, WIDTH_BITS)
    if width == WIDTH_ABSOLUTE:
        for a in range(3):
            wi, acc, n = _w(buf, wi, acc, n, cur[slot, part, a], axis_bits[a])
    else:
        wi, acc, n = _w(buf, wi, acc, n, d0, width)
        wi, acc, n = _w(buf, wi, acc, n, d1, width)
        wi, acc, n = _w(buf, wi, acc, n, d2, width)
    # rotation
    cur_q = np.int64(cur[slot, part, 3])
    held_q = np.int64(held[slot, part, 3]) if known else np.int64(-1)
    if known and cur_q == held_q:
        return _w(buf, wi, acc, n, 0, 1)
    wi, acc, n = _w(buf, wi, acc, n, 1, 1)
    if known and (cur_q >> QUAT_INDEX_SHIFT) == (held_q >> QUAT_INDEX_SHIFT):
        e0 = _zigzag(((cur_q >> (2 * QUAT_BITS)) & QUAT_MAX) - ((held_q >> (2 * QUAT_BITS)) & QUAT_MAX))
        e1 = _zigzag(((cur_q >> QUAT_BITS) & QUAT_MAX) - ((held_q >> QUAT_BITS) & QUAT_MAX))
        e2 = _zigzag((cur_q & QUAT_MAX) - (held_q & QUAT_MAX))
        widest = _bit_length(e0 | e1 | e2)
        if widest <= QUAT_DELTA_MAX_WIDTH:
            wi, acc, n = _w(buf, wi, acc, n, 1, 1)
            wi, acc, n = _w(buf, wi, acc, n, widest, WIDTH_BITS)
            wi, acc, n = _w(buf, wi, acc, n, e0, widest)
            wi, acc, n = _w(buf, wi, acc, n, e1, widest)
            return _w(buf, wi, acc, n, e2, widest)
    wi, acc, n = _w(buf, wi, acc, n, 0, 1)
    return _w(buf, wi, acc, n, cur_q, QUAT_PACKED_BITS)


@njit(cache=True, error_model="numpy")
def _full(buf, wi, acc, n, cur, slot, flags, axis_bits):
    wi, acc, n = _w(buf, wi, acc, n, flags, FLAG_BITS)
    wi, acc, n = _part_full(buf, wi, acc, n, cur, slot, 0, axis_bits)
    if flags & FLAG_LEFT:
        wi, acc, n = _part_full(buf, wi, acc, n, cur, slot, 1, axis_bits)
    if flags & FLAG_RIGHT:
        wi, acc, n = _part_full(buf, wi, acc, n, cur, slot, 2, axis_bits)
    return wi, acc, n


@njit(cache=True, error_model="numpy")
def _update(buf, wi, acc, n, held, held_flags, known, cur, slot, flags, axis_bits):
    wi, acc, n = _w(buf, wi, acc, n, flags, FLAG_BITS)
    wi, acc, n = _part_delta(buf, wi, acc, n, held, cur, slot, 0, known, axis_bits)
    if flags & FLAG_LEFT:
        if held_flags & FLAG_LEFT:
            wi, acc, n = _part_delta(buf, wi, acc, n, held, cur, slot, 1, known, axis_bits)
        else:
            wi, acc, n = _part_full(buf, wi, acc, n, cur, slot, 1, axis_bits)
    if flags & FLAG_RIGHT:
        if held_flags & FLAG_RIGHT:
            wi, acc, n = _part_delta(buf, wi, acc, n, held, cur, slot, 2, known, axis_bits)
        else:
            wi, acc, n = _part_full(buf, wi, acc, n, cur, slot, 2, axis_bits)
    return wi, acc, n


@njit(cache=True, error_model="numpy", inline="always")
def _part_count(flags):
    return 1 + (1 if flags & FLAG_LEFT else 0) + (1 if flags & FLAG_RIGHT else 0)


@njit(cache=True, error_model="numpy", inline="always")
def _changed(held, held_flags, cur, slot, flags):
    if (held_flags & TRACKED_MASK) != (flags & TRACKED_MASK):
        return True
    for a in range(4):
        if held[slot, 0, a] != cur[slot, 0, a]:
            return True
    if flags & FLAG_LEFT:
        for a in range(4):
            if held[slot, 1, a] != cur[slot, 1, a]:
                return True
    if flags & FLAG_RIGHT:
        for a in range(4):
            if held[slot, 2, a] != cur[slot, 2, a]:
                return True
    return False


@njit(cache=True, error_model="numpy", inline="always")
def _copy_bits(buf, wi, acc, n, words, base, nbits):
    """Append ``nbits`` of a cached encoding (``words[base:]``), a 64-bit word at a time."""
    k = base
    while nbits >= 64:
        wi, acc, n = _w(buf, wi, acc, n, words[k], 64)
        nbits -= 64
        k += 1
    if nbits:
        wi, acc, n = _w(buf, wi, acc, n, words[k], nbits)
    return wi, acc, n


@njit(cache=True, error_model="numpy")
def _fill_cache(kind, slot, tick, hist_q, hist_flags, q, flags, axis_bits, cache_words, cache_len, cache_changed):
    """Encode one avatar once per tick for every client that needs the same bits.

    kind 0: the avatar in full (it is new to the client); kind k >= 1: its update
    from the state it had k ticks ago (the client's held state)."""
    per = cache_words.shape[0] // (cache_len.shape[0] * cache_len.shape[1])
    base = (kind * cache_len.shape[1] + slot) * per
    if kind == 0:
        cache_changed[kind, slot] = True
        wi, acc, n = _full(cache_words, base, np.uint64(0), 0, q, slot, flags[slot], axis_bits)
    else:
        h = (tick - kind) % hist_q.shape[0]
        held = hist_q[h]
        held_flags = hist_flags[h, slot]
        if not _changed(held, held_flags, q, slot, flags[slot]):
            cache_changed[kind, slot] = False
            cache_len[kind, slot] = 0
            return
        cache_changed[kind, slot] = True
        wi, acc, n = _update(cache_words, base, np.uint64(0), 0, held, held_flags, True, q, slot, flags[slot], axis_bits)
    cache_len[kind, slot] = (wi - base) * 64 + n
    _flush(cache_words, wi, acc, n)


# -- delta encoding ------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def encode_snapshots(
    tick, clients, ids, q, flags, hist_q, sel_slot, sel_d2, sel_count, sel_always,
    ring_ids, ring_tick, ring_acc, ring_flags, ring_count, ring_seq, client_seq, client_ack,
    axis_bits, full_rate_m, budget_bits, out, out_offset, out_len, out_updates, out_parts,
    hist_flags, cache_bits, cache_len, cache_tick, cache_changed,
    status, base_slot, base_acc, new_slot, new_id, new_acc, fresh, index_of_id, prev_index_of_id,
    row_id, row_tick, row_acc, row_flags, scratch,
):  # fmt: skip
    """Write every client's snapshot for ``tick`` into ``out`` at ``out_offset[slot]`` (bytes, a multiple of 8).

    Each snapshot is delta-encoded against the view the client last acknowledged
    (``client_ack``), kept in the per-client ring; avatars are chosen nearest first
    while the byte budget lasts, far ones less often (a priority accumulator).
    The arrays after ``cache_changed`` are scratch space of the engine's; the two id
    tables must be all -1 on entry and are left so."""
    out, q, hist_q, hist_flags, flags, ids = _borrow(out), _borrow(q), _borrow(hist_q), _borrow(hist_flags), _borrow(flags), _borrow(ids)
    cache_bits, cache_len, cache_tick, cache_changed = _borrow(cache_bits), _borrow(cache_len), _borrow(cache_tick), _borrow(cache_changed)
    ring_ids, ring_tick, ring_acc, ring_flags = _borrow(ring_ids), _borrow(ring_tick), _borrow(ring_acc), _borrow(ring_flags)
    axis_bits, scratch = _borrow(axis_bits), _borrow(scratch)
    ages = cache_len.shape[0] - 1  # updates from 1..ages ticks ago are encoded once per avatar
    history = hist_q.shape[0]
    ring = ring_ids.shape[1]
    cache_words = cache_bits.reshape(-1)
    per = cache_bits.shape[2]
    n_slots = cache_bits.shape[1]
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
                        _fill_cache(age, slot, tick, hist_q, hist_flags, q, flags, axis_bits, cache_words, cache_len, cache_changed)
                        cache_tick[age, slot] = tick
                    changed = cache_changed[age, slot]
                    cost = cache_len[age, slot]
                else:  # an old baseline: this client's own encoding, into scratch, for its cost
                    known = age < history
                    held = hist_q[held_tick % history]
                    held_flags = ring_flags[c, base_row, b]
                    changed = not known or _changed(held, held_flags, q, slot, flags[slot])
                    cost = 0
                    if changed and acc >= 1.0:
                        wi, wacc, wn = _update(scratch, 0, np.uint64(0), 0, held, held_flags, known, q, slot, flags[slot], axis_bits)
                        cost = wi * 64 + wn
                if not changed:
                    fresh[b] = True
                elif acc >= 1.0:
                    if used + cost <= budget_bits:
                        used += cost
                        status[b] = UPDATE
                        fresh[b] = True
                        acc -= 1.0
                base_acc[b] = acc
            elif n_new < MAX_NEW:
                if cache_tick[0, slot] != tick:
                    _fill_cache(0, slot, tick, hist_q, hist_flags, q, flags, axis_bits, cache_words, cache_len, cache_changed)
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
        w0 = out_offset[c] // 8
        wi, wacc, wn = w0, np.uint64(0), 0
        wi, wacc, wn = _w(out, wi, wacc, wn, FRAME_SNAPSHOT_V2 | ((0 if not full else SNAPSHOT_FULL) << 8) | (seq << 16), 32)
        wi, wacc, wn = _w(out, wi, wacc, wn, 0 if full else ack, 16)
        updates = n_new
        parts_sent = 0
        for b in range(n_base):
            st = status[b]
            if st == KEEP:
                wi, wacc, wn = _w(out, wi, wacc, wn, 0, 1)
            elif st == REMOVED:
                wi, wacc, wn = _w(out, wi, wacc, wn, 3, 2)
            else:
                slot = base_slot[b]
                held_tick = ring_tick[c, base_row, b]
                age = tick - held_tick
                updates += 1
                parts_sent += _part_count(flags[slot])
                wi, wacc, wn = _w(out, wi, wacc, wn, 1, 2)
                if age <= ages:
                    wi, wacc, wn = _copy_bits(out, wi, wacc, wn, cache_words, (age * n_slots + slot) * per, cache_len[age, slot])
                else:
                    held = hist_q[held_tick % history]
                    wi, wacc, wn = _update(
                        out, wi, wacc, wn, held, ring_flags[c, base_row, b], age < history, q, slot, flags[slot], axis_bits
                    )
        if n_new == 0:
            wi, wacc, wn = _w(out, wi, wacc, wn, 0, 1)
        else:
            wi, wacc, wn = _w(out, wi, wacc, wn, 1 | ((n_new - 1) << 1), 1 + NEW_COUNT_BITS)
            for i in range(n_new):
                slot = new_slot[i]
                wi, wacc, wn = _w(out, wi, wacc, wn, new_id[i], ID_BITS)
                wi, wacc, wn = _copy_bits(out, wi, wacc, wn, cache_words, slot * per, cache_len[0, slot])
        out_len[c] = ((wi - w0) * 64 + wn + 7) // 8
        _flush(out, wi, wacc, wn)
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
