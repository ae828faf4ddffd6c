"""The rules strategy: values found by code alone, grounded and normalised; no model, no server."""

from __future__ import annotations

import importlib.util
import json
import statistics
from pathlib import Path

import pytest
from click.testing import CliRunner
from handbuilt import Script, engine, ok

from extractor.cli import cli
from extractor.core.normalize import parse_hours
from extractor.core.rules import (
    Chunk,
    beneficiary_mentions,
    guarantee_mentions,
    is_guarantee_sentence,
    is_terms_sentence,
    proposal_owners,
    response_deadlines,
    role,
    rules_findings,
    sentences,
)
from extractor.eval.evaluate import iter_evidence, span_matches
from extractor.schemas import ExtractionRecord
from extractor.strategies import named

ROOT = Path(__file__).resolve().parent.parent
TEXT = (
    "Talks in Istanbul.\n\n"
    "Ukraine proposed that the US, UK and Turkey guarantee its security. "
    "Guarantors must respond within 72 hours.\n\n"
    "Crimea and Donbas would be excluded from the guarantees.\n\n"
    "Weather was fine."
)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_rules_plans_no_request_and_finds_every_field() -> None:
    rules = named("rules")
    assert rules.plan(TEXT, rules.prompt(None)) == []
    [proposal], dropped = rules.run(None, TEXT, rules.prompt(None))
    assert proposal.proposer is not None and proposal.proposer.code == "UKR"
    assert [g.actor.code for g in proposal.guarantors] == ["USA", "GBR", "TUR"]
    assert [r.hours for r in proposal.response_times] == [72]
    assert [t.name for t in proposal.excluded_territories] == ["Crimea", "Donbas"]
    # "guarantee its security": the proposer is the state protected, not a guarantor; "proposed
    # that the US ... guarantee" makes it no guarantor candidate at all, so nothing is dropped.
    assert proposal.beneficiary is not None and proposal.beneficiary.code == "UKR"
    assert dropped == []
    for guarantor in proposal.guarantors:
        [evidence] = guarantor.evidence
        assert TEXT[evidence.start : evidence.end] == guarantor.actor.name


def test_sentences_keep_offsets_and_abbreviations() -> None:
    text = (
        "If Ukraine fires at St. Petersburg the guarantee is void. Mr. Smith said so.\n"
        "- ratified by the guarantor states.Consultations began."
    )
    found = sentences(Chunk(10, text))
    assert [s.text for s in found] == [
        "If Ukraine fires at St. Petersburg the guarantee is void.",
        "Mr. Smith said so.",
        "ratified by the guarantor states.",
        "Consultations began.",
    ]
    for sentence in found:
        assert text[sentence.start - 10 :].startswith(sentence.text)


def test_the_protected_state_and_names_of_places_are_no_guarantors() -> None:
    sentence = (
        "France and Turkey offered security guarantees for Ukraine, unlike the Budapest Memorandum."
    )
    assert beneficiary_mentions(sentence) == ["Ukraine"]
    assert guarantee_mentions(sentence) == ["France", "Turkey"]
    assert beneficiary_mentions("Germany would act as guarantor of Ukraine's security.") == [
        "Ukraine"
    ]


def roles_in(sentence: str) -> dict[str, str]:
    """The role of each name's first mention in ``sentence``."""
    out: dict[str, str] = {}
    for name in ("Russia", "Russian", "Ukraine", "Kyiv", "NATO", "Poland", "France", "the US"):
        at = sentence.find(name)
        if (
            at >= 0
            and name not in out
            and not sentence[at + len(name) : at + len(name) + 1].isalpha()
        ):
            out[name] = role(sentence, at, at + len(name))
    return out


def test_a_name_in_a_guarantee_sentence_takes_the_role_its_words_give_it() -> None:
    # the attacker, the other side of talks, the model, a place, a description: no guarantor
    assert roles_in("France would guarantee that a Russian attack is answered.") == {
        "France": "guarantor", "Russian": "other",
    }  # fmt: skip
    assert roles_in("The guarantee holds if Russia invades again.")["Russia"] == "other"
    assert roles_in("Guarantees against Russia were offered by France.") == {
        "Russia": "other", "France": "guarantor",
    }  # fmt: skip
    assert roles_in("France will guarantee any peace deal with Russia.")["Russia"] == "other"
    assert roles_in("A guarantee similar to NATO's Article 5 came from France.")["NATO"] == "other"
    assert roles_in("Security guarantees include jets stationed in Poland.")["Poland"] == "other"
    assert roles_in("Russian pundits doubt the guarantees.")["Russian"] == "other"
    # the scanner reads "Russian forces" as one mention, the state's apparatus
    assert role("Russian forces would guarantee it.", 0, len("Russian forces")) == "guarantor"
    assert roles_in("A peacekeeping force would not be led by NATO.")["NATO"] == "other"
    # the one guaranteed, asking for guarantees, or what a pledge not to enlarge is about
    assert roles_in("Russia wants guarantees that Ukraine will not join NATO.") == {
        "Russia": "beneficiary", "Ukraine": "beneficiary", "NATO": "guarantor",
    }  # fmt: skip
    assert roles_in("The West should give Kyiv legally binding guarantees.")["Kyiv"] == (
        "beneficiary"
    )
    assert roles_in("France could send troops to Ukraine as a security guarantee.") == {
        "France": "guarantor", "Ukraine": "beneficiary",
    }  # fmt: skip


def test_a_commitment_to_defend_is_a_guarantee_in_all_but_the_word() -> None:
    assert is_guarantee_sentence("Leading powers would make a pledge to defend Ukraine.")
    assert is_guarantee_sentence("The UK and France are ready to send troops to Ukraine.")
    assert is_guarantee_sentence("A European force of peacekeepers was pitched by France.")
    assert is_guarantee_sentence(
        "Готовность Великобритании и Франции направить в Украину свои военные контингенты."
    )
    assert not is_guarantee_sentence("Putin said Russian troops are advancing.")


