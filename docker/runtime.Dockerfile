# The task runtime image: Skiff and its runtime dependencies in a venv on PATH, run as uid 1000.
# Built by sandbox/services/images.py with networking disabled: everything comes from the
# wheelhouse in the build context, built on the host by `pip wheel`: wheels/deps/ holds the
# dependencies, wheels/skiff/ Skiff itself, so a change to Skiff reuses the dependency layer.
ARG BASE_IMAGE=skiff-base:bookworm

FROM ${BASE_IMAGE} AS build
# pip compiles every module to .pyc while installing, so task start-up never compiles.
COPY wheels/deps /wheels/deps
RUN python3 -m venv /opt/skiff \
 && /opt/skiff/bin/pip install --quiet --no-index --no-deps /wheels/deps/*.whl
COPY wheels/skiff /wheels/skiff
RUN /opt/skiff/bin/pip install --quiet --no-index --no-deps /wheels/skiff/*.whl \
 && /opt/skiff/bin/pip check \
 && /opt/skiff/bin/pip uninstall --quiet --yes pip setuptools \
 && /opt/skiff/bin/python -m compileall -q -j 0 /opt/skiff/lib \
 && /opt/skiff/bin/skiff-execute --help > /dev/null

# The final stage copies the venv alone, leaving the wheels and the installers behind.
FROM ${BASE_IMAGE}
RUN useradd --uid 1000 --user-group --create-home --shell /bin/sh skiff
COPY --from=build /opt/skiff /opt/skiff
ENV PATH=/opt/skiff/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LANG=C.UTF-8
USER 1000:1000
WORKDIR /home/skiff
