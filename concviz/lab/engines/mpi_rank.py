"""One rank of the ``mpi`` strategy, started by ``mpiexec`` as ``python -m`` this module.

Every rank connects its recorder to the lab (row = its rank) and builds the task
function once; rank 0 also opens the control connection. After a barrier rank 0
says it is ready, then, round after round, reads ``{"tasks": [...]}`` from the
lab, broadcasts it, every rank runs ``tasks[rank::size]``, and rank 0 gathers the
failures and answers ``{"done": n, "errors": [[index, row, text], ...]}``. A
``{"quit": true}``, or the lab closing the connection, ends every rank.

MPICH waits in its collectives by spinning on a core, which would show as CPU that
no task used and slow the ranks still working; so a rank waits in a non-blocking
barrier, polled with short sleeps, before each collective, and the collective
itself then finds everyone there.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

from ..recorder import execute
from .mpi import ENV_VAR
from .sink import control_link, recorder_for, task_function

POLL_S = (0.0001, 0.002)  # first and longest sleep between polls: 3 % of a core at most


def _gather_here(comm) -> None:
    """Wait until every rank has arrived, sleeping rather than spinning."""
    request = comm.Ibarrier()
    pause, longest = POLL_S
    while not request.Test():
        time.sleep(pause)
        pause = min(2 * pause, longest)


def _serve(comm, config: dict) -> int:
    rank, size = comm.Get_rank(), comm.Get_size()
    address = config["address"]
    # a rank ends with its lab: a SIGKILLed lab cannot end hydra's sessions for it
    rec, row = recorder_for(address, want=rank, name=f"rank {rank}", exit_with_lab=True)
    fn = task_function(config["spec"])
    link = control_link(address) if rank == 0 else None
    _gather_here(comm)
    if link is not None:
        link.send({"ready": True, "size": size})
    while True:
        msg = None
        if link is not None:
            try:
                msg = link.receive()
            except (OSError, ValueError):
                msg = None
            if not msg or "tasks" not in msg:
                msg = {"quit": True}  # asked to, or the lab is gone
        _gather_here(comm)
        msg = comm.bcast(msg, root=0)
        if msg.get("quit"):
            break
        tasks = msg["tasks"]
        buf = rec.buffer()
        buf.mark_cpu()  # waiting between rounds is no task's CPU
        failed = []
        for index in tasks[rank::size]:
            err = execute(buf, row, index, fn)
            if err:
                failed.append((index, row, err))
        try:
            rec.flush()  # the lab counts ends before the next round: don't wait to be asked
        except OSError:
            pass
        _gather_here(comm)
        parts = comm.gather(failed, root=0)
        if link is not None:
            errors = [list(item) for part in parts for item in part]
            link.send({"done": len(tasks), "errors": errors})
    try:
        rec.close()
    except OSError:
        pass  # the lab is gone; nothing to send to
    if link is not None:
        link.close()
    return 0


def main() -> int:
    raw = os.environ.get(ENV_VAR)
    if not raw:
        print(
            f"{__name__} is a rank of concviz's mpi strategy; the lab starts it through "
            f"mpiexec with {ENV_VAR} set",
            file=sys.stderr,
        )
        return 2
    config = json.loads(raw)
    # PYTHONPATH carries the lab's path where mpiexec passes the environment on;
    # this covers launchers that do not
    for entry in config.get("path", []):
        if entry not in sys.path:
            sys.path.append(entry)
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    try:
        return _serve(comm, config)
    except BaseException:
        # without this the other ranks would wait for this one forever; Abort ends
        # the job and mpiexec reports it
        traceback.print_exc()
        sys.stderr.flush()
        comm.Abort(1)
        return 1


if __name__ == "__main__":
    sys.exit(main())
