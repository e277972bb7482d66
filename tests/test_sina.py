"""The spider's callbacks, checked once as Scrapy would check them on every response."""

import inspect

import pytest
from scrapy.utils.misc import is_generator_with_return_value

from spiders.sina import SinaSpider

CALLBACKS = [
    name
    for name, member in inspect.getmembers(SinaSpider, inspect.isfunction)
    if inspect.isgeneratorfunction(member) or inspect.isasyncgenfunction(member)
]


def test_the_spider_has_generator_callbacks_to_check():
    assert {"parse_article", "parse_roll"} <= set(CALLBACKS)


@pytest.mark.parametrize("name", CALLBACKS)
def test_no_generator_callback_returns_a_value(name):
    # WARN_ON_GENERATOR_RETURN_VALUE is off (crawler/settings.py): a `return value` in a
    # generator callback would be lost silently, so it is refused here.
    assert not is_generator_with_return_value(getattr(SinaSpider, name))
