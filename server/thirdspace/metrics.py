"""Prometheus metrics, served at ``GET /metrics``.

The default registry also carries the process collector
(``process_cpu_seconds_total``, ``process_resident_memory_bytes``), which the
load tester reads to report the server's CPU and memory.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

TICK_SECONDS = Histogram(
    "thirdspace_tick_seconds",
    "Time to run one room tick: apply poses, select, quantise, encode and hand out snapshots.",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
)
TICK_LATENESS_SECONDS = Histogram(
    "thirdspace_tick_lateness_seconds",
    "How late each room tick starts against its schedule: the event loop's lag as every room sees it.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BYTES_OUT = Counter("thirdspace_ws_bytes_out_total", "Bytes sent on WebSocket connections.", ["kind"])
BYTES_IN = Counter("thirdspace_ws_bytes_in_total", "Bytes received on WebSocket connections.", ["kind"])
POSES = Counter("thirdspace_poses_total", "Poses received, by outcome.", ["outcome"])
CHAT_MESSAGES = Counter("thirdspace_chat_messages_total", "Chat lines broadcast.")
TRANSLATIONS = Counter("thirdspace_chat_translations_total", "Chat translations delivered, by outcome.", ["outcome"])
TRANSLATION_SECONDS = Histogram(
    "thirdspace_chat_translation_seconds",
    "Time a translation backend took for one line into one language.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
CHAT_SECONDS = Histogram(
    "thirdspace_chat_seconds",
    "From a chat line's arrival to its broadcast (moderation, and in cluster mode its write to Redis).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
)
REDIS_SECONDS = Histogram(
    "thirdspace_redis_seconds",
    "Redis round trips in cluster mode, by operation.",
    ["op"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5),
)
REDIS_ERRORS = Counter("thirdspace_redis_errors_total", "Redis calls that failed or timed out (cluster mode).")
VOICE_PAIR_CHANGES = Counter("thirdspace_voice_pair_changes_total", "Voice pairs formed or ended by the selection (docs/voice.md).")
VOICE_SELECT_SECONDS = Histogram(
    "thirdspace_voice_select_seconds",
    "One room's voice selection: who hears whom, from the sync grid.",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05),
)
VOICE_SIGNALS = Counter("thirdspace_voice_signals_total", "Voice signalling messages, by outcome.", ["outcome"])
