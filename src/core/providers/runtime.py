"""litellm, configured once per process: offline cost map, quiet, no per-call extras.

Every module of ours that needs litellm gets it from :func:`litellm_module`, so the
environment is set before litellm's first import and nothing reaches the network.
"""

from __future__ import annotations

import os
import threading
from types import ModuleType

_lock = threading.Lock()
_module: ModuleType | None = None


def litellm_module() -> ModuleType:
    """The imported, configured litellm module (imported lazily: it takes seconds)."""
    global _module
    if _module is not None:
        return _module
    with _lock:
        if _module is None:
            # Read the bundled cost map instead of fetching it from GitHub at import.
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            os.environ.setdefault("LITELLM_LOG", "ERROR")
            import litellm

            litellm.suppress_debug_info = True
            litellm.telemetry = False
            # We record every call ourselves; litellm's per-chunk logging threads only
            # compete for the CPU with the model (measured: +10% total time on 2 cores).
            litellm.disable_streaming_logging = True
            litellm.drop_params = False  # an unsupported parameter is an error, not silence
            _module = litellm
    return _module
