"""httpcore internals, for deciding whether a test's transport may be bypassed.

- ``ConnectionPool._uds``, ``._local_address``, ``._retries``, ``._http1``,
  ``._socket_options``, ``._network_backend``: how the pool connects. httpx exposes them
  only as the constructor's arguments; a pool with any of them set must keep its requests.
- ``httpcore._sync.connection_pool``: the module of the pool's own ``handle_request``; any
  other means a library (a mock) replaced it.
"""

from __future__ import annotations

from typing import Any

POOL_ATTRIBUTES = (
    "_uds",
    "_local_address",
    "_retries",
    "_http1",
    "_socket_options",
    "_network_backend",
)
POOL_MODULE = "httpcore._sync.connection_pool"


def ordinary_pool(pool: Any) -> bool:
    """Whether ``pool`` is httpcore's own sync pool, unpatched, connecting the ordinary way
    (no Unix socket, local address, retries, socket options, HTTP/2 only or another
    network backend)."""
    import httpcore

    if type(pool) is not httpcore.ConnectionPool:
        return False
    try:
        if (
            pool._uds is not None
            or pool._local_address is not None
            or pool._retries
            or not pool._http1
            or pool._socket_options
            or type(pool._network_backend) is not httpcore.SyncBackend
        ):
            return False
    except AttributeError:  # another httpcore: keep the test's transport
        return False
    handler = type(pool).handle_request
    return getattr(handler, "__module__", "") == POOL_MODULE
