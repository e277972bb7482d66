"""Scrapy extensions of this project (cron lock, crawl health)."""
