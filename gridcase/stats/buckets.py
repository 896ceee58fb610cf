"""Hour buckets: medians from histograms stored in the rollups.

A duration is counted in the bucket whose range holds it; a median is read back by walking the
cumulative counts and interpolating linearly inside the bucket that holds the middle case. The error
is at most half a bucket: 5 minutes under 1 h, 30 minutes under 2 days, 3 h under a week, 12 h under
30 days, 3.5 days under 90 days; beyond 90 days the median is reported as "at least 90 days" (2160 h).
"""

from bisect import bisect_right

# Lower edges in hours: 10-minute steps to 1 h, hourly to 48 h, 6-hourly to a week, daily to 30 days,
# weekly to 90 days, then one overflow bucket.
EDGES: tuple[float, ...] = tuple(
    [i / 6 for i in range(6)]
    + [float(h) for h in range(1, 48)]
    + [float(h) for h in range(48, 168, 6)]
    + [float(h) for h in range(168, 720, 24)]
    + [float(h) for h in range(720, 2160, 168)]
    + [2160.0]
)
OVERFLOW = len(EDGES) - 1


def bucket_of(hours: float) -> int:
    """The bucket index of a duration in hours (negative durations count as zero)."""
    if hours <= 0:
        return 0
    return bisect_right(EDGES, hours) - 1


def upper_edge(index: int) -> float:
    return EDGES[index + 1] if index + 1 < len(EDGES) else EDGES[index]


def median(counts: dict[int, int]) -> float | None:
    """The approximate median of a histogram {bucket index: count}; None when it is empty."""
    total = sum(counts.values())
    if total <= 0:
        return None
    half = total / 2
    seen = 0
    for index in sorted(counts):
        n = counts[index]
        if n <= 0:
            continue
        if seen + n >= half:
            low, high = EDGES[index], upper_edge(index)
            value = low + (high - low) * (half - seen) / n
            return round(value, 2)
        seen += n
    return round(EDGES[max(counts)], 2)  # pragma: no cover - unreachable with positive counts


def hours_between(start, end) -> float:
    return (end - start).total_seconds() / 3600