def test_the_owner_of_a_proposal_is_named_where_it_is_written() -> None:
    assert proposal_owners("What we know about the leaked US draft plan") == ["US"]
    assert proposal_owners("Ukraine's proposal was greeted with skepticism.") == ["Ukraine"]
    assert proposal_owners("A plan put forward by Turkey was discussed.") == ["Turkey"]
    assert proposal_owners("Обсуждали предложения Украины.") == ["Украины"]
    assert proposal_owners("The EU said it had not seen the plan yet.") == []


def test_terms_stated_as_commitments_are_conditions_and_a_report_is_not() -> None:
    assert is_terms_sentence("Kiev would pledge not to host foreign military bases.")
    assert is_terms_sentence("Ukraine will not join NATO, the draft says.")
    assert is_terms_sentence("Украина будет готова закрепить внеблоковый статус.")
    assert is_terms_sentence("a proposal for a neutral status for Ukraine", proposal=True)
    assert not is_terms_sentence("a proposal for a neutral status for Ukraine")
    assert not is_terms_sentence("The ceasefire collapsed in March.")


def test_terms_and_owners_outside_guarantee_paragraphs_carry_no_proposal_alone() -> None:
    report = (
        "Russia's plan for the region\n\n"
        "Under the deal, both sides would agree to a ceasefire.\n\n"
        "Fighting went on."
    )
    assert rules_findings(report).values == {}
    proposal = report + "\n\nFrance offered security guarantees to Ukraine."
    findings = rules_findings(proposal)
    assert [f.value for f in findings.of("guarantors")] == ["France"]
    assert [f.value for f in findings.of("proposer")] == ["Russia", "France"]
    assert [f.value for f in findings.of("conditions")] == ["both sides would agree to a ceasefire"]


def test_a_territory_set_aside_is_excluded_and_ordlo_is_donbas() -> None:
    russian = (
        "Договор о гарантиях безопасности подписан. Крым в договоре прописан отдельным пунктом. "
        "Вопросы ОРДЛО в договоре также вынесены отдельным пунктом."
    )
    english = (
        "France offered security guarantees. The status of Kherson would be settled in "
        "separate negotiations over 15 years."
    )
    for text, names in ((russian, ["Crimea", "Donbas"]), (english, ["Kherson"])):
        findings = rules_findings(text)
        assert [f.value for f in findings.of("excluded_territories")] != []
        [proposal], _ = named("rules").run(None, text + " France guarantees it.", "none")
        assert [t.name for t in proposal.excluded_territories] == names


def test_guarantees_in_another_sense_or_denied_are_not_guarantee_sentences() -> None:
    assert is_guarantee_sentence("The US would guarantee Ukraine's security.")
    assert is_guarantee_sentence("Russia wants guarantees that Ukraine will not join NATO.")
    assert not is_guarantee_sentence("Fighters who lay down arms are guaranteed life.")
    assert not is_guarantee_sentence("The plan did not mention security guarantees for Ukraine.")


@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="the embedded backend is not installed"
)
def test_the_default_starts_no_server_for_articles_the_rules_settle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    article, out = tmp_path / "a.txt", tmp_path / "out.jsonl"
    article.write_text(
        "Ukraine proposed on Tuesday that the US, the UK and France guarantee its security.\n"
    )
    code, _, err = invoke("extract", str(article), "-o", str(out), "--no-cache")
    assert code == 0, err
    # guided asks the model only where the rules name no proposer; the server starts with the
    # first request, so here never.
    assert "starting the embedded model server" not in err
    assert "in 0 requests" in err
    record = ExtractionRecord.model_validate_json(out.read_text(encoding="utf-8"))
    assert record.error is None and record.provenance.strategy == "guided"
    [proposal] = record.proposals
    assert proposal.proposer is not None and proposal.proposer.code == "UKR"


def test_extract_with_rules_starts_no_server_and_writes_grounded_records(tmp_path: Path) -> None:
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    seeds = sorted((ROOT / "seeds").glob("*.txt"))
    # No --base-url: any model strategy would start the embedded server here.
    code, _, err = invoke(
        "extract", str(ROOT / "seeds"), "--strategy", "rules", "-o", str(out),
        "--summary", str(summary),
    )  # fmt: skip
    assert code == 0, err
    assert "starting the embedded model server" not in err
    assert "0 tokens spent (prompt 0, completion 0) in 0 requests" in err
    per_article = json.loads(summary.read_text())["per_article"]
    assert [a["requests"] for a in per_article] == [0] * len(seeds)
    # Well under a second an article: the median, so that the first article's warm-up (regular
    # expressions compiled, caches empty) on a busy machine does not decide it.
    assert statistics.median(a["seconds"] for a in per_article) < 1.0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(seeds)
    spans = 0
    for line in lines:
        record = ExtractionRecord.model_validate_json(line)
        assert record.error is None
        assert (record.provenance.strategy, record.provenance.model) == ("rules", "none")
        assert record.provenance.usage.requests == 0
        data = json.loads(line)
        for evidence in iter_evidence(data["proposals"]):
            spans += 1
            assert span_matches(evidence, record.article.text), evidence
    assert spans > 20


