"""Legacy index tiles and masks: ``nl.arange``, ``nl.mgrid`` and the predicates built from them.

An index tile is an affine function of the coordinates of its own shape::

    value(x_0, ..., x_k) = const + sum_j coefs[j] * x_j        (coefs[j] == 0 where shape[j] == 1)

``nl.arange(128)[:, None]`` is ``x_0`` over shape [128, 1]; ``i * 128 + i_p`` is
``128*i + x_0``. Tiles combine with numpy broadcasting (shapes right-aligned), which is how
``x[i_p, i_f]`` gets the shape [128, 512]: indexing a tensor with index tiles makes a view whose
dimensions are the broadcast shape of the indices (``klr.tracer.nki.views``).

A mask is a conjunction of affine inequalities ``sum_j a_j x_j + c >= 0`` over the coordinates
of the tile it guards; comparisons of index tiles build them (``i_p < n`` is ``n - 1 - x_0 >= 0``)
and ``&`` conjoins them. ``klr.tracer.nki.masks`` turns a mask into the regions an operation
writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from klr.tracer.affine import NotAffine, Sym
from klr.tracer.show import describe
from klr.tracer.values import TraceObject, Value

if TYPE_CHECKING:
    from klr.tracer.context import Ctx

Shape = tuple[int, ...]


def broadcast_shapes(ctx: Ctx, a: Shape, b: Shape, what: str = "index") -> Shape:
    """numpy broadcasting of two shapes (right-aligned; 1 stretches)."""
    if a == b and type(a) is tuple:  # the usual case, asked for every element-wise operation
        return a
    n = max(len(a), len(b))
    a2 = (1,) * (n - len(a)) + a
    b2 = (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a2, b2):  # (equal lengths; strict=True is slow)
        if x != y and x != 1 and y != 1:
            raise ctx.error(f"{what} shapes {list(a)} and {list(b)} cannot be broadcast together")
        out.append(max(x, y))
    return tuple(out)


class Affine:
    """``const + sum(coefs[j] * x_j)`` over the coordinates of ``shape`` (immutable)."""

    __slots__ = ("coefs", "const", "shape")

    def __init__(self, shape: Shape, coefs: tuple[int, ...], const: int) -> None:
        self.shape = shape
        self.coefs = tuple(0 if n == 1 else c for n, c in zip(shape, coefs, strict=True))
        self.const = const

    def aligned(self, rank: int) -> Affine:
        """The same function over ``rank`` axes (leading size-1 axes added)."""
        extra = rank - len(self.shape)
        if extra <= 0:
            return self
        return Affine((1,) * extra + self.shape, (0,) * extra + self.coefs, self.const)

    def combine(self, ctx: Ctx, other: Affine | int | Sym, sign: int) -> Affine:
        if not isinstance(other, Affine):   # an int, or a loop template's Sym (klr.tracer.templates),
            # which has int's arithmetic and stands in for one
            return Affine(self.shape, self.coefs, self.const + sign * other)  # type: ignore[arg-type]
        shape = broadcast_shapes(ctx, self.shape, other.shape)
        a, b = self.aligned(len(shape)), other.aligned(len(shape))
        coefs = tuple(x + sign * y for x, y in zip(a.coefs, b.coefs, strict=True))
        return Affine(shape, coefs, a.const + sign * b.const)

    def scaled(self, k: int) -> Affine:
        return Affine(self.shape, tuple(c * k for c in self.coefs), self.const * k)

    @property
    def is_constant(self) -> bool:
        return not any(self.coefs)

    def bounds(self) -> tuple[int, int]:
        """Smallest and largest value over the shape."""
        lo = hi = self.const
        for c, n in zip(self.coefs, self.shape, strict=True):
            reach = c * (n - 1)
            lo += min(0, reach)
            hi += max(0, reach)
        return lo, hi


class IndexTile(TraceObject):
    """An affine index tile (``nl.arange(n)[:, None]``, ``mgrid.p``, ``i * 128 + i_p``)."""

    __slots__ = ("affine",)
    type_name = "index tile"

    def __init__(self, affine: Affine) -> None:
        self.affine = affine

    @property
    def shape(self) -> Shape:
        return self.affine.shape

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name == "shape":
            return self.shape
        if name == "ndim":
            return len(self.shape)
        return super().getattr(ctx, name)

    def binop(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        o = _operand(other)
        if o is None:
            return NotImplemented
        a = self.affine
        if op == "+":
            return IndexTile(a.combine(ctx, o, 1))
        if op == "-":
            return IndexTile(a.scaled(-1).combine(ctx, o, 1) if reflected else a.combine(ctx, o, -1))
        if op == "*":
            if isinstance(o, int):
                return IndexTile(a.scaled(o))
            if isinstance(o, Sym):
                raise NotAffine("an index tile times the loop variable")
            if o.is_constant:
                return IndexTile(a.scaled(o.const).combine(ctx, Affine(o.shape, o.coefs, 0), 1))
            if a.is_constant:
                return IndexTile(o.scaled(a.const).combine(ctx, Affine(a.shape, a.coefs, 0), 1))
        if op in ("//", "%") and not reflected and isinstance(o, int) and o > 0 and a.is_constant:
            v = a.const // o if op == "//" else a.const % o
            return IndexTile(Affine(a.shape, a.coefs, v))
        raise ctx.error(f"index expressions must be affine: '{op}' of an index tile is not supported")

    def compare(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        o = _operand(other)
        if o is None:
            return NotImplemented
        diff = self.affine.combine(ctx, o, -1)   # self - other (op already mirrored when reflected)
        return Predicate.of(ctx, diff, op)

    def unop(self, ctx: Ctx, op: str) -> Value:
        if op == "-":
            return IndexTile(self.affine.scaled(-1))
        if op == "+":
            return self
        return super().unop(ctx, op)

    def getitem(self, ctx: Ctx, key: Value) -> Value:
        """``[:, None]`` style reshaping: full slices keep an axis, None adds one."""
        keys = key if isinstance(key, tuple) else (key,)
        a = self.affine
        shape: list[int] = []
        coefs: list[int] = []
        axis = 0
        for k in keys:
            if k is None:
                shape.append(1)
                coefs.append(0)
            elif k is Ellipsis:
                if sum(1 for x in keys if x is Ellipsis) > 1:
                    raise ctx.error("an index can only have a single ellipsis ('...')")
                # '...' stands for the axes no ':' consumes, before or after it
                rest = len(a.shape) - sum(1 for x in keys if x is not None and x is not Ellipsis)
                for _ in range(max(0, rest)):
                    shape.append(a.shape[axis])
                    coefs.append(a.coefs[axis])
                    axis += 1
            elif isinstance(k, slice) and k == slice(None):
                if axis >= len(a.shape):
                    raise ctx.error(f"too many indices for an index tile of shape {list(a.shape)}")
                shape.append(a.shape[axis])
                coefs.append(a.coefs[axis])
                axis += 1
            else:
                raise ctx.error("an index tile can only be indexed with ':' and None (as in [:, None])")
        while axis < len(a.shape):
            shape.append(a.shape[axis])
            coefs.append(a.coefs[axis])
            axis += 1
        return IndexTile(Affine(tuple(shape), tuple(coefs), a.const))

    def __repr__(self) -> str:
        a = self.affine
        terms = [f"{c}*x{j}" for j, c in enumerate(a.coefs) if c]
        if a.const or a.is_constant:
            terms.append(str(a.const))
        return f"index{list(a.shape)}({' + '.join(terms)})"


def _operand(v: Value) -> Affine | int | Sym | None:
    if isinstance(v, IndexTile):
        return v.affine
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, Sym)):   # a Sym only offsets an index tile: '*', '//' and '%' refuse it
        return v
    return None


class Atom:
    """``sum(coefs[j] * x_j) + const >= 0`` over the axes of the predicate's shape."""

    __slots__ = ("coefs", "const")

    def __init__(self, coefs: tuple[int, ...], const: int) -> None:
        self.coefs = coefs
        self.const = const

    def axes(self) -> tuple[int, ...]:
        return tuple(j for j, c in enumerate(self.coefs) if c)

    def aligned(self, rank: int) -> Atom:
        return Atom((0,) * (rank - len(self.coefs)) + self.coefs, self.const)

    def value_at(self, point: tuple[int, ...]) -> int:
        return self.const + sum(c * x for c, x in zip(self.coefs, point, strict=True))


