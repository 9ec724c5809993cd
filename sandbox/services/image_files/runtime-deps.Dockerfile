# The lower half of the task runtime image: Skiff's dependencies in a venv at /opt/skiff.
# Built by sandbox/services/images.py with networking disabled, from wheels/ in the build
# context (a host-side `pip wheel`). It changes only when a dependency does, so rebuilding the
# runtime image after a change to Skiff adds one small layer on top of this one.
ARG BASE_IMAGE=skiff-base:bookworm

FROM ${BASE_IMAGE} AS build
COPY wheels /wheels
# pip compiles every module to .pyc while installing, so task start-up never compiles.
RUN python3 -m venv /opt/skiff \
 && /opt/skiff/bin/pip install --quiet --no-index --no-deps /wheels/*.whl \
 && /opt/skiff/bin/pip uninstall --quiet --yes setuptools \
 && /opt/skiff/bin/python -m compileall -q -j 0 /opt/skiff/lib

# Copy the venv alone, leaving the wheels behind.
FROM ${BASE_IMAGE}
RUN useradd --uid 1000 --user-group --create-home --shell /bin/sh skiff
COPY --from=build /opt/skiff /opt/skiff
ENV PATH=/opt/skiff/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LANG=C.UTF-8
WORKDIR /home/skiff
