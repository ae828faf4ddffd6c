"""What records become: tables and the database sink with its migrations (``tables``, ``sink``,
``migrations``), Parquet/CSV export (``export``), events across articles (``grouping``) and the
HTML report and event page (``report``, ``eventpage``).
"""
