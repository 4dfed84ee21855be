from django.urls import path

from suppliers.views import SupplierListCreateView

urlpatterns = [
    path("suppliers", SupplierListCreateView.as_view(), name="supplier-list"),
]
