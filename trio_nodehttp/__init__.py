"""trio_nodehttp: Node.js's ``http`` and ``http2`` modules, rebuilt on trio, h11 and h2.

General layout (DESIGN §2): the public modules are ``http``, ``https``, ``events``,
``errors`` and ``abort``; everything with a leading underscore is private.
"""

from __future__ import annotations

from . import errors as errors
from . import events as events
from . import http as http
from . import https as https
from ._net import Socket as Socket
from .abort import AbortController as AbortController
from .abort import AbortSignal as AbortSignal

__all__ = ["AbortController", "AbortSignal", "Socket", "errors", "events", "http", "https"]
__version__ = "0.1.0.dev0"
