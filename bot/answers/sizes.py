"""Customer sizes as numbers: "86 家门店", "42 家门店 + 1 个中央工厂", "1,200 seats", "a 40-store chain".

A size is read as counts per dimension (stores, central kitchens, seats); the first count of a
dimension is the headline one ("210 家门店（直营 58 家，加盟 152 家）" is 210 stores).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Unit words per dimension, longest first within the pattern so "中央工厂" wins over "工厂".
DIMENSION_WORDS: dict[str, tuple[str, ...]] = {
    "kitchens": (
        "central kitchens", "central kitchen", "commissaries", "commissary", "factories", "factory",
        "中央厨房", "中央工厂", "央厨", "工厂",
    ),
    "seats": ("seats", "seat", "座位", "个座位", "座"),
    "stores": (
        "restaurants", "restaurant", "stores", "store", "outlets", "outlet", "locations", "location",
        "venues", "venue", "sites", "site", "shops", "shop", "branches", "branch", "units", "canteens", "canteen",
        "clinics", "clinic", "warehouses", "warehouse",
        "门店", "家门店", "家店", "家", "店", "园区食堂", "食堂", "间", "个园区", "诊所", "仓",
    ),
}  # fmt: skip
_DIMENSION_OF = {word: dimension for dimension, words in DIMENSION_WORDS.items() for word in words}
_UNIT = "|".join(re.escape(word) for word in sorted(_DIMENSION_OF, key=len, reverse=True))
# "86 家门店", "3 个园区食堂", "40-store", "1,200 seats"; an ASCII unit must end at a word boundary.
_SIZE = re.compile(
    r"(?<![\w.])((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(?:-\s*)?(?:个|家|间)?\s*(" + _UNIT + r")(?![A-Za-z])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Size:
    """Counts per dimension, in the order the text states them."""

    counts: tuple[tuple[str, float], ...] = ()

    def of(self, dimension: str) -> float | None:
        return next((count for name, count in self.counts if name == dimension), None)

    @property
    def stores(self) -> float | None:
        return self.of("stores")

    def __bool__(self) -> bool:
        return bool(self.counts)


def parse_size(text: str) -> Size:
    """The counts a size text states; an empty Size when it states none ("similar size")."""
    counts: dict[str, float] = {}
    for number, unit in _SIZE.findall(text):
        dimension = _DIMENSION_OF[unit.lower()]
        counts.setdefault(dimension, float(number.replace(",", "")))
    return Size(tuple(counts.items()))


def size_ratio(a: float, b: float) -> float:
    """How many times larger the larger of two positive counts is (1.0 = the same)."""
    low, high = sorted((a, b))
    return high / low if low > 0 else float("inf")
