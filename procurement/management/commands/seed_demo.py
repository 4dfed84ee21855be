"""``python manage.py seed_demo``: a realistic demo dataset, for demos and manual testing.

Fills an EMPTY database (no supplier, stock level, adjustment or purchase order); on a database
that holds any, it does nothing and says so (exit status 0), so that ``make run`` can call it on
every start. There is no ``--force``: to start again, delete the embedded database file.

What it loads, in one transaction:
- the three roles (``setup_roles``) and demo staff users ``clerk``, ``approver``, ``approver2``,
  ``warehouse`` (one role each) and the superuser ``admin``, all with one password: random and
  printed, or ``--password``; an existing user of one of these names keeps its password and is
  only added to its role;
- five suppliers (one inactive), registered through ``suppliers.services``;
- nine gear categories at three locations with 90 days of history: an opening receipt, daily
  consumption, restocking receipts, a physical count and the odd damage write-off. The history is
  written in bulk (it needs past timestamps, which the services do not take), with every row's
  ``quantity_after`` and each level's ``quantity_on_hand`` consistent with the ledger;
- purchase orders in every status, created and moved through ``procurement.services`` (history,
  approvals, receipts into stock), then dated back to plausible past times; supplier performance
  is then recomputed from the receipts;
- reorder points computed from the consumption (``recalculate_reorder_points``), so each level
  shows its working, and the reorder alerts that follow.

``--embedded-only`` does nothing unless the database is the embedded SQLite one (``make run``).
"""

import math
import random
import secrets
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from procurement import services
from procurement.lead_times import refresh_supplier_performance
from procurement.models import POStatus, POStatusChange, PurchaseOrder
from procurement.replenishment import recalculate_reorder_points
from procurement.roles import setup_roles
from stock.models import AdjustmentReason, ReorderAlert, StockAdjustment, StockLevel
from stock.services import sync_alerts
from suppliers.models import LeadTimeObservation, Supplier
from suppliers.services import register_supplier

