"""Tests for extractor.core.normalize: canonical actors, durations, territories and languages."""

# Russian and Ukrainian inputs are the point of these tests, so Cyrillic letters that look
# Latin are expected in the strings.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import pycountry
import pytest

from extractor.core.normalize import (
    actor_code,
    actor_kind,
    canonical_territory,
    detect_language,
    named_actors,
    parse_hours,
    territories_named,
    territory_code,
)

# ---------------------------------------------------------------------------------------------
# actor_code
# ---------------------------------------------------------------------------------------------

ENGLISH_ACTORS = [
    ("Ukraine", "UKR"),
    ("Ukrainian", "UKR"),
    ("Ukraine's", "UKR"),
    ("Kyiv", "UKR"),
    ("Kiev", "UKR"),
    ("the Ukrainian side", "UKR"),
    ("Russia", "RUS"),
    ("Russia’s", "RUS"),
    ("russian", "RUS"),
    ("the Kremlin", "RUS"),
    ("Moscow", "RUS"),
    ("Russian Federation", "RUS"),
    ("United States", "USA"),
    ("the United States", "USA"),
    ("United States of America", "USA"),
    ("US", "USA"),
    ("U.S.", "USA"),
    ("USA", "USA"),
    ("America", "USA"),
    ("American", "USA"),
    ("Washington", "USA"),
    ("the White House", "USA"),
    ("the Pentagon", "USA"),
    ("US officials", "USA"),
    ("the US administration", "USA"),
    ("United Kingdom", "GBR"),
    ("UK", "GBR"),
    ("U.K.", "GBR"),
    ("Britain", "GBR"),
    ("Great Britain", "GBR"),
    ("British", "GBR"),
    ("London", "GBR"),
    ("Downing Street", "GBR"),
    ("France", "FRA"),
    ("French", "FRA"),
    ("Paris", "FRA"),
    ("the Elysee", "FRA"),
    ("Élysée", "FRA"),
    ("Germany", "DEU"),
    ("German", "DEU"),
    ("Berlin", "DEU"),
    ("Turkey", "TUR"),
    ("Türkiye", "TUR"),
    ("Turkish", "TUR"),
    ("Ankara", "TUR"),
    ("Canada", "CAN"),
    ("Canadian", "CAN"),
    ("Ottawa", "CAN"),
    ("Poland", "POL"),
    ("Polish", "POL"),
    ("Warsaw", "POL"),
    ("Israel", "ISR"),
    ("Israeli", "ISR"),
    ("Tel Aviv", "ISR"),
    ("Jerusalem", "ISR"),
    ("Italy", "ITA"),
    ("Rome", "ITA"),
    ("Spain", "ESP"),
    ("China", "CHN"),
    ("Chinese", "CHN"),
    ("Beijing", "CHN"),
    ("India", "IND"),
    ("Belarus", "BLR"),
    ("Belarusian", "BLR"),
    ("Minsk", "BLR"),
    ("Moldova", "MDA"),
    ("Chisinau", "MDA"),
    ("Chișinău", "MDA"),
    ("Georgia", "GEO"),
    ("Kazakhstan", "KAZ"),
    ("Japan", "JPN"),
    ("Tokyo", "JPN"),
    ("the Netherlands", "NLD"),
    ("Dutch", "NLD"),
    ("Belgium", "BEL"),
    ("Denmark", "DNK"),
    ("Sweden", "SWE"),
    ("Finland", "FIN"),
    ("Norway", "NOR"),
    ("Estonia", "EST"),
    ("Latvia", "LVA"),
    ("Lithuania", "LTU"),
    ("Romania", "ROU"),
    ("Hungary", "HUN"),
    ("Slovakia", "SVK"),
    ("Czech Republic", "CZE"),
    ("Czechia", "CZE"),
    ("Austria", "AUT"),
    ("Switzerland", "CHE"),
    ("Swiss", "CHE"),
    ("Bulgaria", "BGR"),
    ("Greece", "GRC"),
    ("Portugal", "PRT"),
    ("Ireland", "IRL"),
    ("Australia", "AUS"),
    ("New Zealand", "NZL"),
    ("South Korea", "KOR"),
    ("Saudi Arabia", "SAU"),
    ("Qatar", "QAT"),
    ("UAE", "ARE"),
    ("United Arab Emirates", "ARE"),
    ("Iran", "IRN"),
    ("North Korea", "PRK"),
    ("Brazil", "BRA"),
    ("South Africa", "ZAF"),
    ("Azerbaijan", "AZE"),
    ("Armenia", "ARM"),
    ("the Vatican", "VAT"),
    ("Holy See", "VAT"),
    ("Slovenia", "SVN"),
    ("Croatia", "HRV"),
    ("Serbia", "SRB"),
]

