"""gunicorn reads this file from the working directory (Procfile's ``web``).

With ``PROMETHEUS_MULTIPROC_DIR`` set, each gunicorn worker writes its metrics to files there and
``/metrics`` adds them up; a worker that exits must be marked dead so its live gauges are dropped.
"""

import os


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