def test_a_prompt_is_refused_where_the_strategy_cannot_use_it(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("The US would guarantee Ukraine's security.\n")
    code, _, err = invoke("extract", str(article), "--strategy", "rules", "--prompt", "fields-v1")
    assert code == 2
    assert err == (
        "error: strategy rules asks no model and uses no prompt, so --prompt (EXTRACTOR_PROMPT) "
        "'fields-v1' would be ignored; leave it out or choose another strategy\n"
    )
    code, _, err = invoke(
        "extract", str(article), "--strategy", "chunked", "--prompt", "extract-v1",
        "--base-url", "http://127.0.0.1:9/v1",
    )  # fmt: skip
    assert code == 2
    assert err.startswith("error: prompt 'extract-v1' has no guarantors.txt, proposer.txt")


def test_auto_is_guided_for_the_embedded_model_and_single_for_others() -> None:
    from extractor import config
    from extractor.runs.method import resolve_method
    from extractor.strategies import for_settings

    embedded = config.resolve(env={})
    assert embedded.strategy == "auto"
    assert for_settings(embedded).name == "guided"
    other = config.resolve(base_url="http://127.0.0.1:9/v1", env={})
    assert for_settings(other).name == "single"
    # Provenance, resumption and the cache see the strategy chosen, never "auto".
    assert resolve_method(embedded).method.strategy == "guided"
    assert resolve_method(other).method.strategy == "single"


def test_guided_asks_the_model_only_for_a_proposer_the_rules_do_not_name() -> None:
    guided = named("guided")
    # The rules name the proposer ("Ukraine proposed"): nothing to ask, the rules' record.
    assert guided.plan(TEXT, guided.prompt(None)) == []
    [proposal], _ = guided.run(None, TEXT, guided.prompt(None))
    assert proposal.proposer is not None and proposal.proposer.code == "UKR"
    # No proposer in the words the rules read: one choice among the states named there.
    text = (
        "Talks in Istanbul.\n\n"
        "The US and Turkey would guarantee the security of Ukraine, officials said.\n\n"
        "Crimea would be excluded from the guarantees."
    )
    [ask] = guided.plan(text, guided.prompt(None))
    assert ask.field == "proposer"
    schema = ask.answer.model_json_schema()["properties"]["value"]["anyOf"][0]
    assert schema["enum"] == ["The US", "Turkey", "Ukraine"]
    # The model's choice, hand-built:
    script = Script([ok(json.dumps({"value": "Turkey"}))])
    [proposal], _ = guided.run(engine(script, mode="llamacpp"), text, guided.prompt(None))
    assert len(script.requests) == 1
    assert proposal.proposer is not None and proposal.proposer.code == "TUR"
    assert [g.actor.code for g in proposal.guarantors] == ["USA", "TUR"]
    assert [t.name for t in proposal.excluded_territories] == ["Crimea"]
    [evidence] = proposal.proposer.evidence
    assert text[evidence.start : evidence.end] == "Turkey"
    # Nothing says who is protected, and the model (hand-built) chooses a guarantor for the
    # proposer: its choice removes no guarantor.
    text = "Talks in Elmau.\n\nThe G7 and Japan would provide security guarantees, it was said."
    [ask] = guided.plan(text, guided.prompt(None))
    script = Script([ok(json.dumps({"value": "The G7"}))])
    [proposal], dropped = guided.run(engine(script, mode="llamacpp"), text, guided.prompt(None))
    assert proposal.proposer is not None and proposal.proposer.code == "G7"
    assert [g.actor.code for g in proposal.guarantors] == ["G7", "JPN"]
    assert dropped == []
    # An article the rules find nothing in asks nothing.
    assert guided.plan("Weather was fine in Kyiv.", guided.prompt(None)) == []


# --------------------------------------------------------------------------------------------
# Commitments worded without "guarantee", in several languages; other senses of the words
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Japan and the US signed a mutual defence pact.",
        "Washington offered Seoul extended deterrence.",
        "Manila would shelter under the US nuclear umbrella.",
        "Britain and Ukraine agreed a security compact.",
        "Paris would treat an attack on Moldova as an attack on France.",
        "The allies would come to the aid of Finland.",
        "The UK stands ready to support Ukraine.",
        "They are ready to help us in case of a military conflict.",
        "Мы должны иметь соглашения со странами, готовыми помочь нам в случае военного конфликта.",
        "США та Британія надають Україні гарантії безпеки.",
        "Deutschland will die Ukraine verteidigen.",
        "La France propose un pacte de défense à la Moldavie.",
        "Polska i Ukraina podpisały umowę o bezpieczeństwie.",
        "Sverige och Finland tecknade ett försvarsavtal.",
    ],
)
def test_commitments_in_many_wordings_and_languages_are_guarantee_sentences(sentence: str) -> None:
    assert is_guarantee_sentence(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Lukashenko said he could guarantee the safety of flights over Belarus.",
        "Лукашенко готов гарантировать безопасность полетов над Беларусью.",
        "The government guaranteed safe passage for the convoy.",
        "The bank guarantees deposits of up to 100,000 euros.",
    ],
)
def test_a_guarantee_of_something_else_is_no_guarantee_sentence(sentence: str) -> None:
    assert not is_guarantee_sentence(sentence)


def test_a_guarantee_that_force_will_not_resume_is_a_security_guarantee() -> None:
    assert is_guarantee_sentence(
        "Hamas requested a US guarantee that hostilities will not resume if talks fail."
    )


# --------------------------------------------------------------------------------------------
# Deadlines attached to the guarantors' action
# --------------------------------------------------------------------------------------------


def test_a_deadline_for_something_else_is_no_response_time() -> None:
    from extractor.core.rules import response_deadlines

    assert (
        response_deadlines("Trump said he would broker a ceasefire within 24 hours.", False) == []
    )
    assert response_deadlines("Hamas must release the hostages within 72 hours.", True) == []
    # a deadline in a sentence that says what is to be done in it stands without "guarantee"
    assert response_deadlines(
        "Within 72 hours a decision must be taken on activating the response.", False
    ) == ["72 hours"]


def test_deadlines_written_with_no_break_spaces_are_found() -> None:
    text = (
        "Гарантии безопасности для Украины.\n\n"
        "Далее в\u00a0течение 24\u00a0часов гаранты должны собраться для консультаций. "
        "В\u00a0течение 72\u00a0часов должно быть принято решение об активации гарантий."
    )
    found = rules_findings(text)
    assert [f.value for f in found.of("response_time")] == ["24\u00a0часов", "72\u00a0часов"]
    for item in found.of("response_time"):
        assert text[item.evidence.start : item.evidence.end] == item.evidence.quote