ORGANISATIONS = [
    ("NATO", "NATO"),
    ("North Atlantic Treaty Organization", "NATO"),
    ("NATO's", "NATO"),
    ("EU", "EU"),
    ("the European Union", "EU"),
    ("UN", "UN"),
    ("the United Nations", "UN"),
    ("UN Security Council", "UN"),
    ("G7", "G7"),
    ("G-7", "G7"),
    ("Group of Seven", "G7"),
    ("OSCE", "OSCE"),
]

RUSSIAN_ACTORS = [
    ("Украина", "UKR"),
    ("Украины", "UKR"),
    ("Украине", "UKR"),
    ("украинская сторона", "UKR"),
    ("правительство Украины", "UKR"),
    ("Россия", "RUS"),
    ("России", "RUS"),
    ("РФ", "RUS"),
    ("российские власти", "RUS"),
    ("МИД РФ", "RUS"),
    ("США", "USA"),
    ("Соединённые Штаты", "USA"),
    ("Соединенных Штатов", "USA"),
    ("Великобритания", "GBR"),
    ("Британия", "GBR"),
    ("Франция", "FRA"),
    ("Франции", "FRA"),
    ("Германия", "DEU"),
    ("Германии", "DEU"),
    ("Турция", "TUR"),
    ("Турции", "TUR"),
    ("Канада", "CAN"),
    ("Канады", "CAN"),
    ("Польша", "POL"),
    ("Польши", "POL"),
    ("Израиль", "ISR"),
    ("Израиля", "ISR"),
    ("Китай", "CHN"),
    ("Китая", "CHN"),
    ("Молдова", "MDA"),
    ("Молдавия", "MDA"),
    ("Беларусь", "BLR"),
    ("Белоруссия", "BLR"),
    ("Киев", "UKR"),
    ("Киеве", "UKR"),
    ("Москва", "RUS"),
    ("Кремль", "RUS"),
    ("Кремля", "RUS"),
    ("Вашингтон", "USA"),
    ("Лондон", "GBR"),
    ("Париж", "FRA"),
    ("Берлин", "DEU"),
    ("НАТО", "NATO"),
    ("ЕС", "EU"),
    ("Евросоюз", "EU"),
    ("Евросоюза", "EU"),
    ("ООН", "UN"),
    ("Совет безопасности ООН", "UN"),
    ("ОБСЕ", "OSCE"),
    ("Большая семерка", "G7"),
    ("Большой семёрки", "G7"),
]


@pytest.mark.parametrize(("name", "code"), ENGLISH_ACTORS + ORGANISATIONS + RUSSIAN_ACTORS)
def test_actor_code_resolves_known_names(name: str, code: str) -> None:
    assert actor_code(name) == code


@pytest.mark.parametrize(
    "name",
    [
        "  Ukraine  ",
        "UKRAINE",
        '"Ukraine"',
        "Ukraine,",
        "(Ukraine)",
        "The Ukraine",
        "Ukraine’s",
    ],
)
def test_actor_code_ignores_case_whitespace_punctuation_and_possessives(name: str) -> None:
    assert actor_code(name) == "UKR"


