"""gunicorn's settings for Bazaar. gunicorn reads this file by itself when started
from the project's directory (``gunicorn app:app``, as scripts/run, the Dockerfile
and deploy/ do); options on the command line win over it.
https://docs.gunicorn.org/en/stable/configure.html#configuration-file

The number of workers comes from ``--workers`` or ``WEB_CONCURRENCY`` (one per
core). Each worker runs 4 threads: while one request waits on PostgreSQL or
OpenSearch, another uses the CPU. bench/pages measured it against plain sync
workers (docs/performance.md#pages).
"""

worker_class = "gthread"
threads = 4


def post_worker_init(worker):
    """Each worker renders the public pages once before it accepts a connection, so
    the first visitor after a start or a reload is not the one who waits
    (storefront/warmup.py)."""
    from storefront.warmup import warm_up

    warm_up(worker.wsgi)
