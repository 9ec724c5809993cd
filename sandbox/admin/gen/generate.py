"""Regenerate Skiff's gRPC code from protos/ with grpcio-tools:
`python -m sandbox.admin.gen.generate` (writes next to this file).

protoc names generated imports after the .proto path (`from skiff.sandbox.v1 import ...`);
the import is rewritten to this package so no top-level `skiff` module is needed.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parents[3] / "protos"
PROTO_FILES = ["skiff/sandbox/v1/sandbox.proto"]
GENERATED = ["sandbox_pb2.py", "sandbox_pb2.pyi", "sandbox_pb2_grpc.py"]
PACKAGE = "sandbox.admin.gen"


def generate(out_dir: Path) -> list[Path]:
    """Write the generated modules into out_dir; returns their paths."""
    import grpc_tools
    from grpc_tools import protoc

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory(prefix="skiff-protoc-") as scratch:
        code = protoc.main(["grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{well_known}",
                            f"--python_out={scratch}", f"--pyi_out={scratch}",
                            f"--grpc_python_out={scratch}", *PROTO_FILES])
        if code != 0:
            raise RuntimeError(f"protoc failed with exit code {code} on {PROTO_FILES}")
        written = []
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in GENERATED:
            text = (Path(scratch) / "skiff" / "sandbox" / "v1" / name).read_text()
            text = text.replace("from skiff.sandbox.v1 import", f"from {PACKAGE} import")
            (out_dir / name).write_text(text)
            written.append(out_dir / name)
    return written


if __name__ == "__main__":
    for path in generate(Path(__file__).parent):
        print(path, file=sys.stderr)
