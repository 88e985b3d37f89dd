"""Dask's own log records go to this program's handlers: the job log, not the terminal."""

from __future__ import annotations

import logging

from pipeline.run.logcontext import demote_warnings


class _ClosedComm(logging.Filter):
    """A call whose connection to the cluster closed goes to the job log as INFO.

    Stopping a job (Ctrl-C) closes the client while results may still be in flight; tornado
    then logs the closed connection as an error with a traceback, on the terminal, after the
    job has already said it was interrupted.
    """

    CLOSED = frozenset({"CommClosedError", "StreamClosedError"})

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if type(exc).__name__ in self.CLOSED:
                record.levelno, record.levelname = logging.INFO, "INFO"
                break
            exc = exc.__cause__ or exc.__context__
        return True


_CLOSED_COMM = _ClosedComm()


def quiet_dask_logging() -> None:
    """Send Dask's own log records to this program's handlers: the job log, not the terminal.

    Dask gives its ``distributed`` loggers a handler of their own that prints every INFO line
    to stderr, under the progress bar; and stopping a local cluster mid-task warns about the
    worker processes it kills, which is what Ctrl-C asked for. Errors still reach the terminal,
    except tornado's report of a connection that closed under a pending call (:class:`_ClosedComm`).
    """
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "distributed"]
    for name in ["distributed", *names]:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
        # A logger's filters see only its own records, not its children's: filter each one.
        demote_warnings(logger)
    tornado = logging.getLogger("tornado.application")
    if _CLOSED_COMM not in tornado.filters:
        tornado.addFilter(_CLOSED_COMM)