# --------------------------------------------------------------------------------------------
# Persons speaking for a state; the proposer
# --------------------------------------------------------------------------------------------


def test_persons_are_read_with_the_state_they_speak_for_and_former_holders_for_none() -> None:
    from extractor.core.rules import paragraphs, persons

    text = (
        "Ukraine's President Volodymyr Zelensky spoke. French President Emmanuel Macron spoke. "
        "Sir Keir and President Emmanuel Macron of France met. "
        "Former NATO Secretary General Anders Rasmussen spoke. "
        "Глава офиса президента Украины Андрей Ермак выступил. Russia's Foreign Ministry spoke."
    )
    found = persons([s for p in paragraphs(text) for s in sentences(p)])
    assert {k: (v.name, v.state) for k, v in found.items()} == {
        "Zelensky": ("Volodymyr Zelensky", "Ukraine"),
        "Macron": ("Emmanuel Macron", "French"),
        "Ермак": ("Андрей Ермак", "Украины"),
    }


def test_a_person_who_says_what_guarantees_must_be_makes_their_state_the_proposer() -> None:
    text = (
        "Ukraine's President Volodymyr Zelensky gave an interview.\n\n"
        "Zelensky says those security guarantees from the US would have to be in place before "
        "he could consider another US demand."
    )
    found = rules_findings(text)
    [proposer] = found.of("proposer")
    # the state as the article introduced the person, located there
    assert proposer.value == "Ukraine"
    assert text[proposer.evidence.start : proposer.evidence.end] == "Ukraine"
    assert "the US" in [f.value for f in found.of("guarantors")]


def test_a_former_office_holder_speaks_for_no_one() -> None:
    text = (
        "Глава офиса президента Украины Андрей Ермак и бывший генеральный секретарь НАТО "
        "Андерс Расмуссен представили рекомендации по гарантиям безопасности для Украины."
    )
    assert [f.value for f in rules_findings(text).of("proposer")] == ["Украины"]


def test_a_first_person_demand_is_the_quoted_speakers_proposal() -> None:
    text = (
        "Об этом заявил вице-спикер парламента Республики Молдова, председатель фракции "
        "Влад Батрынча.\n\n"
        "«Мы должны иметь соглашения со странами, которые признают наш постоянный нейтралитет "
        "и готовы помочь нам в случае военного конфликта», — подчеркнул Влад Батрынча."
    )
    found = rules_findings(text)
    assert [f.value for f in found.of("proposer")] == ["Республики Молдова"]
    assert [f.value for f in found.of("conditions")] == [
        "которые признают наш постоянный нейтралитет и готовы помочь нам в случае военного "
        "конфликта»"
    ]


# --------------------------------------------------------------------------------------------
# Roles: the one whose consent is needed, the one deterred, a source speaking for a state
# --------------------------------------------------------------------------------------------


def test_consent_deterrence_and_sources_have_their_roles() -> None:
    sentence = "A big question remains over what Russia will accept as security guarantees."
    at = sentence.index("Russia")
    assert role(sentence, at, at + 6) == "other"
    sentence = "Security guarantees are needed to prevent Russia from coming back."
    at = sentence.index("Russia")
    assert role(sentence, at, at + 6) == "other"
    sentence = "A source at the Elysee said the group is ready to provide security guarantees."
    at = sentence.index("the Elysee")
    assert role(sentence, at, at + 10) == "guarantor"


# --------------------------------------------------------------------------------------------
# A condition is its term, the sentence its evidence
# --------------------------------------------------------------------------------------------


def test_a_condition_is_the_term_with_the_sentence_as_evidence() -> None:
    from extractor.core.rules import condition_term

    assert (
        condition_term("Breaking: UK and France to send troops to Ukraine if peace deal agreed")
        == "if peace deal agreed"
    )
    assert (
        condition_term(
            "Ukraine will need strong security guarantees after a peace agreement is reached, "
            "to prevent Russia from coming back."
        )
        == "after a peace agreement is reached"
    )
    # what the guarantee answers is no condition; the term the sentence states is
    assert condition_term("The guarantors would act if Russia attacked again.") is None
    assert (
        condition_term("If Russia attacked, the allies would help, provided Ukraine stays neutral.")
        == "provided Ukraine stays neutral"
    )
    text = "France offered Ukraine security guarantees if a ceasefire holds, officials said."
    [condition] = rules_findings(text).of("conditions")
    assert condition.value == "if a ceasefire holds"
    assert condition.evidence.quote == text


def test_an_article_in_another_language_gets_the_states_named_near_a_commitment() -> None:
    # German and Polish names of states come from pycountry's translations
    german = "Deutschland und Frankreich bieten Sicherheitsgarantien für die Ukraine an."
    assert {f.value for f in rules_findings(german).of("guarantors")} == {
        "Deutschland",
        "Frankreich",
    }
    polish = "Niemcy i Wielka Brytania dadzą Ukrainie gwarancje bezpieczeństwa."
    assert {f.value for f in rules_findings(polish).of("guarantors")} == {
        "Niemcy",
        "Wielka Brytania",
    }
    # Italian has no cue list of its own: the shared stem still finds the commitment
    italian = "La Francia offre all'Ucraina garanzie di sicurezza."
    assert [f.value for f in rules_findings(italian).of("guarantors")] == ["Francia"]


def test_every_deadline_is_kept_for_the_proposal_and_the_person_for_its_proposer() -> None:
    from extractor.strategies import response_times

    text = (
        "Ukraine's President Volodymyr Zelensky spoke.\n\n"
        "Zelensky says the guarantors must consult within 24 hours and the US must decide "
        "within 72 hours on security guarantees; guarantors respond within 24 hours."
    )
    found = rules_findings(text)
    dropped: list[tuple[str, str, str]] = []
    times = response_times(found.of("response_time"), lambda *d: dropped.append(d))
    assert [t.hours for t in times] == [24, 72]
    assert dropped == []
    [proposer] = found.of("proposer")
    assert (proposer.value, proposer.person) == ("Ukraine", "Volodymyr Zelensky")


