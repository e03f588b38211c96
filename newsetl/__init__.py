"""news-etl: scheduled news crawling into a SQL warehouse (crawl → extract → transform → load)."""

__version__ = "0.1.0"
