"""Distributed mode: one `sina` crawl shared by many workers through Redis (scrapy-redis).

Nothing here imports scrapy-redis or redis at import time: the add-on only names classes by
import path, so a single-machine crawl (no REDIS_URL) never loads them.
"""