def test_no_condition_from_a_question_a_pointer_back_or_the_guarantee_itself() -> None:
    from extractor.core.rules import condition_term

    assert condition_term("Isn't that a reasonable request if it produces a ceasefire?") is None
    assert condition_term("If it is the former, the guarantees would be bilateral.") is None
    assert (
        condition_term("A US plan to receive compensation in return for security guarantees.")
        is None
    )
    # a demand for how long the guarantee lasts is a term
    assert is_terms_sentence("We want guarantees for 30 years for example.")


def role_of(sentence: str, name: str) -> str:
    """The role of the first mention of ``name`` in ``sentence``."""
    at = sentence.index(name)
    return role(sentence, at, at + len(name))


def test_who_protects_who_is_attacked_or_defended_and_who_asks_another_are_read() -> None:
    # Hand-written sentences, one concept each.
    sentence = "Qatar is looking for a more formal guarantee that America will protect it."
    assert (role_of(sentence, "Qatar"), role_of(sentence, "America")) == (
        "beneficiary",
        "guarantor",
    )
    # still the one a pledge not to enlarge is about
    assert role_of("Russia wants guarantees that Ukraine will not join NATO.", "Ukraine") == (
        "beneficiary"
    )
    sentence = (
        "Trump declared that attacks on Qatar would be treated as a threat to the peace and "
        "security of the United States."
    )
    assert (role_of(sentence, "Qatar"), role_of(sentence, "United States")) == (
        "beneficiary",
        "guarantor",
    )
    assert role_of("The pact commits Washington to defend the Philippines.", "Philippines") == (
        "beneficiary"
    )
    assert role_of("Niemcy zobowiązały się bronić Polski w razie ataku.", "Polski") == (
        "beneficiary"
    )
    assert role_of("The plan calls for Ukraine to receive security guarantees.", "Ukraine") == (
        "beneficiary"
    )
    assert role_of("Die USA sollen der Ukraine Sicherheitsgarantien geben.", "Ukraine") == (
        "beneficiary"
    )
    assert role_of("Guarantees were offered to Ukraine in the South China Sea.", "China") == (
        "other"
    )
    # proposing that another guarantee: the proposers are not the guarantors
    sentence = "Poland proposed that the United States give Ukraine security guarantees."
    assert (role_of(sentence, "Poland"), role_of(sentence, "United States")) == (
        "other",
        "guarantor",
    )
    # asking another to give them: the asker proposes, the one asked guarantees
    text = (
        "Президент Украины Владимир Зеленский выступил на саммите.\n\n"
        "Зеленский также призвал страны G7 предоставить гарантии безопасности."
    )
    found = rules_findings(text)
    assert [(f.value, f.person) for f in found.of("proposer")] == [
        ("Украины", "Владимир Зеленский")
    ]
    assert [f.value for f in found.of("guarantors")] == ["G7"]


def test_the_signatories_of_a_treaty_on_guarantees_are_its_guarantors() -> None:
    text = (
        "The sides discussed a treaty on security guarantees.\n\n"
        "The presence of the US, Turkey and Germany as signatories of the multilateral treaty "
        "matters most."
    )
    assert sorted(f.value for f in rules_findings(text).of("guarantors")) == [
        "Germany",
        "Turkey",
        "the US",
    ]
    # signatories of another treaty are not guarantors
    other = "The presence of the US and Turkey as signatories of the trade treaty matters most."
    assert rules_findings(other).of("guarantors") == []


def test_the_speaker_is_the_subject_of_the_verb_of_speech_not_a_name_in_the_quote() -> None:
    text = (
        "Ukrainian President Volodymyr Zelensky said the US and Britain must give Ukraine "
        "security guarantees."
    )
    assert [(f.value, f.person) for f in rules_findings(text).of("proposer")] == [
        ("Ukrainian", "Volodymyr Zelensky")
    ]
    text = (
        "Об этом заявил вице-спикер Парламента Республики Молдова, председатель фракции "
        "Влад Батрынча.\n\n"
        "«Мы должны иметь гарантии безопасности и работать в Совете Безопасности ООН», — "
        "подчеркнул Влад Батрынча."
    )
    assert [f.value for f in rules_findings(text).of("proposer")] == ["Республики Молдова"]


@pytest.mark.parametrize(
    "phrase",
    [
        "innerhalb von 24 Stunden",
        "w ciągu 24 godzin",
        "dans les 24 heures",
        "inom 24 timmar",
        "протягом 24 годин",
        "en un plazo de 24 horas",
    ],
)
def test_a_deadline_in_each_cued_language_is_a_response_time(phrase: str) -> None:
    [deadline] = response_deadlines(f"The guarantors must respond {phrase}.", True)
    assert parse_hours(deadline) == 24.0


def test_a_demand_outside_the_guarantee_paragraphs_and_the_headline_makes_no_proposer() -> None:
    # Hand-written articles: the same demand in a body paragraph and in the headline.
    body = (
        "Allies meet in Kyiv.\n\n"
        "The UK and France will provide security guarantees to Ukraine.\n\n"
        "Putin listed Russia's maximalist demands as usual."
    )
    assert rules_findings(body).of("proposer") == []
    headline = (
        "Russia's demand of NATO\n\n"
        "The guarantee Russia had requested would bind NATO not to expand, officials said."
    )
    assert [f.value for f in rules_findings(headline).of("proposer")][:1] == ["Russia"]


def test_guided_offers_the_model_no_proposer_named_only_as_the_other_side() -> None:
    from extractor.strategies import _proposer_options

    piece = (
        "The UK would provide security guarantees after talks with Russia.\n"
        "France would guarantee a ceasefire."
    )
    assert _proposer_options(piece) == ["The UK", "France"]


