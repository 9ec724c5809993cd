"""One task taking and returning every type the type engine supports.

bytes is left out: flytekit 1.16 pickles it into a blob, Skiff writes a binary scalar.
"""
import dataclasses
import datetime
import enum
import typing

from flytekit import task, workflow
from flytekit.types.directory import FlyteDirectory as Directory
from flytekit.types.file import FlyteFile as File


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Point:
    x: int
    y: float
    label: str = ""
    tags: typing.List[str] = dataclasses.field(default_factory=list)


@task
def everything(
    i: int,
    f: float,
    s: str,
    b: bool,
    when: datetime.datetime,
    span: datetime.timedelta,
    ints: typing.List[int],
    nested: typing.List[typing.Dict[str, float]],
    scores: typing.Dict[str, float],
    blob: dict,
    maybe: typing.Optional[int],
    either: typing.Union[int, str],
    color: Color,
    point: Point,
    doc: File,
    folder: Directory,
) -> typing.Tuple[Point, typing.List[Point], typing.Optional[str], Color, File, Directory]:
    return point, [point], None, color, doc, folder


@workflow
def alltypes(
    doc: File,
    folder: Directory,
    point: Point,
    when: datetime.datetime,
    i: int = 1,
    f: float = 2.5,
    s: str = "x",
    b: bool = True,
    maybe: typing.Optional[int] = None,
    color: Color = Color.BLUE,
) -> typing.Tuple[Point, typing.Optional[str]]:
    p, ps, o, c, d, fo = everything(
        i=i, f=f, s=s, b=b, when=when, span=datetime.timedelta(seconds=90), ints=[1, 2],
        nested=[{"a": 1.0}], scores={"m": 0.5}, blob={"k": [1, "v"]}, maybe=maybe, either="e", color=color,
        point=point, doc=doc, folder=folder,
    )
    return p, o
