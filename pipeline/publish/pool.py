"""A thread pool with a bounded number of tasks in flight, yielding results as they finish."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Outcome(Generic[T, R]):
    """The result of one task, or the exception it raised."""

    __slots__ = ("error", "item", "result")

    def __init__(self, item: T, result: R | None, error: BaseException | None) -> None:
        self.item = item
        self.result = result
        self.error = error


class BoundedPool:
    """Run many small I/O tasks on threads without queueing them all at once.

    Queueing tens of thousands of futures would keep every finished result (file bytes
    included) alive until the caller got to it; a window of a few tasks per thread keeps
    memory flat and lets Ctrl-C stop the job within a few requests.
    """

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="publish")

    def close(self) -> None:
        """Stop accepting work; cancel what has not started."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def run(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[Outcome[T, R]]:
        """Yield one outcome per item as tasks finish (not in input order).

        Args:
            fn: The task; exceptions it raises are returned in the outcome, not raised.
            items: Its inputs.

        Yields:
            Outcomes; if the caller stops iterating, tasks not yet started are cancelled.

        """
        window = self.threads * 4
        running: dict[Future[R], T] = {}
        source = iter(items)
        exhausted = False
        try:
            while True:
                while not exhausted and len(running) < window:
                    try:
                        item = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    running[self._pool.submit(fn, item)] = item
                if not running:
                    return
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    item = running.pop(future)
                    error = future.exception()
                    yield Outcome(item, None if error else future.result(), error)
        finally:
            for future in running:
                future.cancel()
