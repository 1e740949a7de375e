# Bazaar's image: the web server, the worker, the scheduled jobs and the migrations
# all run from it, each with its own command (deploy/docker-compose.yml,
# deploy/kubernetes/). It holds no secret: SECRET_KEY, DATABASE_URL and the rest
# come from the environment at run time (deploy/README.md).
#
#   docker build -t bazaar .
#
# Python 3.11 is the version the test suite runs on (pyproject: requires-python >= 3.11).
# Debian's slim image keeps GNU coreutils, whose `date` the monthly statements
# job uses to name the month that just ended.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # gunicorn's worker count when --workers is not given
    # (https://docs.gunicorn.org/en/stable/settings.html#workers).
    WEB_CONCURRENCY=2 \
    # Screenshots live outside the code; mount shared storage here when several
    # web processes or machines serve (deploy/README.md).
    UPLOAD_FOLDER=/var/lib/bazaar/uploads \
    # Where gunicorn puts its control socket (else in $HOME, read-only here).
    XDG_RUNTIME_DIR=/tmp

# A fixed numeric id, so Kubernetes' runAsNonRoot can check it without a passwd lookup.
RUN groupadd --system --gid 10001 bazaar \
    && useradd --system --uid 10001 --gid bazaar --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin bazaar

WORKDIR /app

# The runtime dependencies first, read from pyproject.toml, in their own layer: a code
# change then rebuilds in seconds instead of reinstalling every library.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself, installed from pyproject.toml without its dependencies
# (already there). Editable, like scripts/bootstrap-venv: the app runs from /app,
# where app.py, templates/, static/ and migrations/ are.
COPY . .
RUN pip install --no-deps --editable . \
    # The code stays root's and read-only to the app; only these are its to write:
    # instance/ (SQLite, should anyone run the image without DATABASE_URL) and uploads.
    && mkdir -p /app/instance /var/lib/bazaar/uploads \
    && chown bazaar:bazaar /app/instance /var/lib/bazaar/uploads

USER 10001:10001
EXPOSE 8000

# The web server by default, started like scripts/run does; the worker, the
# migrations and the jobs give their own command (`flask --app app worker`, ...).
# For one /metrics across gunicorn's workers, give the web container
# PROMETHEUS_MULTIPROC_DIR, an empty folder at each start (deploy/docker-compose.yml:
# a tmpfs).
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--timeout", "30", "--access-logfile", "-", \
     "--logger-class", "core.access_log.RedactingLogger", "app:app"]
