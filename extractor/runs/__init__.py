"""Running the extraction: one article (``pipeline``), a run over many with its output file,
resumption and cache (``runner``, ``cache``), provider batch files (``batch``) and Ray
(``raydata``).
"""
