"""Where the Flyte admin is and how to authenticate, read as flytekit reads it.

Precedence, highest first: explicit arguments, environment variables (FLYTE_PLATFORM_URL,
FLYTE_PLATFORM_INSECURE, FLYTE_CREDENTIALS_CLIENT_ID, ...), then the `admin` and `storage`
sections of a flytectl-style YAML file (--config, else $FLYTECTL_CONFIG, else
~/.flyte/config.yaml when it exists).

When nothing names any credentials and the endpoint is the local Skiff sandbox's admin (the
one `$SKIFF_HOME/config.yaml` names, written by `skiff sandbox up`), that file's client
credentials are used: the local sandbox works without flags.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from sdk.errors import SkiffError

AUTH_NONE, AUTH_CLIENT_SECRET, AUTH_BEARER = "none", "clientsecret", "bearer"


class ConfigError(SkiffError):
    """A config file or setting that cannot be used."""


@dataclasses.dataclass
class RemoteConfig:
    endpoint: str  # host:port, without the dns:/// prefix
    insecure: bool = False
    ca_cert_file: str | None = None
    auth: str = AUTH_NONE
    client_id: str | None = None
    client_secret: str | None = None
    token_url: str | None = None
    scopes: list[str] = dataclasses.field(default_factory=list)
    audience: str | None = None
    token: str | None = None  # a static bearer token
    authorization_header: str = "authorization"
    # Storage behind the admin, for offloaded data when the data proxy cannot hand out links.
    storage_endpoint: str | None = None
    storage_access_key: str | None = None
    storage_secret_key: str | None = None
    source: str = "arguments"  # where the endpoint came from, for messages

    def storage_env(self) -> dict[str, str]:
        if not self.storage_endpoint:
            return {}
        return {"FLYTE_AWS_ENDPOINT": self.storage_endpoint,
                "FLYTE_AWS_ACCESS_KEY_ID": self.storage_access_key or "",
                "FLYTE_AWS_SECRET_ACCESS_KEY": self.storage_secret_key or ""}


def normalize_endpoint(endpoint: str) -> str:
    """`dns:///host:port`, `grpc://host:port` or `host:port` -> `host:port`."""
    endpoint = endpoint.strip()
    for prefix in ("dns:///", "grpc://", "grpcs://", "http://", "https://"):
        if endpoint.startswith(prefix):
            endpoint = endpoint[len(prefix):]
    return endpoint.rstrip("/")


def _truthy(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _read_yaml(path: str) -> dict:
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read the Flyte config file {path}: {exc.strerror}; "
                          "pass an existing file with --config or FLYTECTL_CONFIG") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"the Flyte config file {path} is not valid YAML ({exc}); fix it") from None
    if not isinstance(data, dict):
        raise ConfigError(f"the Flyte config file {path} must hold a mapping with an 'admin' section")
    return data


def _config_path(config_file: str | None, env) -> str | None:
    if config_file:
        return config_file
    if env.get("FLYTECTL_CONFIG"):
        return env["FLYTECTL_CONFIG"]
    default = Path.home() / ".flyte" / "config.yaml"
    return str(default) if default.is_file() else None


def _secret_from(location: str | None, env_var: str | None, env) -> str | None:
    if env_var and env.get(env_var):
        return env[env_var]
    if location:
        try:
            return Path(location).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the client secret file {location}: {exc.strerror}; "
                              "fix admin.clientSecretLocation") from None
    return None


LOCAL_SANDBOX_CONFIG = "config.yaml"  # in $SKIFF_HOME (default ~/.skiff), see the docstring


def local_sandbox_config_path(env=None) -> Path:
    env = os.environ if env is None else env
    home = env.get("SKIFF_HOME") or os.environ.get("SKIFF_HOME") or Path.home() / ".skiff"
    return Path(home).expanduser() / LOCAL_SANDBOX_CONFIG


def _take_local_sandbox_credentials(values: dict, env) -> None:
    """Fill `values` with the local sandbox's client credentials when the endpoint is its."""
    path = local_sandbox_config_path(env)
    if not path.is_file():
        return
    try:
        admin = _read_yaml(str(path)).get("admin") or {}
    except ConfigError:
        return
    if normalize_endpoint(str(admin.get("endpoint") or "")) != values["endpoint"]:
        return
    values.setdefault("insecure", _truthy(admin.get("insecure", False)))
    if admin.get("clientId"):
        values["client_id"] = admin["clientId"]
        values["client_secret"] = _secret_from(admin.get("clientSecretLocation"), None, env)
        values["_auth_type"] = str(admin.get("authType") or "").lower()