@pytest.mark.parametrize(
    "sentence",
    [
        "France and Germany want to guarantee energy security for Europe this winter.",
        "Turkey deployed troops to Syria in 2019.",
        "The firms pledged to protect users' data within 72 hours of a breach.",
    ],
)
def test_a_sector_s_security_a_past_deployment_and_protected_data_are_no_commitment(
    sentence: str,
) -> None:
    assert not is_guarantee_sentence(sentence)


def test_troops_to_be_sent_are_a_commitment() -> None:
    assert is_guarantee_sentence("Britain would deploy forces to Estonia.")
    assert is_guarantee_sentence("Франция готова направить войска в Молдову.")


@pytest.mark.parametrize(
    ("text", "excluded"),
    [
        (
            "France would guarantee Ukraine's security, but not cover the occupied territories.",
            ["occupied territories"],
        ),
        (
            "Гарантии безопасности от США не будут распространяться на оккупированные территории.",
            ["occupied territories"],
        ),
        (
            "The UK will guarantee Moldova's security; it applies to Chisinau's territory only, "
            "not to Transnistria.",
            ["Transnistria"],
        ),
        # beside the places it leaves out, a scope describes them
        (
            "The US would guarantee Ukraine's security; Crimea and Donbass, two regions occupied "
            "by Russia, would not be part of the safeguards.",
            ["Crimea", "Donbas"],
        ),
    ],
)
def test_an_exclusion_worded_as_a_scope_is_the_occupied_territories(
    text: str, excluded: list[str]
) -> None:
    [proposal], _ = named("rules").run(None, text, "")
    assert [t.name for t in proposal.excluded_territories] == excluded


def test_names_in_the_genitive_of_other_languages_and_the_one_handed_a_proposal() -> None:
    from extractor.core.normalize import actor_code

    assert [actor_code(w) for w in ("Frankreichs", "Sveriges", "Polens", "Americas")] == [
        "FRA",
        "SWE",
        "POL",
        None,
    ]
    # "handed Ukraine a proposal": Ukraine is given it, it does not own it
    assert proposal_owners("Russia handed Ukraine a proposal on guarantees.") == []
    # a compound guarantee word after the one given it: "ger Finland säkerhetsgarantier"
    sentence = "Norge ger Finland säkerhetsgarantier."
    assert role_of(sentence, "Finland") == "beneficiary"


def test_a_quotation_introduced_by_the_paragraph_before_is_its_speaker_s() -> None:
    # Hand-written: the speaker introduced by a state's second naming, then quoted at length.
    text = (
        "Глава украинской делегации, советник Офиса президента Украины Михаил Подоляк, "
        "опубликовал заявление.\n\n"
        "Вот, что сказал Михаил Подоляк в своем заявлении:\n\n"
        "«Договор о гарантиях безопасности дает инструмент защиты нашей территории. "
        "Гарантами станут США и Турция»."
    )
    found = rules_findings(text)
    assert [(f.value, f.person) for f in found.of("proposer")] == [("Украины", "Михаил Подоляк")]
    # without the introduction, the quotation is nobody's
    alone = text.replace("Вот, что сказал Михаил Подоляк в своем заявлении:\n\n", "")
    assert rules_findings(alone).of("proposer") == []


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("französischen", "FRA"),
        ("française", "FRA"),
        ("francuskiego", "FRA"),
        ("svenska", "SWE"),
        ("italiana", "ITA"),
        ("estadounidense", "USA"),
        ("britannique", "GBR"),
    ],
)
def test_a_state_s_adjective_in_other_languages_names_it_in_any_case(word: str, code: str) -> None:
    from extractor.core.normalize import actor_code

    assert actor_code(word) == code


def test_a_word_that_only_looks_like_an_adjective_names_no_state() -> None:
    from extractor.core.normalize import actor_code

    assert [actor_code(w) for w in ("ruse", "polo", "dance")] == [None, None, None]


@pytest.mark.parametrize(
    ("sentence", "owner"),
    [
        ("Der deutsche Vorschlag sieht Sicherheitsgarantien vor.", "deutsche"),
        ("La proposition française prévoit des garanties.", "française"),
        ("Polska propozycja zakłada gwarancje bezpieczeństwa.", "Polska"),
        ("Det svenska förslaget innebär säkerhetsgarantier.", "svenska"),
        ("Французька пропозиція передбачає гарантії безпеки.", "Французька"),
        ("La propuesta francesa prevé garantías de seguridad.", "francesa"),
        ("La proposta italiana prevede garanzie di sicurezza.", "italiana"),
    ],
)
def test_a_proposal_named_with_the_state_s_adjective_is_its_proposal(
    sentence: str, owner: str
) -> None:
    assert proposal_owners(sentence) == [owner]


@pytest.mark.parametrize(
    ("sentence", "asker"),
    [
        ("Moldau fordert Sicherheitsgarantien von Rumänien.", "Moldau"),
        ("L'Arménie réclame des garanties de sécurité de la France.", "Arménie"),
        ("Ukraina domaga się gwarancji bezpieczeństwa od Stanów Zjednoczonych.", "Ukraina"),
        ("Finland kräver säkerhetsgarantier av Sverige.", "Finland"),
        ("Молдова вимагає гарантій безпеки від Румунії.", "Молдова"),
        ("L'Ucraina chiede garanzie di sicurezza agli Stati Uniti.", "Ucraina"),
    ],
)
def test_one_who_demands_guarantees_in_other_languages_is_the_one_guaranteed(
    sentence: str, asker: str
) -> None:
    assert role_of(sentence, asker) == "beneficiary"


@pytest.mark.parametrize(
    ("sentence", "protected"),
    [
        ("España garantizaría la seguridad de Ucrania.", "Ucrania"),
        ("Polska gwarantuje bezpieczeństwo Litwy.", "Litwy"),
        ("Sverige garanterar Estlands säkerhet.", "Estlands"),
        ("Deutschland garantiert die Sicherheit der Ukraine.", "Ukraine"),
    ],
)
def test_the_state_whose_security_is_guaranteed_in_other_languages_is_the_one_guaranteed(
    sentence: str, protected: str
) -> None:
    assert role_of(sentence, protected) == "beneficiary"


