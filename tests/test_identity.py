"""One record identity (``extractor.core.identity``): what a record states is what a run would make,
and the keys derived from it are those earlier versions stored."""

from __future__ import annotations

import dataclasses

from test_sink import seed_records

from extractor import config
from extractor.core.identity import Identity, Method
from extractor.io import articles
from extractor.runs import cache, pipeline
from extractor.runs.method import resolve_method
from extractor.schemas import SCHEMA_VERSION


def test_a_record_states_the_identity_its_settings_give() -> None:
    settings = config.resolve(strategy="rules", env={})
    article = articles.from_text("a.txt", "Kyiv asked the UK to guarantee its security.")
    record = pipeline.extract(article, None, settings=settings)
    assert Identity.of(record) == resolve_method(settings).identity(article.id)
    assert Identity.of(record) == Identity(
        article=article.id,
        schema=SCHEMA_VERSION,
        method=Method("none", "none", "rules", "none"),
        extractor=record.provenance.extractor_version,
    )


def test_each_part_of_the_identity_tells_records_apart() -> None:
    settings = config.resolve(base_url="http://127.0.0.1:9/v1", env={})
    base = resolve_method(settings).identity("sha256:00")
    others = [
        resolve_method(settings).identity("sha256:01"),
        resolve_method(settings.model_copy(update={"model": "other"})).identity("sha256:00"),
        resolve_method(settings.model_copy(update={"mode": "tools"})).identity("sha256:00"),
        resolve_method(settings.model_copy(update={"strategy": "chunked"})).identity("sha256:00"),
        dataclasses.replace(base, method=dataclasses.replace(base.method, prompt_version="v2")),
        dataclasses.replace(base, schema="1"),
        dataclasses.replace(base, extractor="0.0.9"),
    ]
    assert all(other != base for other in others)
    # The server's address is no part of it: the embedded server's port changes.
    moved = settings.model_copy(update={"base_url": "http://127.0.0.1:10/v1"})
    assert resolve_method(moved).identity("sha256:00") == base


def test_the_run_key_is_the_one_earlier_versions_stored() -> None:
    record = seed_records()[0]
    # sha256 of ["smollm2-135m-instruct", "llamacpp", "guided", "fields-v1", "0.1.0", "4"]
    # (schema version 4: the records of another schema version are another run)
    assert Identity.of(record).run_key == (
        "afc86e18053ab4bcb5923c854172c9547430447bec8fd98db2deb7e0ab077ec2"
    )
    other_article = record.model_copy(
        update={"article": record.article.model_copy(update={"id": "sha256:00"})}
    )
    assert Identity.of(other_article).run_key == Identity.of(record).run_key


def test_the_cache_key_is_the_one_earlier_versions_used() -> None:
    settings = config.resolve(strategy="rules", env={})
    article_id = "sha256:b1fab7e5af8b15dd7c0779745b2623673241055188bac602a654a737a991190e"
    # At schema version 4: a cached record of another schema version is not served.
    assert cache.key(article_id, resolve_method(settings)) == (
        "58ba71d54e08ece5855ac6148e4239384ef106f4a0c3001ec437ec64109dd2ee"
    )
    hotter = settings.model_copy(update={"temperature": 0.7})
    assert cache.key(article_id, resolve_method(hotter)) != cache.key(
        article_id, resolve_method(settings)
    )