@pytest.mark.parametrize(
    "name",
    [
        "us",  # the English pronoun
        "Us",
        "us officials",
        "the alliance",  # too vague: NATO, a coalition or a bilateral pact
        "Alliance",
        "альянс",
        "Zelensky",  # people stand for states but are not states
        "Putin",
        "Путин",
        "Зеленский",
        "Korea",  # which one?
        "Latin America",
        "совет безопасности",  # without "UN" it may be Russia's own council
        "",
        "   ",
    ],
)
def test_actor_code_returns_none_for_vague_or_personal_names(name: str) -> None:
    assert actor_code(name) is None


@pytest.mark.parametrize(
    "word",
    ["польза", "дань", "дани", "кит", "Индиана", "франк", "Москвич", "грузить", "того", "перу"],
)
def test_actor_code_russian_stems_do_not_match_unrelated_words(word: str) -> None:
    assert actor_code(word) is None


def test_every_iso_3166_1_state_by_its_english_short_name_gets_its_alpha_3_code() -> None:
    countries = list(pycountry.countries)
    assert len(countries) == 249
    wrong = [(c.name, actor_code(c.name)) for c in countries if actor_code(c.name) != c.alpha_3]
    assert wrong == []


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Люксембурга", "LUX"),
        ("Черногорией", "MNE"),
        ("Мексики", "MEX"),
        ("Египтом", "EGY"),
        ("Албании", "ALB"),
        ("Эстонией", "EST"),
        ("Японию", "JPN"),
        ("Бразилии", "BRA"),
        ("Канаде", "CAN"),
        ("Швецию", "SWE"),
        ("Республики Молдова", "MDA"),
        ("Российской Федерации", "RUS"),
        ("Ирак", "IRQ"),
        ("Нидерландами", "NLD"),
        ("Чорногорії", "MNE"),  # Ukrainian
        ("Німеччиною", "DEU"),
    ],
)
def test_russian_and_ukrainian_case_forms_of_iso_names_get_their_codes(
    name: str, code: str
) -> None:
    assert actor_code(name) == code


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Coalition of the Willing", "COTW"),
        ("коалиции желающих", "COTW"),
        ("CSTO", "CSTO"),
        ("ОДКБ", "CSTO"),
        ("the African Union", "AU"),
        ("G20", "G20"),
        ("Council of Europe", "COE"),
        ("СНГ", "CIS"),
    ],
)
def test_organisations_news_about_guarantees_names_are_coded(name: str, code: str) -> None:
    assert actor_code(name) == code
    assert actor_kind(name) == "organization"


def test_an_english_iso_name_written_lower_case_is_a_word_not_a_state() -> None:
    assert actor_code("Reunion") == "REU"
    assert actor_code("a reunion") is None
    assert actor_code("Jordan") == "JOR"


def test_named_actors_finds_each_code_once_as_the_text_writes_it() -> None:
    text = "Ukraine proposed that Luxembourg, Montenegro and France act as guarantors."
    assert named_actors(text) == {
        "UKR": "Ukraine",
        "LUX": "Luxembourg",
        "MNE": "Montenegro",
        "FRA": "France",
    }


# ---------------------------------------------------------------------------------------------
# actor_kind
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Ukraine", "state"),
        ("the United States", "state"),
        ("Кремль", "state"),
        ("NATO", "organization"),
        ("Евросоюз", "organization"),
        ("United Nations", "organization"),
        ("G7", "organization"),
        ("OSCE", "organization"),
        ("Zelensky", None),
        ("the alliance", None),
        ("us", None),
    ],
)
def test_actor_kind(name: str, kind: str | None) -> None:
    assert actor_kind(name) == kind


def test_every_state_code_is_iso_alpha3() -> None:
    names = [name for name, _ in ENGLISH_ACTORS + RUSSIAN_ACTORS]
    for name in names:
        code = actor_code(name)
        assert code is not None
        if actor_kind(name) == "state":
            assert len(code) == 3
            assert code.isascii()
            assert code.isupper()