def test_guarantees_of_a_state_s_security_named_after_it_are_its_own_to_give() -> None:
    # "garantías de seguridad de España": the guarantees Spain gives, not Spain's security
    assert role_of("Las garantías de seguridad de España llegarán pronto.", "España") != (
        "beneficiary"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Großbritannien würde der Ukraine Sicherheitsgarantien geben, die Krim wäre ausgenommen.",
        "Les garanties de la France pour l'Ukraine ne s'appliqueraient pas à la Crimée.",
        "Gwarancje bezpieczeństwa Polski dla Ukrainy nie obejmowałyby Krymu.",
        "Säkerhetsgarantierna som Sverige ger Ukraina skulle inte omfatta Krim.",
        "Гарантії безпеки від Великої Британії не поширюватимуться на Крим.",
        "Las garantías de seguridad de España para Ucrania no se aplicarían a Crimea.",
        "Le garanzie di sicurezza dell'Italia per l'Ucraina non si applicherebbero alla Crimea.",
    ],
)
def test_a_territory_left_out_in_other_languages_is_excluded(text: str) -> None:
    [proposal], _ = named("rules").run(None, text, "")
    assert [t.name for t in proposal.excluded_territories] == ["Crimea"]


@pytest.mark.parametrize(
    ("sentence", "proposer"),
    [
        ("Polen hat vorgeschlagen, dass die USA der Ukraine Sicherheitsgarantien geben.", "Polen"),
        ("España propuso que los Estados Unidos den garantías de seguridad.", "España"),
    ],
)
def test_one_who_proposes_that_another_guarantee_is_no_guarantor_whatever_the_article(
    sentence: str, proposer: str
) -> None:
    assert role_of(sentence, proposer) == "other"


@pytest.mark.parametrize(
    "sentence",
    [
        "Frankreich schlug gestern Sicherheitsgarantien für die Ukraine vor.",
        "España propuso garantías de seguridad para Ucrania.",
        "Italia chiede garanzie di sicurezza.",
    ],
)
def test_verbs_of_proposing_and_asking_in_other_languages_propose(sentence: str) -> None:
    from extractor.core.rules import proposes

    assert proposes(sentence)


def test_a_deadline_in_italian_hours_is_a_response_time() -> None:
    [deadline] = response_deadlines("The guarantors must respond entro 72 ore.", True)
    assert parse_hours(deadline) == 72.0


@pytest.mark.parametrize(
    ("text", "person", "state"),
    [
        ("Der französische Präsident Emmanuel Macron sprach.", "Emmanuel Macron", "französische"),
        ("El presidente español Pedro Sánchez habló.", "Pedro Sánchez", "español"),
        ("Der Ukraine Sicherheitsgarantien zu geben, sagte Macron.", None, None),
        ("Deutschland garantiert Litauen Schutz.", None, None),
    ],
)
def test_persons_introduced_with_a_state_s_adjective_and_titles_of_other_languages(
    text: str, person: str | None, state: str | None
) -> None:
    from extractor.core.rules import paragraphs, persons

    found = persons([s for p in paragraphs(text) for s in sentences(p)])
    assert [(p.name, p.state) for p in found.values()] == ([(person, state)] if person else [])


@pytest.mark.parametrize(
    ("text", "proposer"),
    [
        (
            "Il ministro degli Esteri italiano Antonio Tajani ha detto che l'Italia deve dare "
            "garanzie di sicurezza all'Ucraina.",
            "italiano",
        ),
        ("Estados Unidos ofrece garantías de seguridad a Catar.", "Estados Unidos"),
        ("Deutschland bietet Litauen Sicherheitsgarantien an.", "Deutschland"),
    ],
)
def test_a_speaker_who_says_what_must_be_and_one_who_offers_propose_in_other_languages(
    text: str, proposer: str
) -> None:
    assert [f.value for f in rules_findings(text).of("proposer")] == [proposer]


@pytest.mark.parametrize(
    "sentence",
    ["У 2014 році Росія направила війська до Криму.", "Торік Польща розмістила війська в Литві."],
)
def test_a_past_deployment_in_ukrainian_is_no_commitment(sentence: str) -> None:
    assert not is_guarantee_sentence(sentence)


@pytest.mark.parametrize(
    ("phrase", "hours"),
    [
        ("binnen drei Tagen", 72.0),
        ("dans les trois jours", 72.0),
        ("w ciągu czterdziestu ośmiu godzin", 48.0),
        ("inom tre dagar", 72.0),
        ("entro tre giorni", 72.0),
        ("en tres días", 72.0),
        ("w ciągu dwóch miesięcy", 1440.0),
    ],
)
def test_a_deadline_in_number_words_or_accented_units_of_other_languages(
    phrase: str, hours: float
) -> None:
    [deadline] = response_deadlines(f"The guarantors must respond {phrase}.", True)
    assert parse_hours(deadline) == hours


@pytest.mark.parametrize(
    ("sentence", "given"),
    [
        ("Säkerhetsgarantierna som Sverige ger Ukraina gäller i tio år.", "Ukraina"),
        ("The guarantees that the US gives Ukraine would last.", "Ukraine"),
        ("Les garanties que la France donne à l'Ukraine sont solides.", "Ukraine"),
        ("Deutschland garantiert Litauen Schutz.", "Litauen"),
        ("Britain would guarantee Estonia protection.", "Estonia"),
    ],
)
def test_the_one_given_or_guaranteed_protection_after_the_guarantees_or_the_verb(
    sentence: str, given: str
) -> None:
    assert role_of(sentence, given) == "beneficiary"


