"""The type engine: Python values and hints <-> flyteidl Literals and LiteralTypes.

Encodings follow flytekit 1.16, so literals cross between the two SDKs. Blob transfer is
injected (`transfer=`), keeping storage clients out of this package.
"""

from sdk.types.blobs import Directory, File, Transfer
from sdk.types.engine import TypeEngine
from sdk.types.structured import StructuredDataset, kwtypes

__all__ = ["TypeEngine", "File", "Directory", "Transfer", "StructuredDataset", "kwtypes"]