# ---------------------------------------------------------------------------------------------
# parse_hours
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("72 hours", 72.0),
        ("within 72 hours", 72.0),
        ("72-hour", 72.0),
        ("a 72-hour deadline", 72.0),
        ("72h", 72.0),
        ("48 hrs", 48.0),
        ("within three days", 72.0),
        ("three-day", 72.0),
        ("forty-eight hours", 48.0),
        ("seventy-two hours", 72.0),
        ("twenty four hours", 24.0),
        ("a hundred hours", 100.0),
        ("within a day", 24.0),
        ("within an hour", 1.0),
        ("within the hour", 1.0),
        ("a week", 168.0),
        ("two weeks", 336.0),
        ("one month", 720.0),
        ("Twelve Hours", 12.0),
        ("1.5 hours", 1.5),
        ("30 minutes", 0.5),
        ("half an hour", 0.5),
        ("two and a half days", 60.0),
        ("24-48 hours", 48.0),  # a range counts up to its upper bound
        ("within 24 hours, then 7 days", 24.0),  # the first duration wins
        ("в течение 3 дней", 72.0),
        ("24 часа", 24.0),
        ("в течение 72 часов", 72.0),
        ("1,5 часа", 1.5),
        ("один день", 24.0),
        ("одного месяца", 720.0),
        ("два месяца", 1440.0),
        ("трёх суток", 72.0),
        ("трое суток", 72.0),
        ("в течение суток", 24.0),
        ("семь дней", 168.0),
        ("десять дней", 240.0),
        ("семьдесят два часа", 72.0),
        ("2 недели", 336.0),
        ("в течение недели", 168.0),
        ("через месяц", 720.0),
        ("72-часовой срок", 72.0),
        ("трехдневный срок", 72.0),
        ("двухнедельный", 336.0),
        ("полчаса", 0.5),
    ],
)
def test_parse_hours(text: str, hours: float) -> None:
    result = parse_hours(text)
    assert isinstance(result, float)
    assert result == hours


@pytest.mark.parametrize(
    "text",
    [
        "immediately",
        "as soon as possible",
        "within a few days",
        "a few hours",
        "within hours",
        "hourly",
        "немедленно",
        "в кратчайшие сроки",
        "in 2022",
        "",
    ],
)
def test_parse_hours_returns_none_without_a_definite_duration(text: str) -> None:
    assert parse_hours(text) is None


# ---------------------------------------------------------------------------------------------
# canonical_territory
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Crimea", "Crimea"),
        ("the Crimean peninsula", "Crimea"),
        ("Krym", "Crimea"),
        ("Крым", "Crimea"),
        ("Крыма", "Crimea"),
        ("Крыму", "Crimea"),
        ("Республика Крым", "Crimea"),
        ("Sevastopol", "Sevastopol"),
        ("Севастополь", "Sevastopol"),
        ("Donbas", "Donbas"),
        ("Donbass", "Donbas"),
        ("the Donbas region", "Donbas"),
        ("Донбасс", "Donbas"),
        ("Донбасса", "Donbas"),
        ("Donetsk region", "Donetsk"),
        ("Donetsk oblast", "Donetsk"),
        ("Донецк", "Donetsk"),
        ("Донецкая область", "Donetsk"),
        ("Донецкой области", "Donetsk"),
        ("ДНР", "Donetsk"),
        ("Donetsk People's Republic", "Donetsk"),
        ("DPR", "Donetsk"),
        ("Luhansk", "Luhansk"),
        ("Lugansk", "Luhansk"),
        ("LPR", "Luhansk"),
        ("Луганск", "Luhansk"),
        ("Луганская область", "Luhansk"),
        ("ЛНР", "Luhansk"),
        ("Zaporizhzhia", "Zaporizhzhia"),
        ("Zaporizhia", "Zaporizhzhia"),
        ("Zaporozhye", "Zaporizhzhia"),
        ("Запорожье", "Zaporizhzhia"),
        ("Запорожская область", "Zaporizhzhia"),
        ("Kherson oblast", "Kherson"),
        ("Херсон", "Kherson"),
        ("Херсонская область", "Kherson"),
        ("Transnistria", "Transnistria"),
        ("Приднестровье", "Transnistria"),
        ("Abkhazia", "Abkhazia"),
        ("South Ossetia", "South Ossetia"),
    ],
)
def test_canonical_territory_known(text: str, name: str) -> None:
    assert canonical_territory(text) == name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Odesa oblast", "Odesa"),
        ("sumy region", "Sumy"),
        ("  the Poltava region  ", "Poltava"),
        ("nagorno-karabakh", "Nagorno-Karabakh"),
        ("left bank of the Dnipro", "Left Bank of the Dnipro"),
        ("ZNPP", "ZNPP"),
        ("", ""),
    ],
)
def test_canonical_territory_falls_back_to_tidied_input(text: str, name: str) -> None:
    assert canonical_territory(text) == name


