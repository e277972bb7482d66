"""Scrapy downloader components: middlewares (offsite, slow-down, retry back-off) and the handler."""
