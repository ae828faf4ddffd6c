"""The pure core: text in, records out, no I/O.

Normalisation of names and places (``normalize``), grounding of quotes in the article
(``grounding``), the deterministic findings (``rules``, ``attributes``), the record built from a
draft (``build``), prompt rendering (``prompting``), a record's identity (``identity``) and the
plain data of what a model request produced (``answers``). Imports only ``extractor.schemas``,
``extractor.config`` and ``extractor.errors`` below it.
"""
