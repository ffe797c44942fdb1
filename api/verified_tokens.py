"""Bearer tokens already verified, kept by their exact text (issue 28).

A client sends one token with every request of its shift, and checking its signature and
decoding its claims again was the largest share of an adjudication's own CPU. What is kept is
only what depends on the token's text and the verifier's key (the signature, issuer, audience,
required claims and the actor they name); the verifier checks the times at every use, and a
refused token is never kept. Bounded: the oldest goes first.
"""

from __future__ import annotations

import threading
from typing import Any

from lfr_ledger.domain.actors import Actor

CAPACITY = 1024


class VerifiedTokens:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._kept: dict[str, tuple[Actor, dict[str, Any]]] = {}
        self._lock = threading.Lock()  # OIDC verifies in worker threads

    def get(self, token: str) -> tuple[Actor, dict[str, Any]] | None:
        with self._lock:
            return self._kept.get(token)

    def keep(self, token: str, actor: Actor, claims: dict[str, Any]) -> None:
        with self._lock:
            if token not in self._kept and len(self._kept) >= self._capacity:
                del self._kept[next(iter(self._kept))]
            self._kept[token] = (actor, claims)

    def __len__(self) -> int:
        return len(self._kept)
