"""Sina site knowledge: page templates, extraction, cleaning, dates, channels, roll and feeds."""
