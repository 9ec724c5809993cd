"""`skiff image build --imagespec`: local images for flytekit ImageSpecs, under the exact name
flytekit gives them (`ImageSpec.image_name()`), so that `pyflyte register` / `pyflyte run
--remote` find them locally (flytekit then skips its own build) and the sandbox runs them
without pulling anything.

The image is the task image of the spec's packages and requirements (Skiff's base image, wheels
fetched on the host: sandbox/services/task_images.py), plus a thin layer with the spec's `env`
and the `_F_IMG_ID` flytekit sets in ImageSpec images (`ImageSpec.is_container()` reads it in
the container). Spec fields that need a network build or another base (apt or conda packages,
commands, copied files, another base image, CUDA) are refused with what to do instead.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

from sandbox.services.task_images import RequirementsError, build_task_image
from sdk.errors import SkiffError


class ImageSpecError(SkiffError):
    """An ImageSpec target that cannot be read or built as asked (exit code 2)."""


# The spec's fields this build cannot honour offline from Skiff's base image.
_UNSUPPORTED = ("apt_packages", "conda_packages", "conda_channels", "commands", "copy",
                "base_image", "cuda", "cudnn", "entrypoint", "python_exec", "runtime_packages")
_F_IMG_ID = "_F_IMG_ID"  # flytekit.image_spec.image_spec._F_IMG_ID


def _image_spec_class():
    try:
        from flytekit.image_spec.image_spec import ImageSpec
    except ImportError:
        raise ImageSpecError("reading ImageSpecs needs flytekit in the Python that runs skiff; "
                             "pip install flytekit there (the version your tasks use)") from None
    return ImageSpec


def _load_module(target: str):
    """Import `target`: a Python file or a dotted module name (found from the current
    directory, as pyflyte finds it)."""
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    path = Path(target)
    try:
        if target.endswith(".py") or path.is_file():
            if not path.is_file():
                raise ImageSpecError(f"{target}: no such Python file; pass a file or a module "
                                     "that defines your tasks or ImageSpecs")
            resolved = path.resolve()
            try:  # inside the current directory: import it by its dotted name (relative imports)
                name = ".".join(resolved.relative_to(cwd).with_suffix("").parts)
                return importlib.import_module(name)
            except ValueError:
                sys.path.insert(0, str(resolved.parent))
                spec = importlib.util.spec_from_file_location(resolved.stem, resolved)
                module = importlib.util.module_from_spec(spec)
                sys.modules[resolved.stem] = module
                spec.loader.exec_module(module)
                return module
        return importlib.import_module(target)
    except ImageSpecError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's code failed to import: say where
        raise ImageSpecError(f"importing {target} failed: {type(exc).__name__}: {exc}; fix it so "
                             "that `python -c 'import ...'` works from this directory") from None


def find_image_specs(target: str) -> list:
    """The ImageSpecs of `target` ("file.py", "pkg.module", either with ":name"): the named
    ImageSpec (or the ImageSpec of the named task), else every module-level ImageSpec and every
    module-level task's ImageSpec, one per image name."""
    image_spec_class = _image_spec_class()
    module_part, _, attribute = target.rpartition(":")
    if not module_part or "/" in attribute or not attribute.isidentifier():
        module_part, attribute = target, ""
    module = _load_module(module_part)

    def spec_of(value):
        if isinstance(value, image_spec_class):
            return value
        image = getattr(value, "container_image", None)
        return image if isinstance(image, image_spec_class) else None

    if attribute:
        if not hasattr(module, attribute):
            raise ImageSpecError(f"{module_part} has no {attribute!r}; name an ImageSpec "
                                 "variable or a task defined there")
        spec = spec_of(getattr(module, attribute))
        if spec is None:
            raise ImageSpecError(f"{module_part}:{attribute} is neither an ImageSpec nor a task "
                                 "with an ImageSpec as its container_image")
        return [spec]
    specs: dict[str, object] = {}
    for value in vars(module).values():
        spec = spec_of(value)
        if spec is not None:
            specs.setdefault(spec.image_name(), spec)
    if not specs:
        raise ImageSpecError(f"{module_part} defines no ImageSpec and no task with one; point "
                             "skiff image build --imagespec at the module of your tasks")
    return list(specs.values())


def requirements_text(spec, flytekit_version: str) -> str:
    """The pip requirements of `spec`: its packages, then its requirements file; flytekit is
    added at `flytekit_version` when neither names it (flytekit's builders add it too)."""
    lines = [package.strip() for package in spec.packages or []]
    if spec.requirements:
        path = Path(spec.requirements)
        if path.suffix in (".toml", ".lock") or path.name in ("poetry.lock", "uv.lock"):
            raise ImageSpecError(f"ImageSpec {spec.name!r}: requirements {spec.requirements} is a "
                                 "project/lock file; skiff installs a pip requirements file, so "
                                 "export one (uv export / poetry export) and name it instead")
        try:
            lines += [line.strip() for line in path.read_text().splitlines()
                      if line.strip() and not line.strip().startswith("#")]
        except OSError as exc:
            raise ImageSpecError(f"ImageSpec {spec.name!r}: cannot read its requirements file "
                                 f"{spec.requirements}: {exc.strerror}") from None
    if not any(_project_name(line) == "flytekit" for line in lines):
        lines.insert(0, f"flytekit=={flytekit_version}")
    return "".join(line + "\n" for line in lines)


def _project_name(requirement: str) -> str:
    name = requirement
    for separator in "=<>!~[; @":
        name = name.split(separator, 1)[0]
    return name.strip().lower().replace("_", "-")


def check_supported(spec) -> None:
    from flytekit.constants import CopyFileDetection

    used = [field for field in _UNSUPPORTED if getattr(spec, field, None)]
    if spec.source_copy_mode not in (None, CopyFileDetection.NO_COPY):
        used.append("source_copy_mode/source_root (files copied into the image)")
    if spec.pip_index or spec.pip_extra_index_url or spec.pip_extra_args:
        used.append("pip_index/pip_extra_index_url/pip_extra_args")
    if used:
        raise ImageSpecError(
            f"ImageSpec {spec.name!r} sets {', '.join(used)}, which skiff image build cannot "
            "do offline from its base image; build an image with those yourself and give it "
            f"the ImageSpec's name: docker tag YOUR_IMAGE {spec.image_name()}")


def image_env(spec) -> dict[str, str]:
    """The variables of the spec's image: its `env` and flytekit's image id."""
    return {**(spec.env or {}), _F_IMG_ID: spec.id}


def build_image_spec(spec, say=print, client=None) -> str:
    """Build (or re-tag) the local image of `spec` under `spec.image_name()`; returns it."""
    from importlib.metadata import version

    check_supported(spec)
    name = spec.image_name()
    text = requirements_text(spec, version("flytekit"))
    with tempfile.TemporaryDirectory(prefix="skiff-imagespec-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(text)
        try:
            # the packages' image is shared by content with any other spec of the same list
            return build_task_image(requirements, name, client=client, say=say,
                                    env=image_env(spec))
        except RequirementsError as exc:
            raise ImageSpecError(f"ImageSpec {spec.name!r}: {exc}") from None


def describe(spec) -> str:
    """One line naming a spec and its packages, for progress output."""
    return f"ImageSpec {spec.name!r} -> {spec.image_name()} ({json.dumps(spec.packages or [])})"
