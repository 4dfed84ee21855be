"""Stock in the admin: levels, the adjustment ledger and reorder alerts.

Every write goes through ``stock.services``: a new level starts at 0 (``create_stock_level``),
reorder settings change with ``update_reorder_settings`` (which opens or resolves alerts), and the
quantity on hand only changes through the adjustment form (``record_adjustment``). The ledger and
the alerts are read-only. ``ReorderAlertAdmin`` is registered by ``procurement.admin``, with the
action that turns alerts into purchase orders (the stock app does not depend on procurement).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from common.admin import ReadOnlyAdminMixin, adopt_saved
from common.errors import Conflict, DomainError
from stock import charts as stock_charts
from stock import services
from stock.forms import StockAdjustmentForm, StockLevelForm
from stock.models import AdjustmentReason, StockAdjustment, StockLevel
from stock.selectors import list_open_alerts

ADD_ADJUSTMENT_PERMISSION = "stock.add_stockadjustment"


class DomainErrorsAsMessagesMixin:
    """A domain error raised while saving (the form validated, then the service refused, e.g.
    because someone else changed the row meanwhile) rolls back the whole save and comes back
    as an error message on the same page instead of a server error."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            self.message_user(request, self.domain_error_message(error, object_id), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def domain_error_message(self, error, object_id):
        return error.message


