"""Crawl stage: find an outlet's articles and stage their raw pages for extraction.

The spider decides *where to go* (feeds, listings, the date window); it never reads article text.
"""
