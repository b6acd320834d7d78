"""Prometheus metrics, read from the job store at scrape time so that they count the work of
every worker on every machine, not just this process."""

from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from .store import DONE, FAILED, QUEUED, RUNNING, Store

# Seconds; analyses of short clips take about a second, long recordings minutes.
DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)


class JobMetrics(Collector):
    def __init__(self, store: Store, broker_depth: Callable[[], int | None]):
        self.store = store
        self.broker_depth = broker_depth

    def collect(self) -> Iterator:
        by_state = self.store.jobs_by_state()
        jobs = GaugeMetricFamily("verity_jobs", "Jobs by state", labels=["state"])
        for state in (QUEUED, RUNNING, DONE, FAILED):
            jobs.add_metric([state], by_state.get(state, 0))
        yield jobs

        durations = self.store.analysis_durations()
        buckets, total = [], 0.0
        for bound in DURATION_BUCKETS:
            buckets.append((str(float(bound)), sum(1 for d in durations if d <= bound)))
        buckets.append(("+Inf", len(durations)))
        total = sum(durations)
        yield HistogramMetricFamily(
            "verity_analysis_duration_seconds",
            "Wall time of finished analyses",
            buckets=buckets,
            sum_value=total,
        )

        depth = self.broker_depth()
        queue = GaugeMetricFamily(
            "verity_queue_depth", "Jobs waiting for a worker (messages in the broker's queue)"
        )
        queue.add_metric([], by_state.get(QUEUED, 0) if depth is None else depth)
        yield queue