class Predicate(TraceObject):
    """A mask: the conjunction of ``atoms`` over the coordinates of ``shape``."""

    __slots__ = ("atoms", "never", "regions", "shape")
    type_name = "mask"

    def __init__(self, shape: Shape, atoms: tuple[Atom, ...], never: bool = False) -> None:
        self.shape = shape
        self.atoms = atoms
        self.never = never      # some constant atom is false: the mask selects nothing
        self.regions: dict[Shape, tuple[tuple[tuple[int, int], ...] | None, list[Atom]]] = {}
        """``masks.region``'s answers by tile shape."""

    @staticmethod
    def of(ctx: Ctx, diff: Affine, op: str) -> Predicate:
        """The predicate ``diff op 0`` (integers, so strict comparisons shift by one)."""
        if op == ">=":
            exprs = [diff]
        elif op == ">":
            exprs = [Affine(diff.shape, diff.coefs, diff.const - 1)]
        elif op == "<=":
            exprs = [diff.scaled(-1)]
        elif op == "<":
            exprs = [Affine(diff.shape, diff.coefs, diff.const + 1).scaled(-1)]
        elif op == "==":
            exprs = [diff, diff.scaled(-1)]
        else:
            raise ctx.error(f"a mask cannot use '{op}'; use <, <=, >, >= or == on index tiles")
        return Predicate._build(diff.shape, [Atom(e.coefs, e.const) for e in exprs])

    @staticmethod
    def _build(shape: Shape, atoms: list[Atom]) -> Predicate:
        kept = []
        never = False
        for a in atoms:
            if not any(a.coefs):
                never = never or a.const < 0
            else:
                kept.append(a)
        return Predicate(shape, tuple(kept), never)

    def conjoin(self, ctx: Ctx, other: Predicate) -> Predicate:
        shape = broadcast_shapes(ctx, self.shape, other.shape, "mask")
        atoms = [a.aligned(len(shape)) for a in (*self.atoms, *other.atoms)]
        return Predicate(shape, tuple(atoms), self.never or other.never)

    def binop(self, ctx: Ctx, op: str, other: Value, reflected: bool) -> Value:
        if isinstance(other, Predicate):
            if op == "&":
                return self.conjoin(ctx, other)
            if op == "|":
                raise ctx.error("masks combined with '|' are not supported; use '&'")
        if isinstance(other, bool) and op == "&":
            return self if other else Predicate(self.shape, (), True)
        return NotImplemented

    def unop(self, ctx: Ctx, op: str) -> Value:
        if op == "~" and len(self.atoms) == 1 and not self.never:
            a = self.atoms[0]
            return Predicate(self.shape, (Atom(tuple(-c for c in a.coefs), -a.const - 1),))
        if op == "~":
            raise ctx.error("only a single comparison can be negated with '~' in a mask")
        return super().unop(ctx, op)

    def truth(self, ctx: Ctx) -> bool:
        # Python's `m1 and m2` is m2 when m1 is true, as in NKI: keep that, but say so
        ctx.warn("a mask is always true as a condition: 'm1 and m2' is just m2; combine masks with '&'")
        return True

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name == "shape":
            return self.shape
        return super().getattr(ctx, name)

    def __repr__(self) -> str:
        return f"mask{list(self.shape)}"


