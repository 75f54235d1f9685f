"""Pages of the query workspace: data sources, the query library, saved queries and the editor.

List pages answer htmx requests with just their results partial and everything else with the full page,
so one URL (filters in the query string) serves both.
"""


def wants_partial(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request