@pytest.mark.parametrize(
    ("name", "code"),
    [("Crimea", "UA-43"), ("Donetsk", "UA-14"), ("Sevastopol", "UA-40"), ("Donbas", None)],
)
def test_territories_get_their_iso_3166_2_code_where_one_exists(
    name: str, code: str | None
) -> None:
    assert territory_code(name) == code
    if code is not None:
        assert pycountry.subdivisions.get(code=code) is not None


def test_territories_named_reads_every_known_territory_of_a_text() -> None:
    text = "Russia keeps the Crimean peninsula, Донецкую область and Zaporozhye, not security."
    assert territories_named(text) == {"Crimea", "Donetsk", "Zaporizhzhia"}


# ---------------------------------------------------------------------------------------------
# detect_language
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Ukraine demands security guarantees that would bind its partners by law.", "en"),
        ("Ukraine demands security guarantees.", "und"),  # too short to be sure
        ("Россия и Украина обсудили гарантии безопасности.", "ru"),
        ("Україна і партнери обговорили гарантії безпеки.", "uk"),
        ("Kyiv said the talks in Москва were useful for everyone involved.", "en"),
        ("Президент заявил, что переговоры с NATO продолжатся.", "ru"),
        ("Die Bundesregierung will der Ukraine Sicherheitsgarantien geben.", "de"),
        ("La France propose des garanties de sécurité à l'Ukraine.", "fr"),
        ("Polska zaproponowała gwarancje bezpieczeństwa dla Ukrainy.", "pl"),
        ("", "und"),
        ("12:30 — 72 %", "und"),
        ("NATO", "und"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_detect_language_russian_text_quoting_a_ukrainian_name_stays_russian() -> None:
    text = (
        "Министр иностранных дел заявил журналистам, что гарантии безопасности должны быть "
        "юридически обязывающими и ратифицированы парламентами. По его словам, переговоры "
        "продолжатся на следующей неделе, а издание «Українська правда» сообщило подробности."
    )
    assert detect_language(text) == "ru"


def test_ordlo_is_donbas() -> None:
    from extractor.core.normalize import canonical_territory

    for name in ("ОРДЛО", "ORDLO", "Отдельные районы Донецкой и Луганской областей"):
        assert canonical_territory(name) == "Donbas"
    assert canonical_territory("Донецкой") == "Donetsk"


def test_a_states_adjective_is_told_from_its_name() -> None:
    from extractor.core.normalize import is_demonym

    assert all(is_demonym(w) for w in ("Russian", "British", "Israeli", "French", "Japanese"))
    assert not any(is_demonym(w) for w in ("Russia", "Mali", "Oman", "UK", "Kyiv", "NATO"))


def test_the_coalition_of_the_willing_by_its_other_russian_name() -> None:
    from extractor.core.normalize import actor_code

    assert actor_code("коалиции решительных") == "COTW"
    assert actor_code("коаліції рішучих") == "COTW"


# ---------------------------------------------------------------------------------------------
# Names as a capable model writes them
# ---------------------------------------------------------------------------------------------


def test_quotation_marks_inside_a_name_are_no_part_of_it() -> None:
    assert actor_code("страны “Большой семерки”") == "G7"
    assert actor_code("the «North Atlantic Alliance»") == "NATO"
    assert actor_code("участники формата «5+2»") is None  # a format, no organisation
    assert actor_code("Côte d'Ivoire") == "CIV"  # an apostrophe is part of a name


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("страны G7", "G7"),
        ("Countries of the North Atlantic Alliance", "NATO"),
        ("members of NATO", "NATO"),
        ("other NATO members", "NATO"),
        ("EU member states", "EU"),
        ("permanent members of the UN Security Council", "UN"),
        ("the Office of the President of Ukraine", "UKR"),
        ("the government of France", "FRA"),
        ("государства-члены ЕС", "EU"),
        ("постоянные члены Совета Безопасности ООН", "UN"),
        ("Офис президента Украины", "UKR"),
        ("країни НАТО", "NATO"),
        ("państwa członkowskie UE", "EU"),
        ("członkowie NATO", "NATO"),
    ],
)
def test_a_head_noun_around_an_organisation_or_state_is_no_part_of_its_name(
    name: str, code: str
) -> None:
    assert actor_code(name) == code


