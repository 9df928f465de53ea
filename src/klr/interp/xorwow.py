"""The engines' random number generators: XORWOW (Marsaglia, 2003), one per compute lane.

NKI documents XORWOW as the engines' generator, its state as 6 uint32 words per lane on the
GpSimd engine and 24 on the Vector engine (``rand_get_state``/``rand_set_state``). The model:

* every (engine, lane) pair has 1 generator on GpSimd (``pool``) and 4 on the Vector engine
  (``dve``), each 6 words ``x0..x4, d``; lane p serves partition p of the instruction's view;
* one step: ``t = x4 ^ (x4 >> 2); t ^= t << 1; t ^= x0 ^ (x0 << 4)``, shift
  ``x4..x1 = x3..x0``, ``x0 = t``, ``d += 362437``; the output is ``t + d`` (mod 2**32);
* an instruction draws one 32-bit value per element, row-major within each partition; on the
  Vector engine element j uses generator j mod 4;
* a seed s (``run(random_seed=s)``, default 0, or ``setRngSeed`` for ``dve``) gives generator g of lane p
  of engine e (0 pool, 1 dve) of logical core c the words of SplitMix64 seeded with
  ``s ^ (e << 62) ^ (c << 48) ^ (p << 32) ^ (g << 28)`` (three outputs, low half first), with
  x0 = 1 if x0..x4 would all be 0.

The hardware's own seeding is not documented, so bits match the device only after
``randSetState`` of a state read from it.
"""

from __future__ import annotations

import numpy as np

from klr.core.optypes import Engine

__all__ = ["WORDS", "GENERATORS", "Generators"]

WORDS = 6
GENERATORS = {Engine.pool: 1, Engine.dve: 4}
_U32 = np.uint32
_MASK64 = (1 << 64) - 1


def _splitmix64(state: int) -> tuple[int, int]:
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def seed_words(seed: int, core: int, engine: Engine, lane: int, generator: int) -> list[int]:
    """The 6 state words a seed gives one generator (see the module docstring)."""
    e = 1 if engine is Engine.dve else 0
    state = (seed ^ (e << 62) ^ (core << 48) ^ (lane << 32) ^ (generator << 28)) & _MASK64
    words: list[int] = []
    for _ in range(3):
        state, out = _splitmix64(state)
        words += [out & 0xFFFFFFFF, out >> 32]
    if not any(words[:5]):
        words[0] = 1
    return words


class Generators:
    """The generators of one engine of one core: states [lanes, generators, 6] uint32."""

    def __init__(self, engine: Engine, seed: int, core: int) -> None:
        self.engine = engine
        self.seed = seed
        self.core = core
        self.per_lane = GENERATORS.get(engine, 1)
        self.states = np.zeros((0, self.per_lane, WORDS), _U32)

    def lanes(self, count: int) -> np.ndarray:
        """The states of lanes 0..count-1, seeding lanes not used before."""
        have = self.states.shape[0]
        if count > have:
            fresh = np.array([[seed_words(self.seed, self.core, self.engine, p, g)
                               for g in range(self.per_lane)] for p in range(have, count)], _U32)
            self.states = np.concatenate([self.states, fresh.reshape(-1, self.per_lane, WORDS)])
        return self.states[:count]

    def draw(self, partitions: int, per_partition: int) -> np.ndarray:
        """[partitions, per_partition] uint32 values, advancing the generators used."""
        states = self.lanes(partitions)
        out = np.empty((partitions, per_partition), _U32)
        with np.errstate(over="ignore"):
            for j in range(per_partition):
                s = states[:, j % self.per_lane]
                t = s[:, 4] ^ (s[:, 4] >> _U32(2))
                t ^= t << _U32(1)
                x0 = s[:, 0].copy()
                t ^= x0 ^ (x0 << _U32(4))
                s[:, 2:5] = s[:, 1:4].copy()
                s[:, 1] = x0
                s[:, 0] = t
                s[:, 5] += _U32(362437)
                out[:, j] = t + s[:, 5]
        return out

    def get(self, partitions: int) -> np.ndarray:
        """The states of the first lanes as [partitions, generators * 6] words."""
        return self.lanes(partitions).reshape(partitions, -1).copy()

    def set(self, words: np.ndarray) -> None:
        """Replace the states of the first lanes by ``words`` [partitions, generators * 6]."""
        lanes = words.shape[0]
        self.lanes(lanes)[...] = words.astype(_U32).reshape(lanes, self.per_lane, WORDS)

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self.states = np.zeros((0, self.per_lane, WORDS), _U32)