HISTORY_DAYS = 90
LOCATIONS = {
    "Boulder flagship store": uuid.UUID("b0a1d3e2-5c4f-4a6b-8d7e-1f2a3b4c5d01"),
    "Moab river outpost": uuid.UUID("b0a1d3e2-5c4f-4a6b-8d7e-1f2a3b4c5d02"),
    "Denver central warehouse": uuid.UUID("b0a1d3e2-5c4f-4a6b-8d7e-1f2a3b4c5d03"),
}
# Demand at a location is the item's base demand times the location's factor.
LOCATION_DEMAND = [1.0, 0.7, 0.4]
# item_type: (list price, base units consumed per day)
ITEMS = {
    "tent-2p": ("189.00", 1.2),
    "tent-4p": ("329.00", 0.5),
    "sleeping-bag": ("119.00", 1.6),
    "backpack-65l": ("229.00", 0.8),
    "headlamp": ("39.00", 3.0),
    "camp-stove": ("89.00", 1.1),
    "kayak": ("899.00", 0.3),
    "paddle": ("79.00", 0.9),
    "climbing-rope": ("149.00", 0.7),
}
# name, email, declared lead time (days), rating, active
SUPPLIERS = [
    ("Summit Gear Supply", "orders@summitgear.example.com", 7, "4.60", True),
    ("Ridgeline Outfitters", "purchasing@ridgeline.example.com", 10, "4.20", True),
    ("Rapids Paddle Co.", "sales@rapidspaddle.example.com", 14, "4.80", True),
    ("Granite Climbing Works", "trade@granitecw.example.com", 5, "3.90", True),
    ("Old Trail Trading", "info@oldtrail.example.com", 21, "2.50", False),
]
# username, role (None: superuser)
USERS = [
    ("admin", None),
    ("clerk", "Procurement clerks"),
    ("approver", "Approvers"),
    ("approver2", "Approvers"),
    ("warehouse", "Warehouse staff"),
]
# supplier index, status, days ago it was created, lines (item, location index, quantity),
# actual lead time in days for received ones, who created it.
PURCHASE_ORDERS = [
    (0, POStatus.RECEIVED, 80, [("tent-2p", 0, 40), ("sleeping-bag", 0, 50)], 6.5, "clerk"),
    (0, POStatus.RECEIVED, 62, [("tent-4p", 1, 12), ("tent-2p", 1, 25)], 8.0, "clerk"),
    (0, POStatus.RECEIVED, 41, [("sleeping-bag", 2, 30)], 7.2, "clerk"),
    (0, POStatus.RECEIVED, 24, [("tent-2p", 2, 20)], 6.8, "clerk"),
    (1, POStatus.RECEIVED, 75, [("headlamp", 0, 120), ("camp-stove", 0, 30)], 11.5, "clerk"),
    (1, POStatus.RECEIVED, 52, [("backpack-65l", 1, 20)], 9.0, "clerk"),
    (1, POStatus.RECEIVED, 33, [("headlamp", 2, 80)], 13.0, "clerk"),
    (2, POStatus.RECEIVED, 70, [("kayak", 1, 6), ("paddle", 1, 20)], 15.0, "clerk"),
    (3, POStatus.RECEIVED, 45, [("climbing-rope", 0, 25)], 5.5, "clerk"),
    (0, POStatus.SHIPPED, 9, [("tent-4p", 0, 10)], None, "clerk"),
    (2, POStatus.SHIPPED, 20, [("paddle", 2, 15)], None, "clerk"),
    (1, POStatus.APPROVED, 4, [("camp-stove", 1, 24), ("headlamp", 1, 60)], None, "clerk"),
    (3, POStatus.APPROVED, 2, [("climbing-rope", 2, 18)], None, "clerk"),
    (0, POStatus.SUBMITTED, 1, [("sleeping-bag", 1, 35), ("tent-2p", 0, 30)], None, "clerk"),
    (2, POStatus.SUBMITTED, 1, [("kayak", 0, 4)], None, "clerk"),
    (1, POStatus.SUBMITTED, 0, [("backpack-65l", 0, 15)], None, "approver"),
    (3, POStatus.REJECTED, 15, [("climbing-rope", 1, 200)], None, "clerk"),
    (1, POStatus.CANCELLED, 30, [("camp-stove", 2, 10)], None, "clerk"),
    (0, POStatus.DRAFT, 0, [("tent-2p", 2, 20), ("tent-4p", 2, 8)], None, "clerk"),
    (3, POStatus.DRAFT, 0, [], None, "clerk"),
]
STEPS = {
    POStatus.DRAFT: [],
    POStatus.SUBMITTED: [POStatus.SUBMITTED],
    POStatus.APPROVED: [POStatus.SUBMITTED, POStatus.APPROVED],
    POStatus.SHIPPED: [POStatus.SUBMITTED, POStatus.APPROVED, POStatus.SHIPPED],
    POStatus.RECEIVED: [
        POStatus.SUBMITTED,
        POStatus.APPROVED,
        POStatus.SHIPPED,
        POStatus.RECEIVED,
    ],
    POStatus.REJECTED: [POStatus.SUBMITTED, POStatus.REJECTED],
    POStatus.CANCELLED: [POStatus.CANCELLED],
}
# Who takes each step.
ACTORS = {
    POStatus.SUBMITTED: "clerk",
    POStatus.APPROVED: "approver",
    POStatus.REJECTED: "approver",
    POStatus.SHIPPED: "warehouse",
    POStatus.RECEIVED: "warehouse",
    POStatus.CANCELLED: "clerk",
}
REASONS = {
    POStatus.REJECTED: "Quantity far above a season's demand; split it over two orders.",
    POStatus.CANCELLED: "Duplicate of an earlier order.",
}


