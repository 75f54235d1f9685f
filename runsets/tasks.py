"""django-q2 tasks of the run sets app (thin: they call the queue)."""

from . import dispatch, services


def run_cycle() -> dict:
    """Every minute: repair cells that missed their execution's end, start due cells."""
    return dispatch.run_cycle()


def dispatch_run_sets(run_set_pks: list[int]) -> int:
    return dispatch.dispatch(run_set_pks=run_set_pks)


def cancel_cells(run_set_pk: int) -> int:
    return services.cancel_running_cells(run_set_pk)