@pytest.mark.parametrize(
    "name",
    [
        "all of Ukraine",  # a territory, not an actor
        "troops in Ukraine",  # someone's troops in Ukraine, not Ukraine's
        "US allies",  # the allies of the US are not the US
        "members of the European Parliament",
        "countries",
        "члены",
    ],
)
def test_a_head_noun_does_not_make_a_description_an_actor(name: str) -> None:
    assert actor_code(name) is None


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Sverige", "SWE"),
        ("Deutschland", "DEU"),
        ("Royaume-Uni", "GBR"),
        ("États-Unis", "USA"),
        ("Vereinigte Staaten", "USA"),
        ("Russland", "RUS"),
        ("Großbritannien", "GBR"),
        ("Wielka Brytania", "GBR"),
        ("Ελλάδα", "GRC"),
        ("中国", "CHN"),
        # Polish in any case
        ("Wielkiej Brytanii", "GBR"),
        ("Francji", "FRA"),
        ("Rosji", "RUS"),
        ("Stanów Zjednoczonych", "USA"),
        ("Niemiec", "DEU"),
        ("Kanadzie", "CAN"),
        ("Unii Europejskiej", "EU"),
        # short forms a model writes
        ("ВБ", "GBR"),
        ("ЄС", "EU"),
        ("UE", "EU"),
        ("ONZ", "UN"),
        ("США", "USA"),
        ("UK", "GBR"),
        ("US", "USA"),
    ],
)
def test_names_in_other_languages_and_short_forms_get_their_codes(name: str, code: str) -> None:
    assert actor_code(name) == code


def test_a_name_in_another_language_counts_only_as_a_name() -> None:
    # Written in lower case these are words ("chin", "polska" as an adjective in a sentence).
    assert actor_code("Chin") == "CHN" and actor_code("chin") is None
    assert actor_code("polska") is None
    assert actor_code("status") is None
    assert named_actors("The woman lifted her chin; the status quo held.") == {}


def test_the_short_names_of_every_language_pycountry_translates_get_their_codes() -> None:
    from extractor.core import normalize

    wrong = total = 0
    for _, catalogue in normalize._catalogues():
        for country in pycountry.countries:
            local = catalogue.get(country.name)
            if local and local != country.name:
                total += 1
                wrong += actor_code(local) != country.alpha_3
    # What is left: names two states share ("Конго"), declined forms that are words ("Чад",
    # "Того") and names of under four letters in a script with capitals.
    assert total > 20_000
    assert wrong / total < 0.015


