"""The three reads every sandbox API call makes (its instance, the caller's token, a saved workflow), in fixed SQL.

Through the ORM, composing these reads was the largest part of the sandbox server's CPU per call (more than
running them); as fixed statements (`recomamp.rows`, prepared once per session by `recomamp.prepared`) they give
back the same model instances, with the same related objects attached as `select_related` attaches them.
"""

from recomamp import prepared, rows

from .models import AccessToken, RefreshToken, SandboxAccount, SandboxFaults, SandboxInstance, SandboxWorkflow

INSTANCE = (SandboxInstance, SandboxAccount, SandboxFaults)
INSTANCE_READ = prepared.Statement(
    "sandbox_instance",
    f"""
    SELECT {", ".join(rows.columns(model, alias) for model, alias in zip(INSTANCE, "iaf", strict=True))}
    FROM {SandboxInstance._meta.db_table} i
    JOIN {SandboxAccount._meta.db_table} a ON a.id = i.account_id
    LEFT JOIN {SandboxFaults._meta.db_table} f ON f.instance_id = i.id
    WHERE i.instance_id = %s
""",
)
TOKEN_READ = prepared.Statement(
    "sandbox_access_token",
    f"""
    SELECT {rows.columns(AccessToken, "t")}, {rows.columns(RefreshToken, "r")}
    FROM {AccessToken._meta.db_table} t JOIN {RefreshToken._meta.db_table} r ON r.id = t.refresh_token_id
    WHERE t.token_hash = %s AND r.revoked_at IS NULL
""",
)
WORKFLOW_READ = prepared.Statement(
    "sandbox_workflow",
    f"""
    SELECT {rows.columns(SandboxWorkflow, "w")} FROM {SandboxWorkflow._meta.db_table} w
    WHERE w.instance_id = %s AND w.workflow_id = %s
""",
)


def instance(instance_id: str) -> SandboxInstance | None:
    """The instance with its account and its fault settings (None cached when it has none, as select_related
    leaves it: reading `.faults` then raises without a query)."""
    row = prepared.fetch_one(INSTANCE_READ, [instance_id])
    if row is None:
        return None
    found, account, faults = rows.split(row, *INSTANCE)
    found.account = account
    SandboxInstance.faults.related.set_cached_value(found, faults)
    if faults is not None:
        faults.instance = found
    return found


def access_token(token_hash: str) -> AccessToken | None:
    """A live grant's access token by its hash, with its refresh token; None if unknown or revoked."""
    row = prepared.fetch_one(TOKEN_READ, [token_hash])
    if row is None:
        return None
    token, refresh = rows.split(row, AccessToken, RefreshToken)
    token.refresh_token = refresh
    return token


def workflow(instance: SandboxInstance, workflow_id: str) -> SandboxWorkflow | None:
    row = prepared.fetch_one(WORKFLOW_READ, [instance.pk, workflow_id])
    if row is None:
        return None
    (found,) = rows.split(row, SandboxWorkflow)
    found.instance = instance
    return found
