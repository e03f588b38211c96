"""The Scrapy settings module of the project (``scrapy.cfg`` names it), so that, from the project
root, ``scrapy list`` and ``scrapy crawl outlet -a outlet=ID -a since=D -a until=D`` run the
pipeline's own crawl: the same settings ``scrapers.crawl`` gives its crawl process, read from the
``NEWSETL_*`` environment (replay mode included). Such a crawl stages its run under the data
directory; loading it stays the pipeline's work (``newsetl run`` does all of it)."""

from kernel.settings import load_settings
from scrapers.crawl import scrapy_settings

SPIDER_MODULES = ["scrapers.spider"]
NEWSPIDER_MODULE = "scrapers"
globals().update(scrapy_settings(load_settings()))
