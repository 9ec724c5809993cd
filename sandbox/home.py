"""Where a sandbox keeps its state: SKIFF_HOME, the shared cache and state.json.

Every other part finds MinIO, the store and the runtime image through `SandboxState.load()`,
so the layout is decided here only (see docs/contracts.md, "Sandbox home").
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from sdk.atomic_file import write_atomically
from sdk.errors import SandboxError

BUCKET = "skiff"


def skiff_home() -> Path:
    """The sandbox's own directory: $SKIFF_HOME, default ~/.skiff."""
    return Path(os.environ.get("SKIFF_HOME") or Path.home() / ".skiff").expanduser()


def cache_dir() -> Path:
    """What sandboxes share (MinIO binary, wheelhouse): $SKIFF_CACHE_DIR, default ~/.cache/skiff."""
    return Path(os.environ.get("SKIFF_CACHE_DIR") or Path.home() / ".cache" / "skiff").expanduser()


def state_path(home: Path | None = None) -> Path:
    return (home or skiff_home()) / "state.json"


def minio_data_dir(home: Path | None = None) -> Path:
    return (home or skiff_home()) / "minio" / "data"


def logs_dir(home: Path | None = None) -> Path:
    return (home or skiff_home()) / "logs"


def default_database_url(home: Path | None = None) -> str:
    """SKIFF_DATABASE_URL when set, else the SQLite file in the home."""
    override = os.environ.get("SKIFF_DATABASE_URL")
    if override:
        return override
    return f"sqlite:///{(home or skiff_home()) / 'skiff.db'}"


PRIVATE_DIR_MODE, PRIVATE_FILE_MODE = 0o700, 0o600
# Processes that write into the home (MinIO, the admin server and the runners it starts) run
# with this umask, so whatever they create is the user's alone.
PRIVATE_UMASK = 0o077


SHARED_BUNDLES_DIR = "bundles"  # <home>/bundles: see sandbox/engine/shared_bundle.py


def make_private(home: Path) -> None:
    """Create the home as 0700 and take group/other access away from what is in it: the
    store, logs and compiled packages hold workflow data and execution details, state.json
    the storage secret. Left alone, as the 0700 home already closes them to other users:
    MinIO's data directory (MinIO runs under PRIVATE_UMASK) and the unpacked code bundles,
    which task containers (another uid) read through a bind mount."""
    home.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    os.chmod(home, PRIVATE_DIR_MODE)
    skip = {minio_data_dir(home), home / SHARED_BUNDLES_DIR}
    for directory, subdirs, files in os.walk(home):
        subdirs[:] = [d for d in subdirs if Path(directory, d) not in skip]
        for name in subdirs:
            _restrict(Path(directory, name), PRIVATE_DIR_MODE)
        for name in files:
            _restrict(Path(directory, name), PRIVATE_FILE_MODE)


def open_private_log(path: Path):
    """Open a log in the home for appending, created 0600 (it may show inputs and errors)."""
    return open(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE), "ab")


def _restrict(path: Path, mode: int) -> None:
    try:
        info = path.lstat()
        if not path.is_symlink() and info.st_mode & 0o077:
            os.chmod(path, info.st_mode & mode & 0o777)
    except FileNotFoundError:
        pass  # removed meanwhile (a temporary file)


def shown_database_url(url: str) -> str:
    """The URL with its password (if any) replaced by ***, for output and logs."""
    import re

    return re.sub(r"^([^:/]+://[^:/@]*:)[^@]*@", r"\1***@", url)


@dataclasses.dataclass
class SandboxState:
    """What `skiff sandbox up` recorded; the secret lives only here (file mode 0600)."""

    home: str
    minio_endpoint: str = ""  # http://127.0.0.1:PORT
    minio_console: str = ""
    access_key: str = ""
    secret_key: str = dataclasses.field(default="", repr=False)
    bucket: str = BUCKET
    minio_pid: int | None = None
    database_url: str = ""
    runtime_image: str = ""  # skiff-runtime:<tag>
    admin_endpoint: str = ""  # 127.0.0.1:PORT of the AdminService / Skiff API server
    admin_pid: int | None = None
    # the MinIO endpoint the running admin server was started with: when MinIO had to move to
    # another port, `up` restarts the admin so that it follows
    admin_storage_endpoint: str = ""
    # http://127.0.0.1:PORT/oauth2/token: where clients exchange the home's client credentials
    # (sandbox/admin/auth_tokens.py) for the access token every admin call needs
    admin_token_endpoint: str = ""
    # how task containers are confined (sandbox.runtime.policy), recorded by `up`
    container_policy: dict = dataclasses.field(default_factory=dict)
    # run tasks in warm workers (sandbox.runtime.warm_pool) unless a command says otherwise;
    # set by `skiff sandbox up --reuse-containers` (or SKIFF_REUSE_CONTAINERS at `up`)
    reuse_containers: bool = False

    @classmethod
    def load(cls, home: Path | None = None) -> "SandboxState":
        """Read state.json; raise SandboxError when the sandbox was never brought up."""
        home = home or skiff_home()
        path = state_path(home)
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise SandboxError(
                f"no sandbox in {home} (missing {path.name}); run `skiff sandbox up` first"
            ) from None
        except (OSError, ValueError) as exc:
            raise SandboxError(
                f"cannot read {path}: {exc}; delete it and run `skiff sandbox up` again"
            ) from None
        known = {f.name for f in dataclasses.fields(cls)}
        state = cls(**{k: v for k, v in raw.items() if k in known})
        # The URL override applies at read time too, so one process can point elsewhere.
        if os.environ.get("SKIFF_DATABASE_URL"):
            state.database_url = os.environ["SKIFF_DATABASE_URL"]
        return state

    @classmethod
    def load_or_new(cls, home: Path | None = None) -> "SandboxState":
        home = home or skiff_home()
        if state_path(home).exists():
            return cls.load(home)
        return cls(home=str(home), database_url=default_database_url(home))

    def save(self) -> Path:
        """Write state.json atomically with mode 0600 (it holds the MinIO secret)."""
        path = state_path(Path(self.home))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(str(path), json.dumps(dataclasses.asdict(self), indent=2,
                                               sort_keys=True).encode(), mode=0o600)
        return path

    @property
    def store_path(self) -> str | None:
        """The SQLite file behind database_url, or None for other databases."""
        prefix = "sqlite:///"
        return self.database_url[len(prefix):] if self.database_url.startswith(prefix) else None

    def storage_env(self) -> dict[str, str]:
        """The Flyte S3 variables a task container (or sdk.io) needs to reach this MinIO."""
        return {
            "FLYTE_AWS_ENDPOINT": self.minio_endpoint,
            "FLYTE_AWS_ACCESS_KEY_ID": self.access_key,
            "FLYTE_AWS_SECRET_ACCESS_KEY": self.secret_key,
        }

    def task_container_policy(self):
        """The confinement of this sandbox's task containers (defaults for an older home)."""
        from sandbox.runtime.policy import ContainerPolicy

        return ContainerPolicy(**self.container_policy)

    def public_dict(self) -> dict:
        """Everything but the secret, for `status --json` and logs."""
        data = dataclasses.asdict(self)
        data.pop("secret_key")
        return data
