"""Files in and out: the article readers (``articles``: text, HTML, PDF, JSONL, URLs), the one
reader of records files (``records``) and the crash-safe file helpers every writer uses
(``files``: JSONL reading, atomic writes, appending).
"""
