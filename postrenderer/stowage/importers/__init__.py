"""`stowage import polyaxon|owl|mlrun FILE`: bring another system's storage setup over.

One module per system (``polyaxon``, ``owl``, ``mlrun``), each a pure function
from the parsed input to :class:`~stowage.importers.base.Imported`; ``load``
and ``emit`` are the I/O edges and ``command`` ties them together.
"""

from __future__ import annotations

SYSTEMS = ("polyaxon", "owl", "mlrun")