# --- constructors ---------------------------------------------------------------------------


def arange(ctx: Ctx, start: int, stop: int | None, step: int) -> IndexTile:
    """``nl.arange``: a 1-D index tile."""
    if stop is None:
        start, stop = 0, start
    for v, what in ((start, "start"), (stop, "stop"), (step, "step")):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ctx.error(f"nl.arange {what} must be an integer, not {describe(v)}")
    if step == 0:
        raise ctx.error("nl.arange step must not be zero")
    n = len(range(start, stop, step))
    if n <= 0:
        raise ctx.error(f"nl.arange({start}, {stop}, {step}) is empty")
    return IndexTile(Affine((n,), (step,), start))


class MgridResult(TraceObject):
    """The index tiles ``nl.mgrid[...]`` returns: unpack them or use ``.p``, ``.x``, ``.y``, ``.z``."""

    __slots__ = ("tiles",)
    type_name = "mgrid"
    FIELDS = ("p", "x", "y", "z")

    def __init__(self, tiles: tuple[IndexTile, ...]) -> None:
        self.tiles = tiles

    def getattr(self, ctx: Ctx, name: str) -> Value:
        if name in self.FIELDS:
            i = self.FIELDS.index(name)
            if i < len(self.tiles):
                return self.tiles[i]
            raise ctx.error(f"this mgrid has {len(self.tiles)} axes; '.{name}' is axis {i}")
        if name == "shape":
            return self.tiles[0].shape
        return super().getattr(ctx, name)

    def getitem(self, ctx: Ctx, key: Value) -> Value:
        if isinstance(key, int) and -len(self.tiles) <= key < len(self.tiles):
            return self.tiles[key]
        raise ctx.error(f"mgrid index must be an integer below {len(self.tiles)}")

    def iterate(self, ctx: Ctx) -> Iterator[Value]:
        return iter(self.tiles)

    def length(self, ctx: Ctx) -> int:
        return len(self.tiles)


class Mgrid(TraceObject):
    """``nl.mgrid``: ``nl.mgrid[0:128, 0:512]`` is the pair of 2-D index tiles (p, x)."""

    __slots__ = ()
    type_name = "mgrid"

    def getitem(self, ctx: Ctx, key: Value) -> Value:
        keys = key if isinstance(key, tuple) else (key,)
        ranges = []
        for k in keys:
            if not isinstance(k, slice):
                raise ctx.error("nl.mgrid is indexed with slices, as in nl.mgrid[0:128, 0:512]")
            start = 0 if k.start is None else k.start
            step = 1 if k.step is None else k.step
            ranges.append(arange(ctx, start, k.stop, step).affine)
        shape = tuple(r.shape[0] for r in ranges)
        tiles = []
        for j, r in enumerate(ranges):
            coefs = tuple(r.coefs[0] if i == j else 0 for i in range(len(ranges)))
            tiles.append(IndexTile(Affine(shape, coefs, r.const)))
        if len(tiles) == 1:
            return tiles[0]
        return MgridResult(tuple(tiles))

    def __repr__(self) -> str:
        return "nl.mgrid"
