# The Airflow worker image for the KubernetesExecutor (deploy/kubernetes/pod_template.yaml,
# airflow-values.yaml): the shopflow image plus Airflow and the DAGs. Build after the shopflow
# image, from the repo root:
#   docker build -f deploy/airflow.Dockerfile --build-arg SHOPFLOW_TAG=<tag> \
#     -t registry.example.com/shopflow-airflow:<tag> .
# (another registry: change the FROM line, or build with --build-context)
# Airflow lives in its own virtualenv, as in development (make airflow): Airflow 2.10 needs
# SQLAlchemy < 2 and shopflow pins SQLAlchemy 2.1, so the two cannot share one environment.
# The DAG's tasks call the `shopflow` CLI, which stays first on PATH.
ARG SHOPFLOW_TAG=0.1.0
FROM registry.example.com/shopflow:${SHOPFLOW_TAG}

USER root
COPY orchestration/airflow/requirements.txt /opt/airflow-requirements.txt
RUN python -m venv /opt/airflow \
    && /opt/airflow/bin/pip install --no-cache-dir -r /opt/airflow-requirements.txt
ENV PATH="${PATH}:/opt/airflow/bin" \
    AIRFLOW_HOME=/var/lib/shopflow/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/app/orchestration/airflow/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    # the DAG's tasks run this executable (orchestration/airflow/dags/shopflow_daily.py)
    SHOPFLOW_BIN=/usr/local/bin/shopflow
USER 10001:10001

# Batch task pods: no HEALTHCHECK (the chart gives its long-running pods their own probes).
HEALTHCHECK NONE

ENTRYPOINT []
CMD ["airflow", "version"]
