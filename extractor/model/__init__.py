"""Talking to a model server: the engine and its retries and re-asks (``client``), the request
bodies (``bodies``), the embedded llama.cpp server (``embedded``), the request log
(``requestlog``) and rate limits, prices and budgets (``spending``).
"""
