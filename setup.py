"""For `scrapyd-deploy`, which builds its egg with `python setup.py bdist_egg`.

Everything (name, packages, the `scrapy` entry point naming the settings) is in pyproject.toml.
"""

from setuptools import setup

setup()