def test_a_list_of_actors_splits_into_one_name_each() -> None:
    from extractor.core.normalize import split_actors

    assert split_actors("Finland and Sweden") == ["Finland", "Sweden"]
    assert split_actors("France, Germany, and the United Kingdom") == [
        "France",
        "Germany",
        "the United Kingdom",
    ]
    assert split_actors("Франция и Великобритания") == ["Франция", "Великобритания"]
    assert split_actors("Sverige och Finland") == ["Sverige", "Finland"]  # Swedish, Norwegian "og"
    assert split_actors("Norge og Danmark") == ["Norge", "Danmark"]
    assert split_actors("the US and its allies") == ["the US", "its allies"]
    assert split_actors("the US and its allies", coded=2) == ["the US and its allies"]
    assert split_actors("the E3 (France, Germany and the UK)") == [
        "the E3",
        "France",
        "Germany",
        "the UK",
    ]
    assert split_actors("the US/UK") == ["the US", "UK"]
    assert split_actors("Holy See (Vatican City State)") == ["Holy See (Vatican City State)"]
    # One name with "and" in it, and a list with something that is no state, stay whole.
    assert split_actors("Bosnia and Herzegovina") == ["Bosnia and Herzegovina"]
    assert split_actors("Organization for Security and Co-operation in Europe") == [
        "Organization for Security and Co-operation in Europe"
    ]
    assert split_actors("Sir Keir and President Macron") == ["Sir Keir and President Macron"]


def test_a_function_word_glued_to_a_name_is_put_apart_and_nothing_else_is() -> None:
    from extractor.core.normalize import unglue

    assert unglue("может состоять изСША, Великобритании") == "может состоять из США, Великобритании"
    assert unglue("guaranteed byUkraine") == "guaranteed by Ukraine"
    assert unglue("США и ВеликобританияиКанада") == "США и ВеликобританияиКанада"  # no seam
    for word in ("status", "Russian", "woman", "Trumpa"):
        assert unglue(word) == word


def test_a_name_is_found_in_a_text_in_any_of_its_cases() -> None:
    from extractor.core.normalize import declined_in

    assert declined_in("Трамп", "предложение Трампа было принято")
    assert declined_in("Владимир Зеленский", "по словам Владимира Зеленского")
    assert declined_in("Trump", "propozycja Trumpa")
    assert not declined_in("Трамп", "трамплин для переговоров")
    assert not declined_in("US", "the status quo")
    assert not declined_in("Trump", "a trumpet")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("the remainder of Donbas", ["Donbas"]),
        ("the Donbas territories listed in Annex 6", ["Donbas"]),
        ("Donetsk and Luhansk", ["Donetsk", "Luhansk"]),
        ("the occupied parts of Kherson", ["Kherson"]),
        ("the occupied territories", ["occupied territories"]),
        ("territory not under the government's control", ["occupied territories"]),
        ("territories occupied by Russia", ["occupied territories"]),
        ("оккупированные территории", ["occupied territories"]),
        ("неподконтрольные территории", ["occupied territories"]),
        ("тимчасово окуповані території", ["occupied territories"]),
        ("непідконтрольні території", ["occupied territories"]),
        ("terytoria okupowane", ["occupied territories"]),
        ("die besetzten Gebiete", ["occupied territories"]),
        ("les territoires occupés", ["occupied territories"]),
        ("left bank of the Dnipro", ["Left Bank of the Dnipro"]),
    ],
)
def test_a_territory_inside_a_longer_phrase_and_a_scope_get_canonical_names(
    text: str, names: list[str]
) -> None:
    from extractor.core.normalize import territory_names

    assert territory_names(text) == names
    assert canonical_territory(text) == (names[0] if len(names) == 1 else text)


def test_a_scope_is_read_in_a_quote_as_any_territory_is() -> None:
    quote = "The guarantees would not cover territory not under the government's control."
    assert territories_named(quote) == {"occupied territories"}
    assert territories_named("Russia occupied Crimea in 2014") == {"Crimea"}


def test_names_keyed_together_are_keyed_as_one_name_is() -> None:
    from extractor.core import normalize

    names = sorted(
        {name for _, catalogue in normalize._catalogues() for name in catalogue.values()}
    )
    names += ['the "Big" Seven\'s', " «Ukraine»,", "The Ukraine’s", "U.S.-led", "ΗΠΑΣ", "a - b"]
    names = [name for name in names if "\n" not in name]
    keyed = normalize._core_keys(names)
    assert keyed == [normalize._key(normalize._actor_core(name)) for name in names]
