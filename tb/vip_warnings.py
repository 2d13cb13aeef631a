"""Silence the deprecation noise of the third-party bus models, and only that.

cocotbext-axi 0.1.28 and cocotb-bus 0.3.0 call cocotb APIs that cocotb 2.1 deprecated
(``setimmediatevalue``, ``Task.kill``, ``Event.data``, ``Edge``): about 20
``DeprecationWarning`` lines per test, logged before anything the test says, so a
scoreboard mismatch was buried under them. Nothing in this project can fix those calls
(the pins are in pyproject.toml), so the warnings are filtered where they are attributed:
category ``DeprecationWarning`` *and* a module inside ``cocotbext.axi`` or ``cocotb_bus``.
Every other warning, including deprecations raised by this project's own code, still shows.
"""

from __future__ import annotations

import warnings

#: Modules whose DeprecationWarnings are dropped (``re.match`` against the module name).
VIP_MODULES = (r"cocotbext\.axi(\.|$)", r"cocotb_bus(\.|$)")


def install() -> None:
    """Add the targeted ignore filters (idempotent: ``warnings`` skips duplicates)."""
    for mod in VIP_MODULES:
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=mod)
