# One image for every container of the stack: the Flask services (under gunicorn), the API
# gateway, the migrate one-shot, the Celery saga workers, beat and Flower. Each container picks
# its process with its own command (see docker-compose.yml and k8s/).
#
#   docker build -t campus-delivery-sagas:dev .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed, unprivileged uid/gid so Kubernetes can check runAsNonRoot against it.
RUN groupadd --system --gid 10001 campus \
    && useradd --system --uid 10001 --gid campus --create-home --home-dir /home/campus campus

WORKDIR /src

# Dependencies first, in their own layer, at the versions pinned in requirements.lock (what the
# tests ran with; `make lock` recompiles it from pyproject.toml), so a code change does not refetch them.
COPY pyproject.toml requirements.lock README.md ./
RUN pip install -r requirements.lock

# Then the code itself (no dev/test extras). The source tree is removed afterwards so the
# installed copy in site-packages is the only one on sys.path.
COPY campus_common ./campus_common
COPY devstack ./devstack
COPY user_service ./user_service
COPY order_service ./order_service
COPY payment_service ./payment_service
COPY notification_service ./notification_service
COPY saga_workers ./saga_workers
COPY api_gateway ./api_gateway
RUN pip install --no-deps . && rm -rf /src

# The code is root-owned and read-only for the process; only /tmp (beat's schedule file,
# gunicorn's heartbeat files) needs to be writable, and /metrics (prometheus_client's
# multiprocess files; compose mounts a shared volume there, which takes this owner).
RUN install -d -o 10001 -g 10001 /metrics
WORKDIR /home/campus
# Mount points of the service keys (compose's named volumes take this ownership on first use).
RUN mkdir -p /keys/public /keys/api_gateway /keys/saga_workers && chown -R 10001:10001 /keys
# Numeric, so the kubelet can verify runAsNonRoot without reading /etc/passwd.
USER 10001:10001

EXPOSE 3100
CMD ["gunicorn", "-c", "python:campus_common.gunicorn_conf", "--worker-class", "gevent", "--bind", "0.0.0.0:3100", "--workers", "2", "api_gateway:create_app()"]