def load_config(config_file: str | None = None, env=None, **explicit) -> RemoteConfig:
    """The admin settings: `explicit` keyword arguments (RemoteConfig field names; None means
    unset) over the environment over the config file."""
    env = os.environ if env is None else env
    path = _config_path(config_file, env)
    data = _read_yaml(path) if path else {}
    admin = data.get("admin") or {}
    connection = (data.get("storage") or {}).get("connection") or {}

    values: dict = {}
    source = f"config file {path}" if path else "defaults"
    if admin.get("endpoint"):
        values["endpoint"] = admin["endpoint"]
    if "insecure" in admin:
        values["insecure"] = _truthy(admin["insecure"])
    if admin.get("caCertFilePath"):
        values["ca_cert_file"] = admin["caCertFilePath"]
    auth_type = str(admin.get("authType") or "").lower()
    if admin.get("clientId"):
        values["client_id"] = admin["clientId"]
    secret = _secret_from(admin.get("clientSecretLocation"), admin.get("clientSecretEnvVar"), env)
    if secret:
        values["client_secret"] = secret
    if admin.get("tokenUrl"):
        values["token_url"] = admin["tokenUrl"]
    if admin.get("scopes"):
        values["scopes"] = list(admin["scopes"])
    if admin.get("audience"):
        values["audience"] = admin["audience"]
    if admin.get("authorizationHeader"):
        values["authorization_header"] = admin["authorizationHeader"]
    for key, field in (("endpoint", "storage_endpoint"), ("access-key", "storage_access_key"),
                       ("secret-key", "storage_secret_key")):
        if connection.get(key):
            values[field] = connection[key]

    # Environment variables, named as flytekit names them.
    if env.get("FLYTE_PLATFORM_URL"):
        values["endpoint"] = env["FLYTE_PLATFORM_URL"]
        source = "FLYTE_PLATFORM_URL"
    if env.get("FLYTE_PLATFORM_INSECURE"):
        values["insecure"] = _truthy(env["FLYTE_PLATFORM_INSECURE"])
    if env.get("FLYTE_CREDENTIALS_AUTH_MODE"):
        auth_type = env["FLYTE_CREDENTIALS_AUTH_MODE"].lower()
    for name, field in (("FLYTE_CREDENTIALS_CLIENT_ID", "client_id"),
                        ("FLYTE_CREDENTIALS_CLIENT_SECRET", "client_secret"),
                        ("FLYTE_CREDENTIALS_AUTHORIZATION_METADATA_KEY", "authorization_header"),
                        ("FLYTE_CREDENTIALS_OAUTH_SCOPES", "scopes"),
                        ("FLYTE_PLATFORM_AUTH_TOKEN", "token"),
                        ("FLYTE_AWS_ENDPOINT", "storage_endpoint"),
                        ("FLYTE_AWS_ACCESS_KEY_ID", "storage_access_key"),
                        ("FLYTE_AWS_SECRET_ACCESS_KEY", "storage_secret_key")):
        if env.get(name):
            values[field] = env[name].split(",") if field == "scopes" else env[name]

    for field, value in explicit.items():
        if value is not None:
            values[field] = value
            if field == "endpoint":
                source = "arguments"
    if not values.get("endpoint"):
        raise ConfigError("no Flyte admin endpoint: pass --endpoint HOST:PORT, set "
                          "FLYTE_PLATFORM_URL, or write admin.endpoint in ~/.flyte/config.yaml "
                          "(for the local sandbox: see `skiff sandbox status --json`, key 'admin')")
    values["endpoint"] = normalize_endpoint(str(values["endpoint"]))

    if "auth" not in values and not auth_type and not values.get("token") \
            and not values.get("client_id"):
        _take_local_sandbox_credentials(values, env)
        auth_type = values.pop("_auth_type", "")
    if "auth" not in values:
        if values.get("token"):
            values["auth"] = AUTH_BEARER
        elif auth_type in ("clientsecret", "basic", "client_credentials") or (
                values.get("client_id") and values.get("client_secret")):
            values["auth"] = AUTH_CLIENT_SECRET
    config = RemoteConfig(**values)
    config.source = source
    if config.auth == AUTH_CLIENT_SECRET and not (config.client_id and config.client_secret):
        raise ConfigError("client-credentials authentication needs a client id and secret: set "
                          "admin.clientId and admin.clientSecretLocation (or "
                          "FLYTE_CREDENTIALS_CLIENT_ID / FLYTE_CREDENTIALS_CLIENT_SECRET)")
    return config