@pytest.mark.parametrize(
    ("sentence", "name", "expected"),
    [
        # the verb last: the one right before the guarantees is given them
        ("Die USA müssten Taiwan Sicherheitsgarantien geben.", "Taiwan", "beneficiary"),
        ("Polen will der Ukraine Sicherheitsgarantien geben.", "Polen", "guarantor"),
        # a dative a preposition governs is no one given guarantees
        ("Estland verlangt von der NATO zusätzliche Sicherheitsgarantien.", "NATO", "guarantor"),
        # the genitive after "die Sicherheit"
        ("Die USA garantieren die Sicherheit Katars.", "Katars", "beneficiary"),
    ],
)
def test_german_verb_final_giving_prepositions_and_genitives(
    sentence: str, name: str, expected: str
) -> None:
    assert role_of(sentence, name) == expected


@pytest.mark.parametrize(
    ("sentence", "needer"),
    [
        ("Litwa potrzebuje gwarancji bezpieczeństwa.", "Litwa"),
        ("Corea del Sur necesita garantías de seguridad.", "Corea del Sur"),
        ("Finland behöver säkerhetsgarantier.", "Finland"),
        ("Ukraine needs security guarantees.", "Ukraine"),
    ],
)
def test_one_who_needs_guarantees_is_the_one_guaranteed(sentence: str, needer: str) -> None:
    assert role_of(sentence, needer) == "beneficiary"


def test_one_who_needs_to_give_guarantees_is_not_the_one_guaranteed() -> None:
    assert role_of("The US needs to give Ukraine guarantees.", "US") == "guarantor"


@pytest.mark.parametrize(
    "sentence",
    [
        "La sécurité alimentaire de la France est garantie.",
        "Die Energiesicherheit ist garantiert.",
        "Bezpieczeństwo energetyczne Polski jest gwarantowane.",
        "Sveriges energisäkerhet är garanterad.",
        "La seguridad energética de España está garantizada.",
        "La sicurezza energetica dell'Italia è garantita.",
    ],
)
def test_a_sector_s_security_in_other_languages_is_no_security_guarantee(sentence: str) -> None:
    assert not is_guarantee_sentence(sentence)


def test_the_united_states_and_kingdom_declined_in_german_are_those_states() -> None:
    from extractor.core.normalize import actor_code

    assert actor_code("Vereinigten Staaten") == "USA"
    assert actor_code("Vereinigten Königreich") == "GBR"


@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        ("Deutschland gibt der Ukraine Garantien gegen einen russischen Angriff.", "russischen"),
        ("Großbritannien bietet der Ukraine Sicherheitsgarantien gegen Russland an.", "Russland"),
        ("La France offrirait des garanties à la Moldavie en cas d'agression russe.", "russe"),
        ("Le Royaume-Uni offre des garanties à l'Ukraine contre la Russie.", "Russie"),
        ("Polska zapewni Litwie gwarancje na wypadek rosyjskiej agresji.", "rosyjskiej"),
        ("Polska da Ukrainie gwarancje bezpieczeństwa przeciwko Rosji.", "Rosji"),
        ("Sverige ger Finland säkerhetsgarantier vid ett ryskt angrepp.", "ryskt"),
        ("Sverige ger Ukraina säkerhetsgarantier mot Ryssland.", "Ryssland"),
        ("España ofrecería garantías a Ucrania ante una agresión rusa.", "rusa"),
        ("L'Italia offrirebbe garanzie all'Ucraina contro un'aggressione russa.", "russa"),
    ],
)
def test_the_attacker_named_or_described_in_other_languages_is_no_guarantor(
    sentence: str, name: str
) -> None:
    assert role_of(sentence, name) == "other"


@pytest.mark.parametrize(
    ("sentence", "attacked"),
    [
        ("Ein Angriff auf Polen würde als Angriff auf alle gelten, garantiert Berlin.", "Polen"),
        ("La France garantit une riposte à une attaque contre la Moldavie.", "Moldavie"),
        ("Gwarancje obejmą odpowiedź na atak na Litwę.", "Litwę"),
    ],
)
def test_the_one_attacked_in_other_languages_is_the_one_guaranteed(
    sentence: str, attacked: str
) -> None:
    assert role_of(sentence, attacked) == "beneficiary"


@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        ("Die USA geben Garantien nach dem Vorbild von Artikel 5 der NATO.", "NATO"),
        ("Des garanties sur le modèle de l'article 5 de l'OTAN.", "OTAN"),
        ("Gwarancje na wzór artykułu 5 NATO.", "NATO"),
        ("Garanzie simili all'articolo 5 della NATO.", "NATO"),
        ("Garantías similares al artículo 5 de la OTAN.", "OTAN"),
        ("Frankreich will nach Verhandlungen mit Russland Garantien geben.", "Russland"),
        ("Après des négociations avec la Russie, la France offrirait des garanties.", "Russie"),
        ("Tras negociaciones con Rusia, España daría garantías.", "Rusia"),
        ("Dopo i negoziati con la Russia, l'Italia darebbe garanzie.", "Russia"),
        ("Po rozmowach z Rosją Polska da gwarancje.", "Rosją"),
    ],
)
def test_the_model_and_the_other_side_of_talks_in_other_languages_are_no_guarantors(
    sentence: str, name: str
) -> None:
    assert role_of(sentence, name) == "other"


def test_offering_in_spanish_gives_to_the_one_after_it() -> None:
    sentence = "Estados Unidos ofrecería a Ucrania garantías de seguridad."
    assert role_of(sentence, "Ucrania") == "beneficiary"


def test_only_an_attack_on_another_treated_as_one_on_itself_makes_a_guarantor() -> None:
    # Hand-written: an attack seen as one on a state, with no attack on another before it.
    sentence = "Russia's invasion is seen as an attack on Ukraine's security guarantees."
    assert role_of(sentence, "Ukraine") != "guarantor"
    sentence = "The US would treat an attack on Japan as an attack on the United States."
    assert role_of(sentence, "United States") == "guarantor"
