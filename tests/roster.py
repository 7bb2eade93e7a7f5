"""The store and staff every counter test database starts with (see conftest.template_db)."""

STORE_ID = "test-store"
CASHIER = "cashier-1"
GUIDE = "guide-1"
MANAGER = "manager-1"
