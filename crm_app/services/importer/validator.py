"""The validator process of a big import.

`python -m crm_app.services.importer.validator JOB_ID ROWS OFFSET ROW` reads the job's file
from byte OFFSET (where row ROW starts), validates each chunk of ROWS records with the entity's
`clean()` (on a database session of its own) and writes each result to stdout, pickled, while
the importer stores the chunk before: validation (Python) and storing (mostly PostgreSQL)
overlap on two cores. The pipe's small buffer keeps it about a chunk ahead. It stops at the
end of the file, or when the importer closes the pipe.

A separate interpreter rather than `multiprocessing`: spawning re-imports the parent's main
module, which is not ours to control (a server, a worker, a script).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator

from sqlmodel import Session

from crm_app.db import get_engine
from crm_app.models import ImportJob
from crm_app.services.errors import DomainError
from crm_app.services.importer import run

log = logging.getLogger(__name__)


class ValidatorProcess:
    """Runs the validator for a job; iterate over what `with` gives for the results."""

    def __init__(self, job_id: int, rows: int, start: tuple[int, int]) -> None:
        offset, row = start
        self.command = [sys.executable, "-m", __name__, *map(str, (job_id, rows, offset, row))]
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Iterator[run.Validated]:
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
        )
        return self._results()

    def _results(self) -> Iterator[run.Validated]:
        assert self.process is not None and self.process.stdout is not None
        while True:
            try:
                kind, payload = pickle.load(self.process.stdout)  # noqa: S301 - our own child
            except EOFError:
                code = self.process.wait()
                if code:
                    raise RuntimeError(f"The import's validator process failed ({code}).") from None
                return
            if kind == "stopped":
                raise run.JobStopped(payload)
            yield payload

    def __exit__(self, *exc_info) -> None:
        assert self.process is not None
        if self.process.stdout is not None:
            self.process.stdout.close()  # a validator still writing gets a broken pipe
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def main(argv: list[str]) -> int:
    """Validate a job's remaining chunks, writing the results to stdout."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed by accident goes to stderr, never into the results
    job_id, rows, offset, row = map(int, argv[:4])
    with Session(get_engine()) as session:
        try:
            job = session.get(ImportJob, job_id)
            if job is None:
                raise run.JobStopped("The import is gone.")
            plan = run.job_plan(session, job)
            for chunk in run.job_chunks(job, rows, (offset, row)):
                result = run.validate_chunk(plan, chunk)
                session.rollback()  # end the read-only transaction: never idle inside one
                pickle.dump(("chunk", result), out, protocol=pickle.HIGHEST_PROTOCOL)
                out.flush()
        except (DomainError, run.JobStopped) as error:
            pickle.dump(("stopped", str(error)), out)
        except BrokenPipeError:
            pass  # the importer stopped reading: it paused or failed
        finally:
            with contextlib.suppress(BrokenPipeError):
                out.close()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main(sys.argv[1:]))
