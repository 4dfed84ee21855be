import uuid
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from accounts import services as account_services
from accounts.models import ApiToken
from procurement.models import POLineItem, PurchaseOrder
from stock.models import StockLevel
from suppliers.models import Supplier


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@novatrek.example")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def perms(self, create, extracted, **kwargs):
        """``UserFactory(perms=["stock.add_stockadjustment", ...])``"""
        if not extracted:
            return
        for name in extracted:
            app_label, codename = name.split(".")
            self.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        self.save()


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """An API token issued by the service (only the key's hash is stored); the key, which the
    database does not hold, is on the instance as ``key``."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"token {n}")
    expires_in_days = None

    @classmethod
    def _create(cls, model_class, user, name, expires_in_days):
        token, key = account_services.create_api_token(
            user=user, name=name, expires_in_days=expires_in_days
        )
        token.key = key
        return token


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"Summit Gear Supply {n}")
    contact_email = factory.Sequence(lambda n: f"orders{n}@supplier.example.com")
    lead_time_days = 7
    rating = Decimal("4.50")
    active = True


class StockLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockLevel

    item_type = factory.Sequence(lambda n: f"tent-{n}")
    location_id = factory.LazyFunction(uuid.uuid4)
    quantity_on_hand = 0
    reorder_point = 5
    reorder_quantity = 20


class PurchaseOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrder

    supplier = factory.SubFactory(SupplierFactory)
    total_amount = Decimal("0.00")
    currency = "USD"
    created_by = "clerk"


class POLineItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = POLineItem

    purchase_order = factory.SubFactory(PurchaseOrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    item_type = factory.Sequence(lambda n: f"kayak-{n}")
    location_id = factory.LazyFunction(uuid.uuid4)
    quantity = 3
    unit_price = Decimal("10.00")
