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
USER 1000:1000
WORKDIR /home/skiff