class BelowReorderPointFilter(admin.SimpleListFilter):
    title = "below reorder point"
    parameter_name = "below_reorder_point"

    def lookups(self, request, model_admin):
        return [("yes", "At or below its reorder point"), ("no", "Above its reorder point")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(quantity_on_hand__lte=F("reorder_point"))
        if self.value() == "no":
            return queryset.filter(quantity_on_hand__gt=F("reorder_point"))
        return queryset


@admin.register(StockLevel)
class StockLevelAdmin(DomainErrorsAsMessagesMixin, admin.ModelAdmin):
    form = StockLevelForm
    list_display = [
        "item_type",
        "location_id",
        "quantity_on_hand",
        "reorder_point",
        "reorder_quantity",
        "below_point",
        "calculated_point",
        "last_counted_at",
    ]
    list_filter = [BelowReorderPointFilter, "item_type", "location_id"]
    search_fields = ["item_type", "location_id__startswith"]
    list_select_related = ["reorder_calculation"]
    readonly_fields = [
        "stock_id",
        "quantity_on_hand",
        "last_counted_at",
        "reorder_working",
        "ledger",
        "charts",
    ]
    change_form_template = "admin/stock/stocklevel/change_form.html"

    class Media:
        css = {"all": ["planning/charts.css"]}

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (
                    None,
                    {
                        "fields": ["item_type", "location_id", "reorder_point", "reorder_quantity"],
                        "description": (
                            "A new stock level starts with nothing on hand; record a receipt "
                            "to add stock."
                        ),
                    },
                )
            ]
        return [
            (
                None,
                {
                    "fields": [
                        "stock_id",
                        "item_type",
                        "location_id",
                        "quantity_on_hand",
                        "last_counted_at",
                        "ledger",
                    ]
                },
            ),
            (
                "Replenishment",
                {"fields": ["reorder_point", "reorder_quantity", "reorder_working"]},
            ),
            (
                f"Last {stock_charts.HISTORY_DAYS} days",
                {"fields": ["charts"], "classes": ["planning"]},
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # A level with a ledger keeps its identity.
        return [*self.readonly_fields, "item_type", "location_id"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            level = services.update_reorder_settings(
                stock_id=obj.pk,
                reorder_point=data["reorder_point"],
                reorder_quantity=data["reorder_quantity"],
                actor=request.user.get_username(),
            )
        else:
            level = services.create_stock_level(
                item_type=data["item_type"],
                location_id=data["location_id"],
                reorder_point=data["reorder_point"],
                reorder_quantity=data["reorder_quantity"],
                actor=request.user.get_username(),
            )
        adopt_saved(obj, level)

    @admin.display(boolean=True, description="below point")
    def below_point(self, obj):
        return obj.below_reorder_point

    @admin.display(description="calculated point")
    def calculated_point(self, obj):
        calculation = obj.reorder_calculation
        if calculation is None:
            return "-"
        if calculation.skipped:
            return f"skipped ({calculation.get_skipped_reason_display().lower()})"
        return calculation.reorder_point

    @admin.display(description="reorder-point working")
    def reorder_working(self, obj):
        """The inputs and result of the latest reorder point calculation."""
        calculation = obj.reorder_calculation
        if calculation is None:
            return "Not calculated yet: run manage.py recalculate_reorder_points."
        when = calculation.computed_at.strftime("%Y-%m-%d %H:%M UTC")
        if calculation.skipped:
            return format_html(
                "Skipped on {}: {}. The point was left at {}.",
                when,
                calculation.get_skipped_reason_display().lower(),
                calculation.previous_reorder_point,
            )
        rows = [("method", calculation.get_method_display())]
        if calculation.seasonal_trend is not None:
            rows += [
                (
                    "same days a year earlier",
                    f"{calculation.seasonal_base_demand:.3f} units/day "
                    f"(s.d. {calculation.seasonal_base_stddev:.3f}) over "
                    f"{calculation.seasonal_sample_days} days around the same dates",
                ),
                (
                    "trend",
                    f"{calculation.seasonal_trend:.3f} = {calculation.seasonal_window_total} units "
                    f"over the last {calculation.window_days} days / "
                    f"{calculation.seasonal_window_total_last_year} a year earlier",
                ),
            ]
        rows += [
            ("d (mean daily demand)", f"{calculation.mean_daily_demand:.3f} units/day"),
            ("s_d (demand std. dev.)", f"{calculation.demand_stddev:.3f}"),
            (
                "L (lead time)",
                f"{calculation.lead_time_days:.2f} days "
                f"({calculation.get_lead_time_source_display().lower()})",
            ),
            ("s_L (lead time std. dev.)", f"{calculation.lead_time_stddev_days:.2f} days"),
            ("review period", f"{calculation.review_days} days"),
            ("z", f"{calculation.z:.3f} (service level {calculation.service_level:.1%})"),
            (
                "window",
                f"{calculation.window_days} days ({calculation.history_days} days of history)",
            ),
            (
                "result",
                f"ceil(d*L' + z*sqrt(L'*s_d^2 + d^2*s_L^2)), L' = L + review = "
                f"{calculation.reorder_point} (was {calculation.previous_reorder_point})",
            ),
            ("computed", when),
        ]
        body = format_html(
            "".join("<tr><th>{}</th><td>{}</td></tr>" for _ in rows),
            *[value for row in rows for value in row],
        )
        return format_html('<table class="reorder-working">{}</table>', body)

    @admin.display(description="charts")
    def charts(self, obj):
        """On hand against the reorder point, and consumption, drawn from the ledger."""
        return stock_charts.level_charts(obj)

    @admin.display(description="ledger")
    def ledger(self, obj):
        url = reverse("admin:stock_stockadjustment_changelist")
        return format_html(
            '<a href="{}?stock__stock_id__exact={}">Adjustments of this level</a>', url, obj.pk
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_record_adjustment"] = bool(
            obj is not None and request.user.has_perm(ADD_ADJUSTMENT_PERMISSION)
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        adjust = path(
            "<path:object_id>/adjust/",
            self.admin_site.admin_view(self.adjustment_view),
            name="stock_stocklevel_adjust",
        )
        return [adjust, *super().get_urls()]

    def adjustment_view(self, request, object_id):
        """The stock-correction form: records one adjustment through ``record_adjustment``.
        Invalid input comes back as form errors (400; 409 when the stock would go below zero)
        and nothing is written."""
        if not request.user.has_perm(ADD_ADJUSTMENT_PERMISSION):
            raise PermissionDenied
        level = self.get_object(request, object_id)
        if level is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        status = 200
        if request.method == "POST":
            form = StockAdjustmentForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    adjustment = services.record_adjustment(
                        reason=data["reason"],
                        adjusted_by=request.user.get_username(),
                        stock_id=level.pk,
                        quantity_delta=data["quantity_delta"],
                        counted_quantity=data["counted_quantity"],
                        note=data["note"],
                    )
                except DomainError as error:
                    field = error.field if error.field in form.fields else None
                    form.add_error(field, error.message)
                    status = 409 if isinstance(error, Conflict) else 400
                else:
                    self.message_user(
                        request,
                        f"Recorded {AdjustmentReason(adjustment.reason).label.lower()} of "
                        f"{adjustment.quantity_delta:+d} for {level}: "
                        f"{adjustment.quantity_after} on hand now.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:stock_stocklevel_change", args=[level.pk])
                    )
            else:
                status = 400
        else:
            form = StockAdjustmentForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Record a stock adjustment",
            "subtitle": str(level),
            "level": level,
            "form": form,
        }
        return TemplateResponse(
            request, "admin/stock/stocklevel/adjustment_form.html", context, status=status
        )


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The ledger: read-only. Adjustments are recorded from a stock level's page."""

    list_display = [
        "created_at",
        "item_type",
        "location_id",
        "reason",
        "quantity_delta",
        "quantity_after",
        "adjusted_by",
        "po_id",
        "note",
    ]
    list_filter = ["reason", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["stock__item_type", "adjusted_by", "note"]
    list_select_related = ["stock"]

    @admin.display(ordering="stock__item_type")
    def item_type(self, obj):
        return obj.stock.item_type

    @admin.display(ordering="stock__location_id")
    def location_id(self, obj):
        return obj.stock.location_id


class AlertStateFilter(admin.SimpleListFilter):
    """Open (the default), resolved or all."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved"), ("all", "All")]

    def choices(self, changelist):
        current = self.value() or "open"
        for value, title in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": title,
            }

    def queryset(self, request, queryset):
        state = self.value() or "open"
        if state == "open":
            return queryset.filter(resolved_at__isnull=True)
        if state == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class ReorderAlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "item_type",
        "location_id",
        "quantity_on_hand",
        "reorder_point",
        "suggested_quantity",
        "quantity_on_order",
        "created_at",
        "resolved_at",
    ]
    list_filter = [AlertStateFilter, "stock__item_type"]
    search_fields = ["stock__item_type"]
    list_select_related = ["stock"]

    def get_changelist_instance(self, request):
        """Adds the open alerts' ``suggested_quantity`` and ``quantity_on_order``, as
        ``list_open_alerts`` computes them, to the page: one query for the whole page."""
        changelist = super().get_changelist_instance(request)
        changelist.result_list = list(changelist.result_list)
        open_ids = [alert.pk for alert in changelist.result_list if alert.resolved_at is None]
        figures = {
            alert_id: (suggested, on_order)
            for alert_id, suggested, on_order in list_open_alerts()
            .filter(pk__in=open_ids)
            .values_list("alert_id", "suggested_quantity", "quantity_on_order")
        }
        for alert in changelist.result_list:
            alert.suggested_quantity, alert.quantity_on_order = figures.get(alert.pk, (None, None))
        return changelist

    @admin.display(ordering="stock__item_type")
    def item_type(self, obj):
        return obj.stock.item_type

    @admin.display(ordering="stock__location_id")
    def location_id(self, obj):
        return obj.stock.location_id

    @admin.display(description="on hand now", ordering="stock__quantity_on_hand")
    def quantity_on_hand(self, obj):
        return obj.stock.quantity_on_hand

    @admin.display(description="reorder point now", ordering="stock__reorder_point")
    def reorder_point(self, obj):
        return obj.stock.reorder_point

    @admin.display(description="suggested")
    def suggested_quantity(self, obj):
        return getattr(obj, "suggested_quantity", None)

    @admin.display(description="on order")
    def quantity_on_order(self, obj):
        return getattr(obj, "quantity_on_order", None)
