"""When and how long to wait before trying a failed call again."""

from __future__ import annotations

import random
from dataclasses import dataclass

from core.providers.errors import ProviderError, RateLimitError


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, for retryable errors before the first token.

    ``max_attempts`` counts the first try. A server's Retry-After wins over the backoff
    when ``respect_retry_after`` (capped by ``max_retry_after``: a longer wait fails fast).
    """

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    respect_retry_after: bool = True
    max_retry_after: float = 60.0

    def should_retry(self, error: ProviderError, attempt: int) -> bool:
        """Whether ``error`` on attempt number ``attempt`` (1-based) deserves another try."""
        if attempt >= self.max_attempts or not error.retryable:
            return False
        wait = getattr(error, "retry_after", None)
        return not (self.respect_retry_after and wait is not None and wait > self.max_retry_after)

    def delay(self, error: ProviderError, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        if self.respect_retry_after and isinstance(error, RateLimitError) and error.retry_after is not None:
            return min(error.retry_after, self.max_retry_after)
        cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return (rng or random).uniform(0, cap)  # full jitter spreads synchronized clients


NO_RETRY = RetryPolicy(max_attempts=1)
