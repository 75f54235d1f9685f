from datetime import timedelta

from django.contrib import messages
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from executions.models import Execution
from executions.services import ExecutionInputError
from recomamp.ownership import get_object_for_user, owned_by

from . import imports, lists, services
from .forms import BrandForm, DiscoverForm, FanOutForm, ImportForm
from .models import Brand

PREVIEW_ROWS = 20


def _brand(request, brand_id) -> Brand:
    return get_object_for_user(request.user, Brand, pk=brand_id)


def brand_list(request):
    q = request.GET.get("q", "").strip()
    brands = owned_by(request.user, Brand).annotate(
        asin_count=Count("asins", distinct=True), campaign_count=Count("campaigns", distinct=True),
        instance_count=Count("instances", distinct=True),
    )  # fmt: skip
    if q:
        brands = brands.filter(Q(name__icontains=q) | Q(asins__asin__iexact=q) | Q(campaigns__campaign_id=q)).distinct()
    return render(request, "brands/brand_list.html", {"brands": brands, "q": q})


@require_http_methods(["GET", "POST"])
def brand_create(request):
    form = BrandForm(request.POST or None, user=request.user, instance=Brand(owner=request.user))
    if request.method == "POST" and form.is_valid():
        brand = form.save()
        messages.success(request, f"Brand {brand.name} created.")
        return redirect("brand_detail", brand_id=brand.pk)
    return render(request, "brands/brand_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def brand_edit(request, brand_id):
    brand = _brand(request, brand_id)
    form = BrandForm(request.POST or None, user=request.user, instance=brand)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Brand {brand.name} saved.")
        return redirect("brand_detail", brand_id=brand.pk)
    return render(request, "brands/brand_form.html", {"form": form, "brand": brand})


def brand_detail(request, brand_id):
    brand = _brand(request, brand_id)
    q = request.GET.get("q", "").strip()
    asins, campaigns = brand.asins.all(), brand.campaigns.select_related("instance")
    if q:
        asins = asins.filter(Q(asin__icontains=q) | Q(title__icontains=q))
        campaigns = campaigns.filter(Q(campaign_id__icontains=q) | Q(name__icontains=q))
    instances = brand.instances.all()
    recent = (
        owned_by(request.user, Execution).filter(instance__in=instances).select_related("workflow", "instance")
        .order_by("-created_at")[:10]
    )  # fmt: skip
    context = {
        "brand": brand, "q": q, "instances": instances, "recent": recent,
        "asins": asins[:500], "asin_total": brand.asins.count(),
        "campaigns": campaigns[:500], "campaign_total": brand.campaigns.count(),
        "discover_form": DiscoverForm(user=request.user),
        "fanout_form": FanOutForm(user=request.user, initial=_dates()),
    }  # fmt: skip
    return render(request, "brands/brand_detail.html", context)


@require_POST
def brand_items_remove(request, brand_id):
    brand = _brand(request, brand_id)
    removed = brand.asins.filter(asin__in=request.POST.getlist("asin")).delete()[0]
    removed += brand.campaigns.filter(campaign_id__in=request.POST.getlist("campaign")).delete()[0]
    messages.success(request, f"{removed} item(s) removed from {brand.name}.")
    return redirect("brand_detail", brand_id=brand.pk)


@require_http_methods(["GET", "POST"])
def brand_import(request, brand_id):
    """Preview first (every bad line named), then import the previewed text, all lines or none."""
    brand = _brand(request, brand_id)
    form = ImportForm(request.POST or None, request.FILES or None)
    context = {"brand": brand, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        text = imports.decode(data["raw"])
        try:
            parsed = imports.parse(text, filename=data["filename"], kind=data["kind"] or None, user=request.user)
        except imports.ImportFileError as exc:
            form.add_error(None, str(exc))
            return render(request, "brands/brand_import.html", context)
        if request.POST.get("action") == "import" and parsed.ok:
            outcome = imports.apply(brand, parsed)
            messages.success(request, f"Imported into {brand.name}: {outcome.summary()}.")
            return redirect("brand_detail", brand_id=brand.pk)
        context.update(parsed=parsed, preview=parsed.rows[:PREVIEW_ROWS], text=text, kind=parsed.kind,
                       errors=parsed.errors[: imports.MAX_ERRORS_SHOWN])  # fmt: skip
    return render(request, "brands/brand_import.html", context)


@require_POST
def brand_discover(request, brand_id):
    brand = _brand(request, brand_id)
    form = DiscoverForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, "Choose an active instance and a period.")
        return redirect("brand_detail", brand_id=brand.pk)
    try:
        data = form.cleaned_data
        execution = services.start_discovery(request.user, data["instance"], data["days"], data["until"])
    except ExecutionInputError as exc:
        messages.error(request, f"Could not start discovery: {exc}")
        return redirect("brand_detail", brand_id=brand.pk)
    return redirect("brand_discovered", brand_id=brand.pk, execution_id=execution.execution_id)


@require_http_methods(["GET", "POST"])
def brand_discovered(request, brand_id, execution_id):
    """What discovery found, once its execution has finished; the chosen rows are added in one click."""
    brand = _brand(request, brand_id)
    execution = get_object_for_user(request.user, Execution.objects.select_related("instance"),
                                    execution_id=execution_id)  # fmt: skip
    if request.method == "POST":
        asins, campaigns = services.add_discovered(brand, execution, set(request.POST.getlist("item")))
        messages.success(request, f"Added {asins} ASIN(s) and {campaigns} campaign(s) to {brand.name}.")
        return redirect("brand_detail", brand_id=brand.pk)
    rows = services.discovered_rows(execution) if execution.status == Execution.Status.SUCCEEDED else []
    return render(request, "brands/brand_discovered.html", {"brand": brand, "execution": execution, "rows": rows})


def brand_picker_brands(request):
    """JSON for the list picker: the user's brands with their list sizes."""
    brands = owned_by(request.user, Brand).annotate(
        asins_count=Count("asins", distinct=True), campaigns_count=Count("campaigns", distinct=True)
    )
    data = [{"id": b.pk, "name": b.name, "asins": b.asins_count, "campaigns": b.campaigns_count} for b in brands]
    return JsonResponse({"brands": data})


def brand_picker_items(request, brand_id):
    """JSON for the list picker: one brand's ASINs or campaigns, and the reference that resolves at run time."""
    brand = _brand(request, brand_id)
    kind = "campaigns" if request.GET.get("kind") == "campaigns" else "asins"
    if kind == "asins":
        items = [{"value": a, "label": t} for a, t in brand.asins.order_by("asin").values_list("asin", "title")]
    else:
        items = [
            {"value": c, "label": f"{n} ({t})", "type": t}
            for c, n, t in brand.campaigns.order_by("type", "campaign_id").values_list("campaign_id", "name", "type")
        ]
    return JsonResponse({"brand": brand.name, "kind": kind, "reference": lists.reference(brand, kind), "items": items})


def _dates() -> dict:
    from django.utils import timezone

    today = timezone.localdate()
    return {"start_date": today - timedelta(days=8), "end_date": today - timedelta(days=2)}
