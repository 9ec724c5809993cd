"""Data types and IO: files, folders, enums, pickles, dataclasses (with attribute access),
pydantic models, pandas dataframes (cached structured datasets) and a custom type."""
import enum
import os
import typing
from dataclasses import dataclass, field

import pandas as pd
from pydantic import BaseModel

from flytekit import FlyteContext, current_context, task, workflow
from flytekit.extend import TypeEngine, TypeTransformer
from flytekit.models.literals import Literal, Primitive, Scalar
from flytekit.models.types import LiteralType, SimpleType
from flytekit.types.directory import FlyteDirectory
from flytekit.types.file import FlyteFile


# ---- files and folders ---------------------------------------------------------------------

@task
def write_report(lines: typing.List[str]) -> FlyteFile:
    path = os.path.join(current_context().working_directory, "report.txt")
    with open(path, "w") as out:
        out.write("\n".join(lines))
    return FlyteFile(path)


@task
def count_words(report: FlyteFile) -> int:
    with open(report) as text:
        return len(text.read().split())


@task
def write_folder(n: int) -> FlyteDirectory:
    folder = os.path.join(current_context().working_directory, "parts")
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        with open(os.path.join(folder, f"part{i}.txt"), "w") as out:
            out.write("x" * (i + 1))
    return FlyteDirectory(folder)


@task
def folder_sizes(folder: FlyteDirectory) -> typing.List[int]:
    local = folder.download()
    return [os.path.getsize(os.path.join(local, name)) for name in sorted(os.listdir(local))]


@workflow
def files_and_folders(lines: typing.List[str] = ["a b", "c d e"],
                      n: int = 3) -> typing.Tuple[int, typing.List[int]]:
    return count_words(report=write_report(lines=lines)), folder_sizes(folder=write_folder(n=n))


# ---- enums and pickles ---------------------------------------------------------------------

class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@task
def complement(c: Color) -> Color:
    return Color.GREEN if c == Color.RED else Color.RED


class Basket:  # no type transformer: flytekit pickles it
    def __init__(self, fruits):
        self.fruits = fruits


@task
def fill(fruits: typing.List[str]) -> Basket:
    return Basket(fruits)


@task
def describe(basket: Basket) -> str:
    return ",".join(sorted(basket.fruits))


@workflow
def enums_and_pickles(c: Color = Color.RED,
                      fruits: typing.List[str] = ["pear", "fig"]) -> typing.Tuple[Color, str]:
    return complement(c=c), describe(basket=fill(fruits=fruits))


# ---- dataclasses and pydantic -------------------------------------------------------------

@dataclass
class Fruit:
    name: str
    sizes: typing.List[int] = field(default_factory=list)


@task
def pick(n: int) -> Fruit:
    return Fruit(name=f"apple{n}", sizes=[n, n * 2])


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def shout(s: str) -> str:
    return s.upper()


class Order(BaseModel):
    item: str
    quantity: int


@task
def order(fruit: Fruit, quantity: int) -> Order:
    return Order(item=fruit.name, quantity=quantity)


@workflow
def dataclasses_and_models(n: int = 3) -> typing.Tuple[Fruit, int, str, Order]:
    fruit = pick(n=n)
    # Attribute access into a dataclass output, bound downstream.
    size = add(a=fruit.sizes[0], b=fruit.sizes[1])
    made = order(fruit=fruit, quantity=size)
    return fruit, size, shout(s=fruit.name), made


# ---- dataframes (cached) -------------------------------------------------------------------

@task(cache=True, cache_version="1")
def make_frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": list(range(n)), "y": [i * i for i in range(n)]})


@task
def frame_total(frame: pd.DataFrame) -> int:
    return int(frame["y"].sum())


@workflow
def cached_frames(n: int = 4) -> typing.Tuple[int, int]:
    first = make_frame(n=n)
    again = make_frame(n=n)  # the same inputs after the first: read from the cache
    first >> again
    return frame_total(frame=first), frame_total(frame=again)


# ---- a custom type -------------------------------------------------------------------------

class Point:
    def __init__(self, x: int, y: int):
        self.x, self.y = x, y


class PointTransformer(TypeTransformer[Point]):
    """A Point travels as the string "x,y"."""

    def __init__(self):
        super().__init__(name="point", t=Point)

    def get_literal_type(self, t: typing.Type[Point]) -> LiteralType:
        return LiteralType(simple=SimpleType.STRING)

    def to_literal(self, ctx: FlyteContext, python_val: Point, python_type, expected) -> Literal:
        return Literal(scalar=Scalar(primitive=Primitive(string_value=f"{python_val.x},{python_val.y}")))

    def to_python_value(self, ctx: FlyteContext, lv: Literal, expected_python_type) -> Point:
        x, y = lv.scalar.primitive.string_value.split(",")
        return Point(int(x), int(y))


TypeEngine.register(PointTransformer())


@task
def make_point(x: int, y: int) -> Point:
    return Point(x, y)


@task
def mirror(p: Point) -> Point:
    return Point(p.y, p.x)


@task
def manhattan(p: Point) -> int:
    return abs(p.x) + abs(p.y)


@workflow
def custom_type(x: int = 2, y: int = -5) -> int:
    return manhattan(p=mirror(p=make_point(x=x, y=y)))
