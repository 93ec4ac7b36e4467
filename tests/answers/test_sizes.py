"""Customer sizes read as numbers, from the way case authors and salespeople write them."""

from __future__ import annotations

import pytest

from bot.answers.sizes import parse_size, size_ratio


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("86 家门店", {"stores": 86}),
        ("210 家门店（直营 58 家，加盟 152 家）", {"stores": 210}),  # the headline count, not its parts
        ("42 家门店 + 1 个中央工厂", {"stores": 42, "kitchens": 1}),
        ("3 central kitchens and 86 stores", {"kitchens": 3, "stores": 86}),
        ("1,200 seats", {"seats": 1200}),
        ("seeing a 40-store hotpot chain Thursday", {"stores": 40}),
        ("30家门店的茶饮", {"stores": 30}),
        ("3 个园区食堂", {"stores": 3}),
        ("2.5 stores", {"stores": 2.5}),
        ("类似规模的火锅客户", {}),
        ("founded in 2013, revenue 9.6 亿元", {}),
    ],
)
def test_sizes_are_counts_per_dimension(text: str, counts: dict[str, float]) -> None:
    assert dict(parse_size(text).counts) == counts


def test_the_store_count_and_the_ratio_between_two_sizes() -> None:
    assert parse_size("42 家门店 + 1 个中央工厂").stores == 42
    assert parse_size("3 central kitchens").stores is None
    assert size_ratio(40, 86) == size_ratio(86, 40) == pytest.approx(2.15)
    assert size_ratio(0, 5) == float("inf")
