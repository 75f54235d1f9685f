"""Readable identifiers such as wf_4c384646, exec_0f3a9c2e71b4 and sched_d69097bad1cf.

They are stored in their own unique columns, never confused with primary keys or AMC's ids. The unique
constraint is the guarantee; `new_readable_id` only makes collisions unlikely and retries the rare one.
"""

import secrets

PREFIX_LENGTHS = {"wf": 8, "exec": 12, "sched": 12}


def make_readable_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(PREFIX_LENGTHS[prefix] // 2)}"


def new_readable_id(model, field: str, prefix: str, attempts: int = 10) -> str:
    for _ in range(attempts):
        candidate = make_readable_id(prefix)
        if not model._default_manager.filter(**{field: candidate}).exists():
            return candidate
    raise RuntimeError(f"could not find a free {prefix}_ id after {attempts} attempts")
