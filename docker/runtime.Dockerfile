# The task runtime image: Skiff on top of its dependencies (runtime-deps.Dockerfile), with
# `skiff-execute` on PATH, run as uid 1000. Built with networking disabled from wheels/ (Skiff's
# own wheel) in the build context.
ARG DEPS_IMAGE

FROM ${DEPS_IMAGE}
COPY wheels /tmp/wheels
# PYTHONDONTWRITEBYTECODE is for task runs; here pip must write the .pyc files.
RUN PYTHONDONTWRITEBYTECODE= /opt/skiff/bin/pip install --quiet --no-index --no-deps /tmp/wheels/*.whl \
 && /opt/skiff/bin/pip check \
 && rm -rf /tmp/wheels \
 && /opt/skiff/bin/skiff-execute --help > /dev/null
# This skiff-execute can be started ahead of its inputs and wait for the engine's go on stdin
# (sdk/start_gate.py); the engine only starts ahead containers of images that say so.
LABEL skiff.start-gate="stdin"
# It writes the done marker when asked by the go line (sdk/start_gate.py): the engine need not
# wait for Docker to report the exit.
LABEL skiff.done-marker="1"
# Its Skiff has sdk/warm_worker.py: the engine may run tasks in warm workers of this image
# (`--reuse-containers`, sandbox/runtime/warm_pool.py).
LABEL skiff.warm-worker="1"
USER 1000:1000
WORKDIR /home/skiff
