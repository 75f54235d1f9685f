"""Guide pages: the list, a guide with its steps, and each step's workbench (edit, run in place, save, mark done)."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from executions import services as execution_services
from executions.forms import RunForm
from queries.forms import normalize_newlines
from queries.models import DataSource
from queries.validation import ParameterError

from . import services
from .models import Guide, GuideStep


class GuideFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    category = forms.ChoiceField(required=False)
    favourites = forms.BooleanField(required=False, label="My favourites only")

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "All categories"), *((c, c) for c in categories)]


def _documented(tables: list[str]) -> list[tuple[str, str | None]]:
    """(table, catalog schema_id or None) so each table links to its data source page."""
    known = dict(DataSource.objects.filter(table_name__in=tables).values_list("table_name", "schema_id"))
    return [(table, known.get(table)) for table in tables]


def guide_list(request):
    categories = Guide.objects.order_by("category").values_list("category", flat=True).distinct()
    form = GuideFilterForm(request.GET, categories=categories)
    filters = form.cleaned_data if form.is_valid() else {}
    guides = services.filter_guides(
        request.user,
        q=filters.get("q", ""),
        category=filters.get("category", ""),
        favourites=filters.get("favourites", False),
    )
    template = "guides/guide_list.html"
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    return render(request, f"{template}#results" if partial else template, {"form": form, "guides": guides})


def guide_detail(request, slug):
    guide = get_object_or_404(services.guides_for(request.user), slug=slug)
    progress = services.progress_by_step(request.user, guide)
    steps = [(step, progress.get(step.number)) for step in guide.steps.all()]
    context = {"guide": guide, "steps": steps, "tables": _documented(guide.tables), "metrics": guide.metrics.all()}
    return render(request, "guides/guide_detail.html", context)


@require_POST
def guide_favourite(request, slug):
    guide = get_object_or_404(Guide, slug=slug)
    now = services.toggle_favourite(request.user, guide)
    messages.success(request, f"{'Added to' if now else 'Removed from'} your favourites.")
    if request.POST.get("next") == "list":
        return redirect("guide_list")
    return redirect("guide_detail", slug=slug)


def _step(slug, number) -> GuideStep:
    return get_object_or_404(GuideStep.objects.select_related("guide"), guide__slug=slug, number=number)


def guide_step(request, slug, number):
    """The step's workbench, prefilled with the step's SQL and parameters, the user's instance and window."""
    step = _step(slug, number)
    progress = services.progress_by_step(request.user, step.guide).get(step.number)
    if request.GET.get("reset"):  # back to the guide's own SQL and defaults
        progress = None
    sql = progress.last_sql if progress and progress.last_sql else step.sql
    definitions = services.step_definitions(step, sql)
    run_form = RunForm(
        initial=services.workbench_initial(progress), user=request.user, parameter_definitions=definitions
    )
    return _render_step(request, step, sql, run_form)


def _render_step(request, step: GuideStep, sql: str, run_form: RunForm, status: int = 200):
    guide = step.guide
    progress = services.progress_by_step(request.user, guide)
    context = {
        "result_page": services.last_result_page(progress.get(step.number)),
        "guide": guide,
        "step": step,
        "sql": sql,
        "run_form": run_form,
        "progress": progress.get(step.number),
        "steps": [(s, progress.get(s.number)) for s in guide.steps.all()],
        "previous_step": guide.steps.filter(number=step.number - 1).first(),
        "next_step": guide.steps.filter(number=step.number + 1).first(),
        "tables": _documented(step.tables),
        "metrics": guide.metrics.all(),
    }
    return render(request, "guides/guide_step.html", context, status=status)


@require_POST
def guide_step_run(request, slug, number):
    """Run the step as edited on the chosen instance and window; the result shows on the step page."""
    step = _step(slug, number)
    sql = normalize_newlines(request.POST.get("sql", "")) or step.sql
    form = RunForm(request.POST, user=request.user, parameter_definitions=services.step_definitions(step, sql))
    if form.is_valid():
        try:
            execution = execution_services.start_execution(
                owner=request.user,
                instance=form.cleaned_data["instance"],
                window=form.window(),
                sql=sql,
                parameters=form.parameters(),
                timeout_seconds=form.cleaned_data["timeout_minutes"] * 60,
                delivery=form.delivery(),
            )
        except execution_services.ExecutionInputError as exc:
            field = f"param_{exc.parameter}"
            form.add_error(field if field in form.fields else None, str(exc))
        else:
            services.record_run(request.user, step, execution, sql=sql, values=form.parameters())
            messages.success(request, f"Execution {execution.execution_id} queued.")
            return redirect("guide_step", slug=slug, number=number)
    return _render_step(request, step, sql, form, status=422)


@require_POST
def guide_step_done(request, slug, number):
    step = _step(slug, number)
    done = request.POST.get("done") == "1"
    services.set_done(request.user, step, done)
    messages.success(request, f"Step {step.number} marked {'done' if done else 'not done'}.")
    return redirect("guide_step", slug=slug, number=number)


@require_POST
def guide_step_save(request, slug, number):
    """Save the step as edited as the user's own query and open it in the editor."""
    step = _step(slug, number)
    sql = normalize_newlines(request.POST.get("sql", "")) or step.sql
    form = RunForm(request.POST, user=request.user, parameter_definitions=services.step_definitions(step, sql))
    form.is_valid()  # only the parameter values matter here; the instance and window are not saved
    values = {name: form.cleaned_data.get(field) for name, field in form.parameter_names}
    try:
        workflow = services.save_step_as_query(request.user, step, sql=sql, values=values)
    except ParameterError as exc:
        messages.error(request, f"Not saved: {exc}")
        return redirect("guide_step", slug=slug, number=number)
    messages.success(request, f"Saved as {workflow.workflow_id}.")
    return redirect("workflow_edit", workflow_id=workflow.workflow_id)
