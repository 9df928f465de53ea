"""The cyclic garbage collector paused while a command starts.

Starting a command allocates some hundred thousand long-lived objects (classes, functions,
registry entries) and no cyclic garbage; the collector would pass over them a few dozen times
(~5% of a small trace). ``klr.cli.entry`` pauses it; each command resumes it once it has
imported what it needs, and what start-up made is then moved to the oldest generation without
a pass over it, where collections would have moved it (else every pass over the youngest
generation would scan all of it).
"""

from __future__ import annotations

import gc

_paused = False


def pause_collection() -> None:
    """Turn the cyclic collector off until ``resume_collection``, if it is on."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collection() -> None:
    """Turn the cyclic collector back on if ``pause_collection`` paused it."""
    global _paused
    if _paused:
        _paused = False
        if not gc.get_freeze_count():  # (never unfreeze what someone else froze)
            gc.freeze()
            gc.unfreeze()
        gc.enable()
