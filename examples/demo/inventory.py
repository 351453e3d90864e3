"""A small inventory module: the demo workspace for `jingu ask` in the README."""


class Inventory:
    """Items in stock, by SKU."""

    def __init__(self):
        self.items = {}

    def add(self, sku, count):
        self.items[sku] = self.items.get(sku, 0) + count

    def remove(self, sku, count):
        if self.items.get(sku, 0) < count:
            raise ValueError("not enough stock for " + sku)
        self.items[sku] -= count

    def total(self):
        return sum(self.items.values())


def restock(inventory, orders):
    for sku, count in orders:
        inventory.add(sku, count)
    return inventory.total()
