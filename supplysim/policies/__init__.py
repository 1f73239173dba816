"""Policies: ordering (inventory) rules and allocation at a short supplier."""
from .allocation import ALLOCATORS, allocate
from .ordering import order_quantity

__all__ = ["ALLOCATORS", "allocate", "order_quantity"]
