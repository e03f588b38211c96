"""The kernel: what every layer of news-etl shares, importing nothing of the project's own.

- ``registry``: the outlet declarations (``outlets/*.toml``) and their validation;
- ``window``: the date window ``[since, until)`` a run covers;
- ``settings``: every ``NEWSETL_*`` environment variable, parsed once;
- ``records``: the typed records that cross a stage boundary (raw page, extracted page, article,
  drop, stage summaries, run plan, run summary);
- ``rundir``: the run directory's layout, one object;
- ``rules``: the few definitions several stages apply (word count, minimum words, size caps, now).
"""

__version__ = "0.1.0"