class Command(BaseCommand):
    help = (
        "Load a realistic demo dataset (suppliers, stock at three locations with 90 days of "
        "consumption, purchase orders in every status, demo users in each role) into an empty "
        "database. Does nothing if the database already holds data."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help="Password of every demo user (default: a random one, printed at the end).",
        )
        parser.add_argument(
            "--embedded-only",
            action="store_true",
            help="Do nothing unless the database is the embedded SQLite one (used by make run).",
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="Random seed of the generated history."
        )

    def handle(self, *args, **options):
        if options["embedded_only"] and connection.vendor != "sqlite":
            self.stdout.write(
                "Not the embedded database: nothing loaded. Run `manage.py seed_demo` to load "
                "demo data into an empty database."
            )
            return
        existing = {
            "suppliers": Supplier.objects.count(),
            "stock levels": StockLevel.objects.count(),
            "purchase orders": PurchaseOrder.objects.count(),
        }
        if any(existing.values()) or StockAdjustment.objects.exists():
            held = ", ".join(f"{count} {name}" for name, count in existing.items())
            self.stdout.write(
                f"The database already holds data ({held}); seed_demo only fills an empty "
                "database, so nothing was loaded."
            )
            self.stdout.write(
                "Log in at /admin/ with your users (the demo users, if seed_demo loaded them: "
                f"{', '.join(name for name, _ in USERS)}; "
                "`manage.py changepassword <user>` sets a new password)."
            )
            return

        password = options["password"] or secrets.token_urlsafe(9)
        with transaction.atomic():
            users = _users(password)
            # Reproducible demo data, not a secret.
            summary = Seeder(rng=random.Random(options["seed"])).run()  # noqa: S311
        self._report(summary, users, password)

    def _report(self, summary, users, password):
        write = self.stdout.write
        statuses = ", ".join(f"{status} {count}" for status, count in summary["statuses"].items())
        write(
            self.style.SUCCESS(
                f"Demo data loaded: {summary['suppliers']} suppliers, {summary['levels']} stock "
                f"levels at {len(LOCATIONS)} locations, {summary['adjustments']} stock "
                f"adjustments over {HISTORY_DAYS} days, {summary['pos']} purchase orders "
                f"({statuses}), {summary['alerts']} open reorder alerts."
            )
        )
        write("Locations: " + "; ".join(f"{name} = {loc}" for name, loc in LOCATIONS.items()))
        write("Log in at /admin/ (e.g. http://127.0.0.1:8000/admin/) as:")
        for name, (role, created) in users.items():
            state = "" if created else " (existing user: password unchanged)"
            write(f"  {name:<10} {role or 'superuser'}{state}")
        write(f"Password of the demo users: {password}")


def _users(password):
    """The demo users: ``{username: (role, created)}``. An existing user keeps its password
    and is only added to its demo role."""
    setup_roles()
    model = get_user_model()
    groups = {group.name: group for group in Group.objects.all()}
    users = {}
    for username, role in USERS:
        user = model.objects.filter(username=username).first()
        created = user is None
        if created and role is None:
            user = model.objects.create_superuser(
                username, f"{username}@novatrek.example", password
            )
        elif created:
            user = model.objects.create_user(
                username, f"{username}@novatrek.example", password, is_staff=True
            )
        if role is not None:
            # The demo's purchase orders are moved by these users: they need their role.
            user.groups.add(groups[role])
        users[username] = (role, created)
    return users


