class Inventory:
    """Tracks item counts."""

    def __init__(self):
        self.items = {}

    def add(self, name, qty=1):
        self.items[name] = self.items.get(name, 0) + qty

    def remove(self, name, qty=1):
        if self.items.get(name, 0) < qty:
            raise ValueError(f"not enough {name}")
        self.items[name] -= qty
        if self.items[name] == 0:
            del self.items[name]

    def report(self):
        return sorted(self.items.items())


def parse(line):
    op, name, *rest = line.split()
    qty = int(rest[0]) if rest else 1
    return op, name, qty


inv = Inventory()
errors = 0
while True:
    try:
        line = input()
    except EOFError:
        break
    op, name, qty = parse(line)
    try:
        if op == 'add':
            inv.add(name, qty=qty)
        else:
            inv.remove(name, qty)
    except ValueError as e:
        errors += 1
        print('error:', e)
for name, qty in inv.report():
    print(name, qty)
print('errors', errors)
