# mimic: bot, web gallery and worker. CPU by default; for GPUs pick a CUDA base and a CUDA torch build:
#   docker build --build-arg BASE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 \
#                --build-arg TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128" .
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ARG TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VAR_DIR=/var/lib/mimic

RUN if ! command -v python3.11 >/dev/null && ! command -v python3 >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends python3 python3-venv python3-pip && \
      rm -rf /var/lib/apt/lists/*; fi \
 && apt-get update && apt-get install -y --no-install-recommends libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /app
# exactly the runtime lock (hashes checked; one OpenCV, the headless one), then torch, then mimic without resolving
COPY requirements ./requirements
RUN pip install --require-hashes --no-deps -r requirements/runtime.txt && pip install ${TORCH_SPEC}
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY engine ./engine
COPY verification ./verification
COPY data ./data
RUN pip install --no-deps --no-build-isolation . && pip check && useradd --create-home --uid 10001 mimic && mkdir -p /var/lib/mimic \
 && chown mimic /var/lib/mimic
USER mimic
VOLUME /var/lib/mimic
EXPOSE 8080
ENV WEB_HOST=0.0.0.0
CMD ["mimic", "run"]
