"""Test configuration: hypothesis is derandomized unless a random run is asked for.

By default every run on every machine tests the same examples (no example database either, so
a failure saved on one machine is not replayed on another). ``HYPOTHESIS_PROFILE=random``
draws fresh examples each run; random exploration at scale is ``python bench/fuzz.py``.
"""

import os

from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, database=None, deadline=None,
                          print_blob=True)
settings.register_profile("random", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))