class Seeder:
    def __init__(self, *, rng):
        self.rng = rng
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)

    def run(self):
        suppliers = [
            register_supplier(
                name=name,
                contact_email=email,
                lead_time_days=lead,
                rating=Decimal(rating),
                active=active,
            )
            for name, email, lead, rating, active in SUPPLIERS
        ]
        levels = self._history()
        pos = self._purchase_orders(suppliers)
        # The receipts went through the service and were dated back since: their lead-time
        # history is written again, receipt by receipt, as it grew.
        LeadTimeObservation.objects.filter(po_id__in=[po.pk for po in pos]).delete()
        received = PurchaseOrder.objects.filter(
            pk__in=[po.pk for po in pos], received_at__isnull=False, approved_at__isnull=False
        ).order_by("received_at", "po_id")
        for supplier_id, po_id in received.values_list("supplier_id", "po_id"):
            refresh_supplier_performance(supplier_id=supplier_id, now=self.now, po_id=po_id)
        for supplier in suppliers:
            refresh_supplier_performance(supplier_id=supplier.pk, now=self.now)
        self._rebuild_ledger()
        recalculate_reorder_points(window_days=HISTORY_DAYS, now=self.now)
        sync_alerts(levels=list(StockLevel.objects.all()), now=self.now)
        statuses = {status: 0 for status in POStatus.values}
        for po in PurchaseOrder.objects.filter(pk__in=[po.pk for po in pos]):
            statuses[po.status] += 1
        return {
            "suppliers": len(suppliers),
            "levels": len(levels),
            "adjustments": StockAdjustment.objects.count(),
            "pos": len(pos),
            "statuses": statuses,
            "alerts": ReorderAlert.objects.filter(resolved_at__isnull=True).count(),
        }

    # --- stock history ---------------------------------------------------------------------

    def _at(self, days_ago, hour, minute=0):
        day = self.today - timedelta(days=days_ago)
        moment = datetime.combine(day, time(hour, minute, self.rng.randrange(60)))
        return timezone.make_aware(moment)

    def _poisson(self, mean):
        """Knuth's method: fine for the small means of daily demand."""
        limit, count, product = math.exp(-mean), 0, self.rng.random()
        while product > limit:
            count += 1
            product *= self.rng.random()
        return count

    def _history(self):
        """Every (item, location) level with its 90-day ledger, in bulk. A third of the levels
        stop being restocked three weeks ago and run low, so that alerts open."""
        levels, rows = [], []
        for item_type, (_, base_demand) in ITEMS.items():
            for index, location_id in enumerate(LOCATIONS.values()):
                mean = base_demand * LOCATION_DEMAND[index]
                running_low = self.rng.random() < 0.35
                level = StockLevel(
                    item_type=item_type,
                    location_id=location_id,
                    quantity_on_hand=0,
                    reorder_point=math.ceil(mean * 8),
                    reorder_quantity=max(5, math.ceil(mean * 30)),
                )
                quantity = 0

                def add(reason, delta, at, note="", counted=None, level=level):
                    nonlocal quantity
                    quantity += delta
                    rows.append(
                        StockAdjustment(
                            stock=level,
                            reason=reason,
                            quantity_delta=delta,
                            quantity_after=quantity,
                            counted_quantity=counted,
                            note=note,
                            adjusted_by="warehouse",
                            created_at=at,
                        )
                    )

                add("receipt", max(10, math.ceil(mean * 40)), self._at(HISTORY_DAYS, 8), "Opening")
                for days_ago in range(HISTORY_DAYS - 1, -1, -1):
                    if days_ago == 0 and self.now < self._at(0, 18):
                        break
                    take = min(self._poisson(mean), quantity)
                    if take:
                        add("consumption", -take, self._at(days_ago, 17, self.rng.randrange(60)))
                    if quantity and self.rng.random() < 0.01:
                        add("damage", -1, self._at(days_ago, 12), "Torn in storage")
                    if days_ago == 30:
                        counted = max(0, quantity - self.rng.choice([0, 0, 1, 2]))
                        at = self._at(days_ago, 19)
                        add("count", counted - quantity, at, "Monthly count", counted)
                        level.last_counted_at = at
                    restock = not (running_low and days_ago < 21)
                    if restock and quantity < mean * 8 and days_ago > 0:
                        add("receipt", level.reorder_quantity, self._at(days_ago, 18))
                level.quantity_on_hand = quantity
                levels.append(level)
        StockLevel.objects.bulk_create(levels)
        StockAdjustment.objects.bulk_create(rows, batch_size=1000)
        return levels

    def _rebuild_ledger(self):
        """After receipts were dated back, recompute each row's ``quantity_after`` (and a
        count's ``counted_quantity``) as the running sum of its level's deltas in time order,
        and check it against the level's quantity on hand."""
        rows = list(
            StockAdjustment.objects.order_by("stock_id", "created_at", "adjustment_id").only(
                "adjustment_id",
                "stock_id",
                "reason",
                "quantity_delta",
                "quantity_after",
                "counted_quantity",
            )
        )
        running, changed = {}, []
        for row in rows:
            after = running.get(row.stock_id, 0) + row.quantity_delta
            if after < 0:
                raise RuntimeError(f"seed_demo: the ledger of {row.stock_id} goes below zero")
            running[row.stock_id] = after
            counted = after if row.reason == AdjustmentReason.COUNT else row.counted_quantity
            if (row.quantity_after, row.counted_quantity) != (after, counted):
                row.quantity_after, row.counted_quantity = after, counted
                changed.append(row)
        StockAdjustment.objects.bulk_update(
            changed, ["quantity_after", "counted_quantity"], batch_size=1000
        )
        for stock_id, quantity in StockLevel.objects.values_list("stock_id", "quantity_on_hand"):
            if running.get(stock_id, 0) != quantity:
                raise RuntimeError(f"seed_demo: stock level {stock_id} disagrees with its ledger")

    # --- purchase orders -------------------------------------------------------------------

    def _purchase_orders(self, suppliers):
        names = {actor for actor in ACTORS.values()}
        users = {
            user.username: user for user in get_user_model().objects.filter(username__in=names)
        }
        locations = list(LOCATIONS.values())
        pos = []
        for supplier_index, status, days_ago, lines, lead, creator in PURCHASE_ORDERS:
            supplier = suppliers[supplier_index]
            po = services.create_purchase_order(
                supplier_id=supplier.pk,
                created_by=creator,
                line_items=[
                    {
                        "item_type": item_type,
                        "location_id": locations[location],
                        "quantity": quantity,
                        # Trade price: a little over half the list price.
                        "unit_price": (Decimal(ITEMS[item_type][0]) * Decimal("0.55")).quantize(
                            Decimal("0.01")
                        ),
                    }
                    for item_type, location, quantity in lines
                ],
            )
            for step in STEPS[status]:
                services.transition_purchase_order(
                    po_id=po.pk,
                    target_status=step,
                    user=users[ACTORS[step]],
                    reason=REASONS.get(step, ""),
                )
            self._date_back(po, supplier=supplier, status=status, days_ago=days_ago, lead=lead)
            pos.append(po)
        return pos

    def _date_back(self, po, *, supplier, status, days_ago, lead):
        """Move the PO's timestamps (and its history and receipt adjustments) to when they would
        have happened: created ``days_ago`` at 9:00, submitted 2 hours later, decided the next
        morning, shipped halfway, received ``lead`` days after approval."""
        created = self._at(days_ago, 9)
        submitted = created + timedelta(hours=2)
        decided = min(created + timedelta(days=1), self.now - timedelta(minutes=30))
        if days_ago == 0:
            decided = submitted + timedelta(minutes=20)
        actual = lead if lead is not None else supplier.lead_time_days
        received = decided + timedelta(days=actual)
        shipped = decided + timedelta(days=actual / 2)
        times = {
            POStatus.SUBMITTED: submitted,
            POStatus.APPROVED: decided,
            POStatus.REJECTED: decided,
            POStatus.SHIPPED: min(shipped, self.now - timedelta(minutes=10)),
            POStatus.RECEIVED: received,
            POStatus.CANCELLED: submitted,
        }
        fields = {"created_at": created}
        if status not in (POStatus.DRAFT, POStatus.CANCELLED):
            fields["submitted_at"] = submitted
            fields["expected_delivery_date"] = timezone.localdate(submitted) + timedelta(
                days=supplier.lead_time_days
            )
        if status in (POStatus.APPROVED, POStatus.SHIPPED, POStatus.RECEIVED):
            fields["approved_at"] = decided
            fields["expected_delivery_date"] = timezone.localdate(decided) + timedelta(
                days=supplier.lead_time_days
            )
        if status == POStatus.RECEIVED:
            fields["received_at"] = received
            StockAdjustment.objects.filter(po_id=po.pk).update(created_at=received)
        PurchaseOrder.objects.filter(pk=po.pk).update(**fields)
        for change in POStatusChange.objects.filter(purchase_order=po):
            change.changed_at = times[change.to_status]
            change.save(update_fields=["changed_at"])
