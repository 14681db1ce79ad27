"""The models baton's runner calls (``tracer.models.ScriptedModel``, ``reply``, …).

The public name of ``tracer.runner.models``, kept so code written against the earlier
layout keeps working.
"""

from __future__ import annotations

from tracer.runner.models import *  # noqa: F403
from tracer.runner.models import __all__ as __all__
