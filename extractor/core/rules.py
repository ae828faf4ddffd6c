"""What code alone finds in an article: its paragraphs and sentences, the states and
organisations it names and in what role, deadlines, territories named where it speaks of an
exclusion, and conditions; located in the text. The candidates every strategy starts from, and
the whole of the ``rules`` strategy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from ..schemas import Dropped, Evidence
from .build import evidence_of
from .grounding import locate
from .normalize import actor_spans, duration_spans, is_demonym, named_actors, scope_spans

# A commitment to defend a state that is a security guarantee in all but the word: "pledge to
# defend Ukraine", "send troops to Ukraine", "peacekeepers", "a backstop", "mutual defence", a
# defence pact or security compact, security assurances, extended deterrence, a nuclear
# umbrella, "treat an attack on X as an attack on", "come to the aid"; in English, Russian,
# Ukrainian, German, French, Polish and Swedish.
_COMMITMENT = re.compile(
    r"\b(?:pledg|commit|promis|vow|ready|willing|prepared)\w*\s+(?:\w+\s+){0,2}?to\s+"
    r"(?:defend|protect|come to|fight for|intervene)|"
    r"\b(?:willing|ready|readiness|prepared)\w*\s+to\s+(?:participate|contribute|take part)|"
    # standing ready to back a state, or reassuring it: "the UK stands ready to support Ukraine",
    # "providing Ukraine with international reassurance"
    r"\b(?:stand|stands|stood|are|is|were|was)\s+ready\s+to\s+(?:back|support|help|assist)|"
    r"\b(?:provid|offer|giv|extend)\w*\s+(?:\S+\s+){0,4}?reassurance|"
    r"\bcom(?:e|es|ing) to (?:\w+\s+){0,2}?(?:aid|defen[cs]e|assistance|rescue)|"
    r"\b(?:mutual|collective)[- ](?:defen[cs]e|assistance|aid)|"
    r"\bdefen[cs]e (?:pact|treaty|commitment|agreement|alliance|compact)|"
    r"\bsecurity (?:pact|treaty|compact|accord|assurances?|umbrella)|"
    r"\bsecurity (?:agreement|commitment|arrangement)s?|"
    r"\bextended deterrence|\b(?:nuclear|defen[cs]e) umbrella|\bunder (?:\w+\s+){0,2}umbrella|"
    r"\btreat\w*\s+(?:\S+\s+){0,3}?attack on\s+(?:\S+\s+){1,4}?as (?:an )?attack on|"
    r"\battack on (?:one|any)(?: member| ally)? (?:is|as) an attack on|"
    r"\b(?:send(?:s|ing)?|sent|deploy\w*|station(?:s|ed|ing)?|plac(?:e|es|ed|ing)|"
    r"put(?:s|ting)?)\s+(?:\S+\s+){0,3}?"
    r"(?:troops|forces|soldiers|contingents?|peacekeepers)|"
    r"\bpeace-?keep\w*|\breassurance force|\bbackstop|"
    # help promised for the case of an attack: "ready to help us in case of a military conflict"
    r"\b(?:help|assist|aid)\w*\s+(?:\S+\s+){0,3}?in (?:the )?(?:case|event) of (?:an? )?"
    r"(?:\w+\s+)?(?:attack|war|conflict|aggression|invasion)|"
    r"(?:помо[чгщ]|защи[тщ]|допомог|захист)\w*\s+(?:\S+\s+){0,3}?(?:в случае|у разі|в разі)\s+"
    r"(?:\w+\s+)?(?:нападени|агресси|войн|конфликт|напад|агрес|війн|конфлікт)|"
    # Russian and Ukrainian
    r"обязательств\w* (?:\w+ )?(?:защи|оборон)|зобов\W?язан\w* (?:\w+ )?(?:захист|оборон)|"
    r"взаимн\w* (?:оборон|помощ)|взаємн\w* (?:оборон|допомог)|"
    r"оборонн?\w* (?:союз|пакт|договор|угод)|"
    r"(?:договор|соглашени|пакт|угод|договір)\w* (?:о|про) безпе?к|безпеков\w* (?:угод|договір)|"
    r"ядерн\w* (?:зонтик|парасольк)|"
    r"(?:прийти|придти|прид[её]т|прийдут|прийде|прийдуть) на (?:помощь|допомогу)|"
    r"\b(?:ввест|ввод|размест|направ|отправ|разверн|развертыв|розмі?ст|направ)\w* (?:\S+ ){0,4}?"
    r"(?:войск|військ|контингент|миротвор|сил\w* (?:сдерживани|безопасност|поддержк))|"
    r"миротвор|"
    # German
    r"beistand|sicherheits(?:abkommen|vereinbarung|pakt|zusage)|verteidigungs(?:bündnis|pakt|abkommen)|"
    r"schutzschirm|atomschirm|zu hilfe (?:zu )?kommen|\bverteidigen\b|"
    # French
    r"\bpacte de (?:défense|sécurité)|\b(?:défense|assistance) mutuelle|\baccord de sécurité|"
    r"\bparapluie|\bvenir en aide|\bporter secours|\bdéfendre\b|"
    # Polish
    r"wzajemn\w* (?:obron|pomoc)|\bpakt\w* obronn|\bumow\w* o bezpiecze|\bparasol\w*|"
    r"przyjść z pomocą|\bbronić\b|sojusz\w* obronn|"
    # Swedish
    r"ömsesidigt försvar|försvars(?:avtal|pakt)|säkerhetsavtal|kärnvapenparaply|"
    r"komma till undsättning|\bförsvara\b",
    re.IGNORECASE,
)
# The word for a guarantee and for security in the languages cued: "guarant-" in English,
# "garant-" in German, French, Swedish and most others, "gwarant-" in Polish.
_GUARANTEE_STEM = r"guarant|garant|garanz|gwaran|гарант"
_SECURITY_STEM = (
    r"secur|безопасн|безпек|sicherheit|sécurité|securite|bezpiecze|säkerhet|sikkerhed|sikkerhet|"
    r"seguridad|sicurezza|veiligheid"
)
# A paragraph the rules read, and a chunk a field strategy asks about: one that speaks of
# guarantees, security or a commitment to defend.
_GUARANTEE = re.compile(
    rf"{_GUARANTEE_STEM}|{_SECURITY_STEM}|safeguard|article\s*5|" + _COMMITMENT.pattern,
    re.IGNORECASE,
)
_TERRITORY = re.compile(
    r"crimea|crimée|krym|krim\b|крым|крим|donbas|донбас|donetsk|донецк|luhansk|lugansk|луганск|zaporiz|zaporoz|"
    r"запорож|kherson|херсон|sevastopol|севастопол|transnistri|приднестров|occupied|оккупир|"
    r"ordlo|ордло|orlo\b|орло\b",
    re.IGNORECASE,
)


_TERRITORY_MENTION = re.compile(
    rf"[\w'\u2019-]*(?:{_TERRITORY.pattern})[\w'\u2019-]*", re.IGNORECASE
)


# Leaving a territory out of a guarantee, or setting it aside to be settled apart: "would be
# excluded", "not covered", "a separate point of the treaty", "its status to be negotiated over
# 15 years", "вынесены отдельным пунктом".
_EXCLUSION = re.compile(
    r"exclu|not be (?:part|covered|included)|not cover|except|outside|apart from|"
    r"(?:not|n't) (?:apply|extend) to|\bnot to\b|does not include|"
    r"не (?:будут |будет )?распространя|не поширю|не стосу|крім|"
    r"nicht für|gilt nicht|ausgenommen|ne s'appliqu|sauf|hormis|z wyjątkiem|poza|"
    r"utom|undantag|"
    # a guarantee that would not cover or apply to it: "nie obejmowałyby", "inte omfatta",
    # "no se aplicarían", "non si applicherebbero"
    r"\bnie obejm|\binte (?:omfatta|gälla)|\bno se aplic|\bno (?:cubri|inclui)|"
    r"\bnon si applic|\bnon (?:copri|includ)|"
    r"separate(?:ly)?\s+(?:\w+\s+)?(?:point|item|clause|track|negotiation|talk)|set aside|"
    r"(?:status|dispute)\s+(?:\S+\s+){0,4}?(?:settled|negotiated|resolved|decided)|"
    r"исключ|кроме|за исключением|не распростран|не входи|отдельн\w* пункт|"
    r"(?:статус\w*|спор\w*)\s+(?:\S+\s+){0,4}?(?:урегулир|разреш|переговор|решен)|"
    r"(?:переговор\w*|урегулир\w*|разреш\w*)\s+(?:\S+\s+){0,3}?(?:по\s+)?(?:статус|спор)",
    re.IGNORECASE,
)
_DEADLINE_BEFORE = re.compile(
    r"(?:within|respond|react|no later than|deadline|в течение|за|через|не позднее|"
    r"протягом|впродовж|innerhalb|binnen|dans les|sous|d'ici|w ciągu|w przeciągu|inom|"
    r"entro|en un plazo de|dentro de|en)\W*(?:\w+\W+)?$",
    re.IGNORECASE,
)
_DEADLINE_AFTER = re.compile(
    r"^\W*(?:max|maximum|at most|deadline|to respond|to react)", re.IGNORECASE
)


# What the guarantors do within a deadline: consult, respond, decide, act, assist.
_RESPONSE_ACTION = re.compile(
    r"respon|react|consult|convene|decid|decision|assist|\baid\b|\bhelp|activat|interven|"
    r"provide|military|\bmeet|\bact\b|"
    r"консульт|реагир|отреаг|решени|рішен|помощ|допомог|активац|собрат|собер|предостав|оказ|"
    r"реагув|beraten|reagier|entscheid|hilfe|beistand|réagi|répond|décision|décid|\baide\b|"
    r"reagow|konsultac|decyzj|pomoc|reagera|samråd|beslut|hjälp",
    re.IGNORECASE,
)
# A deadline for something else: brokering or ending a war, a hostage release, a withdrawal, an
# election, an ultimatum.
_OTHER_DEADLINE = re.compile(
    r"broker|end (?:the|this) war|end(?:ing)? the (?:war|conflict|fighting)|hostage|releas|"
    r"withdraw|election|ultimatum|"
    r"законч\w* войн|прекрат\w* войн|заложник|освобо|вывод|выбор|ультиматум",
    re.IGNORECASE,
)


def response_deadlines(sentence: str, guarantee: bool) -> list[str]:
    """The deadlines a sentence attaches to the guarantors' action: durations written as
    deadlines (``deadlines``) in a sentence about guarantees, or one that says what is to be done
    in that time (consult, respond, decide, assist), and not a deadline for something else
    ("broker a ceasefire within 24 hours", "release the hostages within 72 hours")."""
    if _OTHER_DEADLINE.search(sentence):
        return []
    if not (guarantee or _RESPONSE_ACTION.search(sentence)):
        return []
    return deadlines(sentence)


def territory_mentions(text: str) -> list[str]:
    """Territories named in a text that speaks of leaving something out, once each."""
    if not _EXCLUSION.search(text):
        return []
    return list(dict.fromkeys(m.group(0) for m in _TERRITORY_MENTION.finditer(text)))


def actor_mentions(text: str) -> list[str]:
    """States and organisations named in a text, as it writes them, first mention of each code
    (``normalize.named_actors``; a name does not run across a line break)."""
    return list(named_actors(text, across_lines=False).values())


def deadlines(text: str) -> list[str]:
    """Durations written as a deadline ("within 72 hours", "72 hours max"), not as an idiom
    ("would one day join"): each phrase once, in the order of its first appearance, if any of
    its appearances reads as a deadline. One look at each duration, so linear in the text."""
    first: dict[str, int] = {}
    deadline: set[str] = set()
    for start, end in duration_spans(text):
        phrase = text[start:end]
        first.setdefault(phrase, start)
        if phrase not in deadline and (
            _DEADLINE_BEFORE.search(text[max(0, start - 30) : start])
            or _DEADLINE_AFTER.search(text[end : end + 20])
        ):
            deadline.add(phrase)
    return [phrase for phrase in first if phrase in deadline]


@dataclass(frozen=True)
class Chunk:
    start: int
    text: str


def paragraphs(text: str) -> list[Chunk]:
    """Non-empty paragraphs of ``text`` (split on blank lines, else line breaks), with offsets."""
    separator = r"\n\s*\n" if re.search(r"\n\s*\n", text) else r"\n"
    out: list[Chunk] = []
    position = 0
    for match in re.finditer(separator, text + "\n\n"):
        piece = text[position : match.start()]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            out.append(Chunk(position + lead, piece.strip()))
        position = match.end()
    return out


@dataclass
class Found:
    """A value the model gave, located in the article."""

    value: str
    evidence: Evidence
    # the person who speaks for the state or organisation ``value`` names, where the value was
    # read from a person ("Zelensky says ..." -> Ukraine, person "Volodymyr Zelensky")
    person: str | None = None


def found_in(value: str, piece: Chunk) -> Found | None:
    """``value`` located in ``piece`` (offsets in the article), or None when it is not there."""
    span = locate(value, piece.text)
    if span is None:
        return None
    return Found(value, evidence_of(span, piece.text, value, piece.start))


@dataclass
class Findings:
    values: dict[str, list[Found]] = field(default_factory=dict)
    dropped: list[Dropped] = field(default_factory=list)

    def add(self, field_name: str, found: Found) -> None:
        self.values.setdefault(field_name, []).append(found)

    def of(self, field_name: str) -> list[Found]:
        return self.values.get(field_name, [])


# --------------------------------------------------------------------------------------------
# Rules: what code alone finds
# --------------------------------------------------------------------------------------------

# Sentence ends: ., ! or ? (a closing quote may follow), then space and a capital, digit or
# opening quote. Written here rather than taken from a library: NLTK's punkt needs a downloaded
# model, and pysbd (rule-based, no model) split the 17 annotated articles (100,882 characters)
# in 519 ms against 14 ms here, 37 times slower, with its spans carrying the spaces after each
# sentence; an end missed only makes a sentence longer, which a rule tolerates.
_SENTENCE_END = re.compile(
    r"(?<=[.!?\u2026])[\"'\u201d\u00bb]?\s+(?=[\"'\u201c\u00ab(]?[A-Z\u0410-\u042f\u04010-9])|"
    # a line break, or a full stop with no space before a capitalised word (web copy of Russian
    # articles often drops that space)
    r"\s*\n\s*|(?<=[a-z\u0430-\u044f\u0451)\u0410-\u042f][.!?])(?=[A-Z\u0410-\u042f\u0401][a-z\u0430-\u044f\u0451])"
)
_GUARANTEE_WORD = re.compile(
    rf"{_GUARANTEE_STEM}|assurance|заверени|запевн|zusicherung|zapewnieni|försäkran",
    re.IGNORECASE,
)
_PROPOSING = re.compile(
    r"propos|offer|suggest|put forward|call(?:s|ed|ing)? for|demand|insist|"
    r"\bwants?\b|\bseeks?\b|\bsought\b|\brequest|\basks?\b|\basked\b|"
    r"\bunveil|\bpresent(?:s|ed|ing)\b|\boutlin(?:e|es|ed|ing)\b|\bdrew up\b|\bdrafted\b|"
    r"given details of|\bpitch(?:ed|es|ing)?\b|"
    # asking another to give them: "urged the G7 to provide", "called on allies to"
    r"\burg(?:e|es|ed|ing)\b|\bcall(?:s|ed|ing)? on\b|\bappeal(?:s|ed|ing)? to\b|"
    r"\blook(?:s|ed|ing)? for\b|\b(?:push|press)(?:es|ed|ing)? for\b|"
    r"призва|призыва|заклика|\bwzyw|\bwezwa|uppmana|\bappel\w* à|"
    r"предлож|предлага|требова|требу|выдвину|настаива|добива|просит|просил|представил|"
    r"презентова|обнародова|пропону|запропону|вимага|"
    r"schlägt\w* vor|vorgeschlagen|vorschlag|forder|verlang|"
    r"\bpropos|\bdemand|\bréclam|\bexig|propon|zaproponow|żąda|domaga|föreslå|föreslog|kräv|"
    # the Spanish preterite and noun ("propuso", "propuesta"), the German past ("schlug ...
    # vor"), asking in Italian and Spanish ("chiede", "pide")
    r"\bpropus|\bpropuest|\bschlug\w*\s+(?:\S+\s+){0,8}?vor\b|\bchied|\bpid(?:e|en|ió|ieron)\b|"
    # offering: "ofrece", "offre", "offrono", "bietet ... an", "oferuje", "erbjuder"
    r"\bofrec|\boffr(?:e|ent|ono|iamo)\b|\bbiete[nt]?\b|\boferuj|\berbjud",
    re.IGNORECASE,
)
# Asking for guarantees rather than offering them.
_REQUESTING = re.compile(
    r"demand|insist|call(?:s|ed|ing)? for|\bwants?\b|\bwanted\b|\bseeks?\b|\bsought\b|"
    r"\brequest|\basks?\b|\basked\b|\blook(?:s|ed|ing)? for\b|"
    r"требова|требу|настаива|добива|хоч|просит|просил|"
    # in other languages: "fordert", "verlangt", "réclame", "exige", "domaga się", "żąda",
    # "kräver", "вимагає", "chiede", "pide"
    r"\bforder|\bverlang|\bréclam|\bexig|\bdomaga|\bżąda|\bkräv|вимага|просить|\bchied|"
    r"\bpid(?:e|en|ió|ieron)\b",
    re.IGNORECASE,
)
# "Ukraine proposed that the US guarantee its security": the proposer is the one protected.
_OWN_SECURITY = re.compile(
    r"\b(?:its|their)\s+(?:own\s+)?(?:security|sovereignty|defen[cs]e|safety)|"
    r"\bсво\w*\s+безопасност",
    re.IGNORECASE,
)
# Whose proposal it is: "Ukraine's proposal", "the US draft plan", "Kyiv's proposals", "a proposal
# by Turkey", "предложения Украины", "российские требования".
_PROPOSAL_NOUN = (
    r"(?:proposals?|plans?|peace plan|demands?|initiatives?|offers?|requests?|draft|"
    r"предложени\w*|план\w*|требовани\w*|инициатив\w*|"
    # in other languages, after an adjective of the state ("der deutsche Vorschlag", "polska
    # propozycja", "det svenska förslaget", "французька пропозиція")
    r"vorschl[aä]g\w*|propozycj\w*|förslag\w*|пропозиці\w*|propositions?|propuestas?|"
    r"propost[ae])"
)
_OWNS_AFTER = re.compile(
    # not "handed Ukraine a proposal", where the name is the one given it
    rf"^(?:['\u2019]s)?\s+(?:(?!(?:a|an|the)\s)[\w-]+\s+){{0,2}}?{_PROPOSAL_NOUN}\b|^-proposed\b",
    re.IGNORECASE,
)
_OWNS_BEFORE = re.compile(
    rf"{_PROPOSAL_NOUN}\s+(?:(?:put forward|made|handed|sent)\s+)?(?:by|from|of)\s+(?:the\s+)?$|"
    # the agent of a passive: "an agreement proposed by Riyadh", "a plan drawn up by Kyiv"
    r"\b(?:proposed|put forward|suggested|drafted|drawn up|initiated|championed|floated)\s+"
    r"by\s+(?:the\s+)?$|"
    r"(?:предложени\w*|план\w*|требовани\w*|инициатив\w*)\s+$|"
    # a Romance noun before the state's adjective: "la proposition française", "la propuesta
    # francesa", "la proposta italiana", "le plan américain"
    r"\b(?:propositions?|propuestas?|propost[ae]|plan|piano)\s+$",
    re.IGNORECASE,
)
_THEIR_BEFORE = re.compile(r"\b(?:its|their|his|her|е[её]|его|их)\s+$", re.IGNORECASE)
# Names a proposing verb's subject does not follow: "handed Russia a proposal", "talks with Russia".
_OBJECT_BEFORE = re.compile(
    r"\b(?:to|with|from|by|for|of|against|handed|gave|give|sent|told|tell|asked|urged|a|an|"
    r"к|с|от|для|против|für|mit|gegen|an|pour|avec|contre|dla|z|przeciw|för|till|med|mot)\s+"
    r"(?:the\s+|die\s+|der\s+|den\s+|dem\s+|la\s+|le\s+|les\s+)?$",
    re.IGNORECASE,
)
# A word that attaches a condition; "after" or "once" only before a deal or a ceasefire ("after a
# peace agreement is reached"), "only" only before what it is conditional on ("only if").
_AFTER_A_DEAL = (
    r"(?:\b(?:after|once|until|before)\b|после|після)\s+(?:\S+\s+){0,3}?"
    r"(?:deal|agreement|ceasefire|cease-fire|truce|settlement|peace|the war ends|"
    r"соглашени|перемири|прекращени|мир|угод)"
)
_CONDITION_MARK = re.compile(
    r"\bif\b|\bprovided\b|\bon condition\b|\bin exchange\b|\bin return\b|\bunless\b|"
    r"\bonly (?:if|when|after|once|with|on|under|in exchange|provided)\b|would have to|\bmust\b|"
    r"\brequire|\bunder the (?:proposal|plan|deal)\b|"
    rf"{_AFTER_A_DEAL}|"
    r"при условии|в обмен|если|только если|лишь при|должн|в случае",
    re.IGNORECASE,
)
# The terms commonly attached to a security guarantee, in English and Russian: neutrality or
# staying out of an alliance (and the alliance not enlarging), no foreign bases or troops, no
# nuclear weapons, a referendum or ratification, a ceasefire first, another party's consent or
# veto, limits on armed forces.
_TERMS = re.compile(
    r"neutral|non-?bloc|non-?aligned|non-?nuclear|\bjoin(?:s|ing)?\b|membership|accession|"
    r"\badmit|enlargement|expansion|become a (?:[\w-]+ )?member|military bases|"
    # approval by a legislature, and how long the guarantee lasts ("for 30 years")
    r"\bapprov\w* (?:\w+ ){0,3}(?:congress|parliament|senate|legislat)|"
    r"(?:congress|parliament|senate)\w* (?:\w+ ){0,2}(?:approv|vote|ratif)|\bvoted on\b|"
    r"\bfor (?:\w+ )?(?:\d+|ten|twenty|thirty|forty|fifty)[- ]years?\b|"
    r"\b(?:\d+|ten|twenty|thirty|fifty)-year\b|на (?:\d+|\w+) лет\b|"
    r"foreign (?:military|troops|forces)|"
    r"referendum|ratif|ceasefire|cease-fire|truce|\bveto|consent|demilitari|armed forces|"
    r"нейтрал|внеблок|безъядер|вступ\w*|член\w*|расширени|при[её]м\w* в|баз[аыу]\b|"
    r"контингент|референдум|ратифик|прекрат\w* огонь|перемири|соглас\w*|вооруж\w* сил",
    re.IGNORECASE,
)
# ... stated as a condition, or as what a party would be bound to do or not to do.
_BOUND = re.compile(
    r"\bif\b|\bonly\b|\bprovided\b|\bon condition\b|\bin exchange\b|\bin return\b|"
    r"\bunless\b|\bin the event\b|would have to|\bmust\b|\bshall\b|\bneed(?:s|ed)?\b|"
    r"\bwants?\b|\bwanted\b|"
    r"\bwould (?:\w+ )?(?:pledge|commit|agree|renounce|declare|accept|refrain|not)\b|"
    r"\bwill not\b|\bwon['\u2019]t\b|\bagree[sd]? to\b|\bpledg\w* (?:not )?to\b|"
    r"\bcommit\w* to\b|\brenounc\w*|\bdemand\w* that\b|\brequire[sd]?\b|"
    r"при условии|если|только|в случае|в обмен|долж\w*|обязу\w*|обязан\w*|"
    r"\bне будем|\bне будет|откаж\w*|отказ\w* от|будет готов\w*",
    re.IGNORECASE,
)
# What marks a sentence outside the paragraphs about guarantees as a proposal's own terms.
_PROPOSAL_CUE = re.compile(
    r"propos|\bplan\b|\bdraft|\bdemand|\boffer|\bdeal\b|agreement|treaty|document|"
    r"\bpoints?\b|\bagree|предлож|\bплан|проект|требова|договор|соглашени|пункт",
    re.IGNORECASE,
)


# A condition's own words: a clause opened by a subordinator ("if a peace deal is agreed",
# "provided Ukraine stays neutral", "after a peace agreement is reached", "при условии ...",
# "если ..."), or else the clause that states the term ("Ukraine would stay neutral").
_SUBORDINATOR = re.compile(
    r"\b(?:only if|if|unless|provided(?: that)?|on (?:the )?condition(?: that)?|"
    r"in (?:exchange|return) for|as long as|so long as|only (?:when|after|once|with))\b|"
    rf"{_AFTER_A_DEAL}|"
    r"при условии|если|в обмен на|в случае|до тех пор|лише якщо|якщо|за умови|"
    r"\b(?:wenn|falls|sofern|unter der bedingung|si|à condition|jeżeli|jeśli|"
    r"pod warunkiem|om|förutsatt)\b",
    re.IGNORECASE,
)
# Where a clause ends: a comma, semicolon, colon, dash or bracket, or a quotation mark.
_CLAUSE_BREAK = re.compile(r"[,;:()\[\]\u2014\u2013]|\s-\s")
# What the guarantee answers, not what it depends on: "if Russia attacks again", "в случае
# нападения", "if it were violated".
_TRIGGER = re.compile(
    r"attack|invad|invasion|aggress|violat|breach|threat|\bconflict|\bwar\b|"
    r"напа[дс]|агресс|посяга|угроз|вторж|наруш|агрес|загроз|конфликт|конфлікт|\bвойн|\bвійн",
    re.IGNORECASE,
)
_TERM_WORDS = 24


# A subordinate clause that only points back: "if so", "if it is the former", "if that fails".
_ANAPHORIC = re.compile(
    r"^(?:if|unless|если)\s+(?:not|so|it|this|that|they|он[оа]?|это)"
    r"(?:\s+(?:is|was|were|are|does|did|fails|happens))?(?:\s+(?:the\s+)?\w+)?$",
    re.IGNORECASE,
)


def _clause(sentence: str, start: int, end: int) -> str:
    """The words of ``sentence`` from ``start`` to the first clause break after ``end`` (the
    next clause too where that leaves fewer than three words), at most ``_TERM_WORDS`` words."""
    stop = _CLAUSE_BREAK.search(sentence, end)
    until = stop.start() if stop else len(sentence)
    if len(sentence[start:until].split()) < 3 and stop is not None:
        later = _CLAUSE_BREAK.search(sentence, stop.end())
        until = later.start() if later else len(sentence)
    words = sentence[start:until].split()
    if len(words) > _TERM_WORDS:
        last = words[_TERM_WORDS - 1]
        until = sentence.index(last, start + len(" ".join(words[: _TERM_WORDS - 1]))) + len(last)
    return sentence[start:until].strip().strip(".,;:!?\u2026 ")


def condition_term(sentence: str, mark: re.Match[str] | None = None) -> str | None:
    """The term a condition sentence states, in its own words: the clause a subordinator opens
    ("if peace deal agreed", "after a peace agreement is reached"), else the clause holding a
    term word (``_TERMS``: "Ukraine would stay neutral") or ``mark``; at most ``_TERM_WORDS``
    words. A clause that says what the guarantee answers ("if Russia attacks again") is no
    condition; None where the sentence states nothing else."""
    if sentence.rstrip("\"'\u201d\u00bb ").endswith("?"):
        return None  # a question states no term
    for opener in _SUBORDINATOR.finditer(sentence):
        term = _clause(sentence, opener.start(), opener.end())
        rest = term[opener.end() - opener.start() :]
        if len(rest.split()) <= 5 and _GUARANTEE_WORD.search(rest) and not _TERMS.search(rest):
            continue  # "in return for security guarantees": the guarantee, not its term
        if _ANAPHORIC.match(term):
            continue  # "if it is the former": what the sentence before said
        if term and (re.match(_AFTER_A_DEAL, term, re.IGNORECASE) or not _TRIGGER.search(term)):
            return term
    anchor = _TERMS.search(sentence)
    if anchor is None:
        return None
    breaks = [b.end() for b in _CLAUSE_BREAK.finditer(sentence, 0, anchor.start())]
    term = _clause(sentence, breaks[-1] if breaks else 0, anchor.end())
    return term or None


# A full stop after these ends an abbreviation ("St. Petersburg", "Mr. Zelensky", "U.S."),
# not a sentence.
_ABBREVIATION = re.compile(r"(?:\b(?:St|Mr|Mrs|Ms|Dr|Gen|Sen|Rep|Gov|Jr|No|vs)|\b[A-Z])\.$")


# A list item's marker ("- ", "• ", "1. ") is no part of its sentence.
_LIST_MARK = re.compile(r"^(?:[-\u2013\u2014\u2022*\u00b7]|\d{1,2}[.)])\s+")


def sentences(piece: Chunk) -> list[Chunk]:
    """The sentences of ``piece``, with offsets in the article."""
    out: list[Chunk] = []
    start = position = 0
    for match in [*_SENTENCE_END.finditer(piece.text), None]:
        # A closing quote after the full stop belongs to the sentence it closes.
        end = match.start() + len(match.group(0).rstrip()) if match else len(piece.text)
        if match is not None and _ABBREVIATION.search(piece.text, start, match.start()):
            continue
        sentence = _LIST_MARK.sub("", piece.text[start:end].strip())
        if sentence:
            out.append(Chunk(piece.start + piece.text.index(sentence, start), sentence))
        start = position = match.end() if match else len(piece.text)
    del position
    return out


# A guarantee word in the sense of security ("security guarantees", "guarantors", "a guarantee
# that Ukraine will not join NATO", "гарантии безопасности"), not "guaranteed life" or
# "guarantee the rights of the media".
_SECURITY_SENSE = re.compile(
    rf"{_SECURITY_STEM}|defen[cs]|protect|guarantor|\bsafe|\bnato\b|alliance|neutral|"
    # a guarantee that force will not be used: "a guarantee that hostilities will not resume"
    r"hostilit|\battack|aggress|invasion|\binvad|military|"
    r"защит|нато|альянс|нейтрал|гарант(?:ы|ом|ами|ов|а)?\b|захист|оборон|напад|агрес|"
    r"verteidig|schutz|\botan\b|défen|protég|obron|ochron|försvar|skydd|"
    r"garant(?:s|en|er|ów|ami)?\b|gwarant(?:em|ów|ami|a)?\b",
    re.IGNORECASE,
)
# Safety of an activity or of persons, not a state's security: "guarantee the safety of flights
# over Belarus", "safe passage", "security guarantees for judges", "the security of elections".
_OTHER_SAFETY = re.compile(
    r"(?:safety|security|safe)\s+(?:of\s+|for\s+)?(?:the\s+|its\s+|their\s+)?"
    r"(?:flights?|air travel|passage|navigation|shipping|passengers|journalists|judges|"
    r"prosecutors|officials|staff|personnel|elections?|voters|investments?|investors|deposits?|"
    r"supply|supplies|data|food)\b|"
    r"\bsafe passage|\bsafe conduct|"
    # a sector's security, not a state's: "energy security", "food security", "cybersecurity"
    r"\b(?:energy|food|water|cyber|job|economic|financial|social|health|information|public|"
    r"supply|nuclear safety and)[- ]?security|"
    r"(?:энергетическ|продовольственн|информационн|экономическ|финансов|кибер)\w*\s+"
    r"безопасност|энергобезопасност|енергетичн\w* безпек|продовольч\w* безпек|"
    # in other languages: "la sécurité alimentaire", "Energiesicherheit", "bezpieczeństwo
    # energetyczne", "energisäkerhet", "la seguridad energética", "la sicurezza alimentare"
    r"\b(?:sécurité|securite|seguridad|sicurezza)\s+(?:alimentaire|énergétique|energetique|"
    r"alimentaria|energética|energetica|alimentare|sociale?|social|informatique|sanitaire)|"
    r"\b(?:energie|versorgungs|ernährungs|lebensmittel)sicherheit|"
    r"\bbezpieczeństw\w*\s+(?:energetyczn|żywnościow|socjaln)|\b(?:energi|livsmedels)säkerhet|"
    r"безопасност\w*\s+(?:для\s+)?(?:пол[её]т|пролет|перел[её]т|полёт|судоходств|навигаци|"
    r"пассажир|журналист|суд[ьей]|прокурор|чиновник|сотрудник|выбор|голосовани|инвест|вклад|"
    r"поставок|данных|продовольств)",
    re.IGNORECASE,
)
# "did not mention ... security guarantees", "without guarantees", "не дали гарантий".
_NEGATED = re.compile(
    r"\b(?:not|no|never|without|neither|nor)\b[^.;:,]{0,60}guarant|"
    r"(?:\bне\b|\bбез\b|\bни\b)[^.;:,]{0,40}гарант",
    re.IGNORECASE,
)
# The state whose security is guaranteed: "security guarantees for Ukraine", "guarantor of
# Ukraine's security", "offer Ukraine a guarantee", "give Ukraine legally binding guarantees",
# "гарантии безопасности Украине".
_FOR_BEFORE = re.compile(
    rf"(?:guarante\w*|guarantor\w*|security|assurances?|protection|umbrella|deterrence|"
    rf"backstop|{_GUARANTEE_STEM}\w*|"
    rf"(?:{_SECURITY_STEM})\w*)['\"\u2019\u201d\u00bb]?\s+"
    r"(?:\w+\s+)?(?:for|to|of|für|pour|à|dla|för|till|per|para|voor)\s+"
    r"(?:the\s+|die\s+|den\s+|la\s+|le\s+|l['\u2019])?$|"
    # "a" right after the word, or an elided article: "garantías de seguridad a Ucrania",
    # "garanzie di sicurezza all'Ucraina", "garanties à l'Ukraine"
    rf"(?:{_GUARANTEE_STEM}|(?:{_SECURITY_STEM}))\w*\s+(?:a|al|alla|ao)\s+$|"
    rf"(?:{_GUARANTEE_STEM}|(?:{_SECURITY_STEM}))\w*\s+(?:\w+\s+)?(?:à\s+)?"
    r"(?:all|l|dell|alla)['\u2019]$|"
    # whose security, the word with its article and the state in the genitive: "la sécurité
    # de l'Ukraine", "la seguridad de Ucrania", "la sicurezza dell'Ucraina", "die Sicherheit
    # der Ukraine", "bezpieczeństwo Litwy" (not "garanties de sécurité de la France", the
    # guarantees France gives)
    r"\b(?:la|die|l['\u2019])\s*(?:sécurité|securite|seguridad|sicurezza|sicherheit)\s+"
    r"(?:(?:de|du|des|del|di|della|der)\s+(?:la\s+)?|(?:de|dell|della|d)['\u2019])$|"
    r"\bbezpieczeństwo\s+$|\b(?:die|der)\s+sicherheit\s+$|"
    # where forces would go: "troops sent to Ukraine", "deploying a force into Ukraine"
    r"(?:send|sent|deploy\w*|station\w*|dispatch\w*|troops|forces|soldiers|peacekeep\w*)\s+"
    r"(?:\S+\s+){0,3}?(?:to|into)\s+(?:the\s+)?$|"
    r"(?:гарант\w*|безопасност\w*)\s+(?:для\s+)?$|"
    # whose sovereignty or integrity: "the territorial integrity of Ukraine", "целостности Украины"
    r"(?:sovereignty|integrity|independence|суверенитет\w*|целостност\w*|независимост\w*|"
    r"цілісн\w*|незалежн\w*)\s+(?:(?:and|и|і)\s+\S+\s+(?:\S+\s+)?)?(?:of\s+)?(?:the\s+)?$",
    re.IGNORECASE,
)
_FOR_AFTER = re.compile(
    r"^['\u2019]s\s+(?:\w+[- ]term\s+|own\s+|future\s+)?(?:security|sovereignty|defen[cs]e)|"
    r"^\s+(?:a|an|the)\s+(?:\w+\s+)?(?:security\s+)?guarante|"
    # a German or Nordic genitive before the word: "Estlands säkerhet", "Deutschlands Sicherheit"
    r"^\s+(?:säkerhet|sikkerhed|sikkerhet|sicherheit)\b",
    re.IGNORECASE,
)
# The one given guarantees, its name the indirect object of a verb of giving, in the languages
# with cue words: "give Ukraine guarantees", "дать Украине гарантии", "dadzą Ukrainie
# gwarancje", "geben der Ukraine Garantien", "ge Ukraina garantier".
_GIVEN_TO = re.compile(
    r"(?:\bgiv(?:e|es|ing|en)|\bgave|\boffer\w*|\bprovid\w*|\bgrant\w*|\bextend\w*|\bpromis\w*|"
    r"\bensur\w*|\bassur\w*|предостав\w*|\bда(?:ть|ст|дут|ли)|обеспеч\w*|нада\w*|"
    r"\bda(?:ć|dzą|je|ją|li|ła|ły|ł)?\b|\bofrec\w*|\bzapewni\w*|\budziel\w*|\bzaoferowa\w*|\boferuj\w*|"
    r"\bgeben|\bgibt|\bgab\b|\bgaben|\bbiete\w*|\bgewähr\w*|\bdonn\w*|\boffr\w*|"
    r"\bge(?:r)?\b|\bgav\b|\berbjud\w*|\boffr\w*|\bforni\w*|\bdar\w*|"
    # guaranteeing it protection: "garantiert Litauen Schutz", "guarantee Ukraine protection"
    r"\bguarantee[sd]?|\bgarantier\w*|\bgaranter\w*)\s+"
    r"(?:the\s+|der\s+|à\s+l['\u2019]|à\s+la\s+|à\s+|all['\u2019]|alla\s+|al\s+|a\s+)?$",
    re.IGNORECASE,
)
# ... or in a relative clause after the guarantees: "the guarantees the US gives Ukraine",
# "säkerhetsgarantierna som Sverige ger Ukraina", "les garanties que la France donne à l'Ukraine".
_GUARANTEE_GIVEN_BEFORE = re.compile(
    rf"(?:{_GUARANTEE_STEM})\w*\s+(?:\S+\s+){{1,4}}?(?:{_GIVEN_TO.pattern})", re.IGNORECASE
)
# German puts the verb last: "die USA müssten Taiwan Sicherheitsgarantien geben", the one
# given them right before the guarantee (an adjective between, no article: in "Polen der
# Ukraine Garantien geben" Ukraine is given them).
_GIVEN_LAST_AFTER = re.compile(
    r"^\s+(?:(?!(?:der|die|den|dem|das|des)\s)[a-zäöüß]\w*\s+)?"
    rf"\w*(?:{_GUARANTEE_STEM}|schutz|beistand)\w*\s+(?:\S+\s+){{0,2}}?"
    r"(?:zu\s+)?(?:geben|gewähren|bieten|anbieten|zusagen|leisten|gegeben|gewährt|angeboten)\b",
    re.IGNORECASE,
)
# ... not a name a preposition governs: "nach Verhandlungen mit Russland Garantien geben".
_GERMAN_PREPOSITION_BEFORE = re.compile(
    r"\b(?:mit|von|vom|aus|bei|nach|gegen|für|über|unter|vor|zwischen|seit|durch|ohne|um)\s+"
    r"(?:(?:der|dem|den|die|das)\s+)?$",
    re.IGNORECASE,
)
_GUARANTEE_NEXT = re.compile(
    rf"^\s+(?:[\w-]+\s+){{0,5}}?(?:security\s+)?(?:[\w-]*?(?:{_GUARANTEE_STEM})|"
    r"protection|assistance|beistand|schutz|помощ|защит|допомог|захист|pomoc|ochron|bistånd|skydd)",
    re.I,
)
# The one who asks for guarantees is given them: "Russia wants guarantees", "Kyiv demanded",
# "Москва требует гарантий".
_ASKS_AFTER = re.compile(
    r"^\s+(?:[\w-]+\s+){0,3}?(?:wants?|wanted|demand(?:s|ed|ing)?|seeks?|sought|"
    r"request(?:s|ed)?|asks?|asked|insist(?:s|ed)?|call(?:s|ed)? for|"
    r"look(?:s|ed|ing)? for|hop(?:e|es|ed|ing) for|(?:push|press)(?:es|ed|ing)? for|"
    r"хоч\w*|хотел\w*|требу\w*|требовал\w*|добива\w*|просит|просил\w*|настаива\w*|"
    r"forder\w*|verlang\w*|réclam\w*|exig\w*|demand\w*|domaga\w*|żąda\w*|kräv\w*|"
    r"вимага\w*|просить|chied\w*|pid(?:e|en|ió|ieron)|"
    # needing them, not needing to give them: "Litwa potrzebuje gwarancji", "Ukraine needs
    # guarantees", not "the US needs to give"
    r"needs?(?!\s+to\b)|braucht|benötigt|potrzebuj\w*|behöver|necesita\w*|"
    r"потребу\w*|a besoin)\b|"
    r"^['\u2019]s\s+(?:\w+\s+)?(?:demands?|requests?|wish)|"
    r"^\s+(?:[\w-]+\s+){0,2}?(?:to\s+)?(?:receive[sd]?|receiving|gets?|getting|obtains?|"
    r"would get|will get|be given|be offered|получ\w*|отрима\w*|otrzyma\w*|erhält|erhalten|"
    r"reçoit|recevra\w*|får|fick)\s+(?:\S+\s+){0,3}?(?:security\s+)?"
    rf"(?:{_GUARANTEE_STEM}|assurances?|protection|sicherheitsgarant)",
    re.IGNORECASE,
)
# What a guarantee of non-enlargement is about: "guarantees that Ukraine will not join NATO",
# "membership for Kyiv", "the admission of Ukraine", "приема в свой состав Украины".
_JOINS_AFTER = re.compile(
    r"^(?:['\u2019]s)?\s+(?:[\w-]+\s+){0,3}?(?:join(?:s|ed|ing)?|accede|become a member|"
    r"membership|accession|bid\b|вступ\w*|войд\w*|стан\w* член\w*)",
    re.IGNORECASE,
)
_JOINS_BEFORE = re.compile(
    r"(?:membership|accession|admission|admit(?:ting)?|enlargement|expansion)\s+"
    r"(?:\S+\s+){0,2}?(?:for|of|to)\s+(?:the\s+)?$|"
    r"(?:guarante\w*|pledge\w*|assurances?)\s+(?:\S+\s+){0,2}?that\s+(?:the\s+)?$|"
    r"(?:при[её]м\w*|приня\w*|вступлени\w*|членств\w*|расширени\w*)\s+(?:\S+\s+){0,3}$",
    re.IGNORECASE,
)
# The one a guarantee says will protect: "a guarantee that America will protect it", "assurances
# that the US would come to its defence", "гарантии того, что США защитят".
_THAT_BEFORE = re.compile(
    r"(?:guarante\w*|pledge\w*|assurances?|promises?|commitments?|гарант\w*|обещани\w*|"
    r"заверени\w*|запевнен\w*)\s+(?:\S+\s+){0,2}?(?:that|что|що)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_PROTECTS_AFTER = re.compile(
    r"^(?:['\u2019]s)?\s+(?:[\w-]+\s+){0,3}?(?:protect|defend|come to|help|assist|aid\b|"
    r"intervene|respond|fight|deter|stand by|back\b|защи[тщ]|оборон|помо[гж]|прид[её]т|придут|"
    r"захист|допомож)",
    re.IGNORECASE,
)
# Whose peace and security an attack on another is treated as a threat to: "attacks on Qatar would
# be treated as a threat to the peace and security of the United States".
_TREATED_AS_BEFORE = re.compile(
    r"(?:\battacks?\s+(?:on|against)\s+.{1,60}?"
    r"\b(?:treat\w*|regard\w*|consider\w*|deem\w*|seen|view\w*)|"
    # "treat an attack on Japan as an attack on the United States"
    r"\b(?:treat\w*|regard\w*|consider\w*|deem\w*)\s+(?:an?\s+|any\s+)?attacks?\s+"
    r"(?:on|against)\s+.{1,60}?)"
    r"\s+as\s+(?:an?\s+)?(?:\S+\s+){0,8}?(?:on|to|against|of)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
# The one attacked is the one protected: "an attack on Poland", "aggression against Ukraine",
# "нападение на Молдову".
_ATTACKED_BEFORE = re.compile(
    r"(?:attacks?|aggression|assault|invasion|нападени\w*|агресси\w*|напад\w*|агресі\w*)\s+"
    r"(?:on|against|upon|на|против|проти)\s+(?:the\s+)?$|"
    # in other languages: "Angriff auf Polen", "une attaque contre la Moldavie", "atak na
    # Litwę", "ett angrepp mot Finland", "un attacco contro l'Italia", "un ataque contra España"
    r"(?:angriff\w*|überfall\w*|attaques?|agressions?|atak\w*|agresj\w*|napaś\w*|angrepp\w*|"
    r"attacc\w*|aggression\w*|ataques?|agresi[oó]n)\s+(?:auf|gegen|contre|na|przeciw(?:ko)?|"
    r"mot|på|contro|contra)\s+(?:(?:den|die|das|la|le|il|el|lo)\s+|l['\u2019])?$|"
    # and the one defended: "commits Washington to defend the Philippines", "the defence of
    # Estonia", "bronić Polski", "защищать Молдову", "verteidigen"
    r"\b(?:defend|protect|defen[cs]e of|protection of|(?:come|coming|came) to the aid of|"
    r"security of|bronić|obrony|obronie|ochrony|защищать|защитить|защиты|оборон[уыеа]|"
    r"захищати|захистити|захисту|défendre|défense de|protéger|försvara|försvaret av|"
    r"schützen|verteidigung)\s+(?:the\s+|la\s+|le\s+|l['\u2019])?$",
    re.IGNORECASE,
)
# The German dative article before the one given guarantees: "der Ukraine Sicherheitsgarantien".
_DATIVE_BEFORE = re.compile(r"\b(?:der|dem)\s+$")
# ... unless a preposition governs it: "verlangt von der NATO Sicherheitsgarantien" (from NATO).
_PREPOSITION_DATIVE_BEFORE = re.compile(
    r"\b(?:von|vom|mit|aus|bei|nach|seit|zu|gegenüber)\s+(?:der|dem)\s+$", re.IGNORECASE
)
# Proposing that another do it: "proposed that the US give", "zaproponowały, aby Stany
# Zjednoczone", "предложила, чтобы США", "a proposé que la France", "vorgeschlagen, dass".
_PROPOSES_THAT_AFTER = re.compile(
    r"^(?:['\u2019]s)?\s+(?:[\w-]+\s+){0,4}?(?:propos\w*|suggest\w*|urg\w*|demand\w*|"
    r"want\w*|ask\w*|insist\w*|zaproponowa\w*|proponu\w*|предлож\w*|предлага\w*|"
    r"потребова\w*|требу\w*|хоч\w*|хотел\w*|пропонува\w*|запропонува\w*|proposé|proposto|"
    r"propuso|vorgeschlagen|schlug\w*|föreslog|föreslår),?\s+"
    r"(?:that|aby|żeby|że|что|чтобы|що|щоб|que|che|dass|att)\s+"
    r"(?:(?:the|la|le|les|gli|il|lo|el|los|las|die|der|den|das)\s+|l['\u2019])?",
    re.IGNORECASE,
)


def mentions_first(text: str) -> bool:
    """Whether ``text`` starts with the name of a state or organisation."""
    spans = actor_spans(text[:60])
    return bool(spans) and spans[0][0] == 0


# Named as the model of a guarantee, not as a guarantor: "similar to NATO's Article 5",
# "NATO-style", "аналогичны статье 5 Устава НАТО".
_MODEL_BEFORE = re.compile(
    r"(?:similar to|like|akin to|analogous to|modell?ed on|inspired by|resembling|mirroring|"
    r"along the lines of|on the model of|"
    r"аналогичн\w*|подобн\w*|по образцу|по аналогии с)\s+(?:\S+\s+){0,3}$|"
    # in other languages: "nach dem Vorbild von Artikel 5 der NATO", "sur le modèle de
    # l'article 5 de l'OTAN", "na wzór artykułu 5 NATO", "simili all'articolo 5 della NATO",
    # "similares al artículo 5 de la OTAN"
    r"(?:nach dem vorbild|ähnlich|sur le modèle|similaires?|na wzór|wzorowan\w*|simili|"
    r"sul modello|similares?|al estilo)\s+(?:\S+\s+){0,5}(?:\S*['\u2019])?$|"
    # whose charter: "Article 51 of the UN Charter", "статьей 51 Устава ООН"
    r"(?:\bcharter|устав\w*|статут\w*)\s+(?:of\s+)?(?:the\s+)?$",
    re.IGNORECASE,
)
_MODEL_AFTER = re.compile(r"^-?(?:style|like|type)\b", re.IGNORECASE)
# The attacker the guarantees are against: "a Russian attack", "if Russia invades again",
# "deter Russia", "against Moscow", "агрессии России".
_ATTACKER_AFTER = re.compile(
    r"^(?:['\u2019]s)?\s+(?:(?:were|was|is|are|will|would|could|might|should|again|ever|to|"
    r"not|then|later|once|never|dare|dares|снова|вновь|опять|посмеет|не)\s+){0,3}"
    r"(?:attack|re-?invad|invad|invasion|aggress|"
    r"breach|violat|напа[дс]|агресс|вторг|вторж|"
    # a state's adjective before an attack in other languages: "einen russischen Angriff",
    # "rosyjskiej agresji", "ett ryskt angrepp", "російської агресії"
    r"angriff|überfall|aggression|invasion|agresj|atak|napaś|inwazj|angrepp|anfall|агрес)|"
    r"^,?\s+the aggressor\b|^,?\s+(?:страна-)?агрессор",
    re.IGNORECASE,
)
_ATTACKER_BEFORE = re.compile(
    r"(?:against|deter(?:s|red|ring)?|from attack by|aggression by|attack by|"
    r"(?:prevent|stop|keep|put)(?:s|ed|ing|ping|ting)?|"
    r"против|агресси\w*|нападени\w*|вторжени\w*|со стороны)\s+(?:the\s+)?$|"
    # in other languages: "gegen Russland", "contre la Russie", "przeciwko Rosji", "mot
    # Ryssland", "contro la Russia", "contra Rusia", "проти Росії"; and an attack before the
    # attacker's adjective: "l'agression russe", "una agresión rusa", "un'aggressione russa"
    r"\b(?:gegen|contre|przeciw(?:ko)?|mot|contro|contra|проти)\s+"
    r"(?:(?:den|die|das|la|le|il|el|lo)\s+|l['\u2019])?$|"
    r"\b(?:attaques?|agressions?|invasions?|attacchi|attacco|aggressioni|aggressione|invasione|"
    r"ataques?|agresi[oó]n|invasi[oó]n|agresj\w*|atak\w*|inwazj\w*)\s+$",
    re.IGNORECASE,
)
# The other side of talks, a deal or a war: "negotiate with Russia", "a war with Russia", "a peace
# deal is made with Russia", "разговору с Москвой".
_COUNTERPART_BEFORE = re.compile(
    r"(?:negotiat\w*|talk\w*|deal|war|peace|agreement|treaty|conflict|dialogue|meeting|"
    r"ceasefire|cease-fire|truce|перемири\w*|"
    r"переговор\w*|разговор\w*|диалог\w*|войн\w*|мир\w*|соглашени\w*|договор\w*|встреч\w*)"
    r"\s+(?:\S+\s+){0,3}?(?:with|between|с|между)\s+(?:the\s+)?$|"
    # in other languages: "Verhandlungen mit Russland", "des négociations avec la Russie",
    # "rozmowy z Rosją", "förhandlingar med Ryssland", "i negoziati con la Russia",
    # "negociaciones con Rusia", "переговорів з Росією"
    r"(?:verhandlung\w*|gespräch\w*|n[eé]gociation\w*|pourparlers|rozmow\w*|negocjacj\w*|"
    r"förhandling\w*|samtal\w*|negoziat\w*|negociaci\w*|переговор\w*|krieg\w*|guerre|"
    r"wojn\w*|krig\w*|guerra|війн\w*|abkommen|porozumieni\w*|accordo|acuerdo|угод\w*)\s+"
    r"(?:\S+\s+){0,3}?(?:mit|avec|z|ze|med|con|з|із)\s+"
    r"(?:(?:der|dem|den|la|le|il|el|lo)\s+|l['\u2019])?$|"
    # every party named after "between": "an agreement between Russia, Ukraine and Europe"
    r"\b(?:between|между)\s+(?:[\w'\u2019-]+,?\s+){1,6}(?:and\s+|и\s+)?$",
    re.IGNORECASE,
)
# A state's adjective before a plain noun describes it ("Russian pundits", "Russian opposition");
# before a word for the state's apparatus ("Russian forces") the scanner reads both as the state.
_DESCRIBES_AFTER = re.compile(r"\s+[a-z]")
# The party whose consent a guarantee needs, not a guarantor: "what Russia will accept as
# guarantees", "unless Moscow agrees", "Russia opposes them".
_CONSENTS_AFTER = re.compile(
    r"^(?:['\u2019]s)?\s+(?:(?:will|would|might|could|may|can|must|does|did|not|never|had|has|"
    r"have|likely|probably|also|still|to)\s+){0,3}"
    r"(?:accept|agree|consent|oppos|object|reject|veto|согла[сш]|прим[еу]т|отверг|возража)",
    re.IGNORECASE,
)
# Who speaks for a state: "a source at the Elysee", "officials in Washington".
_SOURCE_AT_BEFORE = re.compile(
    r"\b(?:sources?|officials?|spokes\w*|aides?|diplomats?)\s+(?:at|in|from)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
# Not by whom: "would not be carried out by NATO".
_NOT_BY_BEFORE = re.compile(r"\bnot\b[^.;:]{0,40}\bby\s+(?:the\s+)?$", re.IGNORECASE)
# Where something happens, not who guarantees it: "jets stationed in Poland", "talks in Turkey".
_PLACE_BEFORE = re.compile(
    r"\b(?:in|into|inside|outside|across|on|at|в|во|на)\s+(?:the\s+)?$", re.IGNORECASE
)
# "the Budapest Memorandum", "the Minsk agreements", "the Istanbul talks": a place in a name.
_NAMED_AFTER = re.compile(
    r"^\s+(?:memorandum|accords?|agreements?|protocol|communiqu|format|process|talks|"
    r"press conference|summit|meeting|declaration|conference|forum|charter|"
    r"sea\b|strait|gulf\b|ocean|peninsula|море\b|пролив|залив|"
    r"меморандум|соглашени|протокол|формат|переговор|саммит|встреч|деклараци|устав)",
    re.IGNORECASE,
)


def _mentions(sentence: str) -> Iterator[tuple[str, int, int]]:
    """States and organisations named in a sentence: (name as written, start, end)."""
    for name in actor_mentions(sentence):
        at = sentence.find(name)
        while at >= 0:
            yield name, at, at + len(name)
            at = sentence.find(name, at + len(name))


Role = str  # "beneficiary", "other" (named, but not as a guarantor) or "guarantor"


def role(sentence: str, start: int, end: int) -> Role:
    """What a state or organisation named at ``sentence[start:end]`` is in a sentence about
    security guarantees: the ``beneficiary`` (guaranteed, or asking for guarantees, or what a
    pledge not to enlarge is about), ``other`` (the attacker, the other side of talks, the model
    a guarantee is likened to, part of a name) or a ``guarantor`` candidate."""
    before, after = sentence[max(0, start - 60) : start], sentence[end : end + 60]
    if _NAMED_AFTER.search(after) or _MODEL_BEFORE.search(before) or _MODEL_AFTER.search(after):
        return "other"
    if (_THAT_BEFORE.search(before) and _PROTECTS_AFTER.search(after)) or _TREATED_AS_BEFORE.search(
        sentence[max(0, start - 180) : start]
    ):
        return "guarantor"
    if _ATTACKED_BEFORE.search(before) or (
        _DATIVE_BEFORE.search(before)
        and not _PREPOSITION_DATIVE_BEFORE.search(before)
        and _GUARANTEE_NEXT.search(after)
    ):
        return "beneficiary"
    proposes_that = _PROPOSES_THAT_AFTER.search(after)
    if proposes_that is not None and mentions_first(after[proposes_that.end() :]):
        # "Poland and Lithuania proposed that the US give guarantees": those who propose that
        # another guarantee are not the guarantors.
        return "other"
    if (
        _FOR_BEFORE.search(before)
        or _FOR_AFTER.search(after)
        or (_GIVEN_TO.search(before) and _GUARANTEE_NEXT.search(after))
        or _GUARANTEE_GIVEN_BEFORE.search(before)
        or (_GIVEN_LAST_AFTER.search(after) and not _GERMAN_PREPOSITION_BEFORE.search(before))
        or _ASKS_AFTER.search(after)
        or _JOINS_AFTER.search(after)
        or _JOINS_BEFORE.search(before)
    ):
        return "beneficiary"
    if _SOURCE_AT_BEFORE.search(before):
        return "guarantor"
    if (
        (is_demonym(sentence[start:end]) and _DESCRIBES_AFTER.match(after))
        or _FORMER_BEFORE.search(before)
        or _CONSENTS_AFTER.search(after)
        or _ATTACKER_AFTER.search(after)
        or _ATTACKER_BEFORE.search(before)
        or _COUNTERPART_BEFORE.search(before)
        or _PLACE_BEFORE.search(before)
        or _NOT_BY_BEFORE.search(before)
    ):
        return "other"
    return "guarantor"


def _roles(sentence: str) -> dict[str, set[Role]]:
    """Each name a sentence gives, with the roles of all its mentions there."""
    roles: dict[str, set[Role]] = {}
    for name, start, end in _mentions(sentence):
        roles.setdefault(name, set()).add(role(sentence, start, end))
    return roles


def beneficiary_mentions(sentence: str) -> list[str]:
    """States named in a guarantee sentence as the one whose security is guaranteed (or that
    asks for guarantees)."""
    return [name for name, roles in _roles(sentence).items() if "beneficiary" in roles]


def guarantee_mentions(sentence: str) -> list[str]:
    """States and organisations a sentence in a guarantee context names as possible
    guarantors: every one named at least once in no other role (``role``)."""
    return [name for name, roles in _roles(sentence).items() if "guarantor" in roles]


def proposal_owners(sentence: str, demands: bool = True) -> list[str]:
    """States and organisations a sentence names as the owner of a proposal, plan or (with
    ``demands``) demands ("Ukraine's proposal", "the US draft plan", "предложения Киева",
    "Russia's demands")."""
    owned = [
        (name, sentence[end : end + 40])
        for name, start, end in _mentions(sentence)
        if _OWNS_AFTER.search(sentence[end : end + 40])
        or _OWNS_BEFORE.search(sentence[max(0, start - 40) : start])
    ]
    return list(
        dict.fromkeys(name for name, after in owned if demands or not _DEMANDS_AFTER.search(after))
    )


# Demands or requests rather than a plan: "Russia's maximalist demands", "Moscow's requests".
_DEMANDS_AFTER = re.compile(
    r"^(?:['\u2019]s)?\s+(?:[\w-]+\s+){0,2}?(?:demands?|requests?|требовани\w*)\b", re.IGNORECASE
)


# The one who presents a plan: "Ukraine's Volodymyr Zelensky has given details of an updated
# peace plan", "Kyiv unveiled its proposals", "Киев представил свои предложения".
_PRESENTS_AFTER = re.compile(
    r"^(?:['\u2019]s)?\s+(?:\S+\s+){0,2}?(?:has\s+|have\s+|had\s+)?"
    r"(?:given details of|unveiled|presented|put forward|outlined|drew up|drafted|proposed|"
    r"submitted|представил\w*|презентовал\w*|выдвинул\w*|обнародовал\w*|оприлюднив\w*)\s+"
    rf"(?:\S+\s+){{0,4}}?{_PROPOSAL_NOUN}",
    re.IGNORECASE,
)


def presenters(sentence: str, people: dict[str, Person]) -> list[tuple[str, int]]:
    """Those a sentence names as presenting a plan or proposal (name, offset): states,
    organisations and known persons."""
    return [
        (name, start)
        for name, start in _named_here(sentence, people)
        if _PRESENTS_AFTER.search(sentence[start + len(name) : start + len(name) + 120])
    ]


# Persons who speak for a state or organisation, as an article introduces them: a state's name
# or adjective, titles, then the person ("Ukraine's President Volodymyr Zelensky", "French
# President Emmanuel Macron", "US envoy Steve Witkoff"), a title and the person after it
# ("President Emmanuel Macron of France"), or a title, the state in the genitive and the person
# ("президент Украины Владимир Зеленский", "вице-спикер парламента Республики Молдова,
# председатель фракции Влад Батрынча"). A former holder speaks for no one ("former NATO
# Secretary General Anders Fogh Rasmussen").
_TITLE_WORDS = (
    r"president|prime|minister|foreign|defen[cs]e|secretary|of|state|envoy|special|ambassador|"
    r"leader|spokes(?:man|woman|person)|chancellor|deputy|vice|national|security|adviser|"
    r"advisor|head|chief|general|commander|negotiator|top|diplomat|premier|king|queen|emir|"
    r"speaker|first|lady|senator|official|representative|the|"
    # in German, French, Polish, Swedish, Italian and Spanish ("der französische Präsident",
    # "Bundeskanzler", "statsminister", "la premier italiana", "el presidente español")
    r"präsident\w*|bundeskanzler\w*|kanzler\w*|\w*minister\w*|président\w*|ministre|"
    r"prezydent\w*|premier\w*|presidente|presidenta|ministr[oa]|primer"
)
# A name's words: a capital then small letters, Latin (with its accents: "Sánchez", "Łukasz")
# or Cyrillic.
_NAME = (
    r"[A-Z\u00c0-\u00d6\u00d8-\u00de\u0100-\u017e][a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u017f]"
    r"[\w'\u2019-]*|[\u0410-\u042f\u0401][\u0430-\u044f\u0451-]+"
)
_PERSON_AFTER = re.compile(
    rf"^(?:['\u2019]s)?\s+(?:(?i:{_TITLE_WORDS})\s+){{0,5}}"
    rf"(?P<name>(?:{_NAME})(?:\s+(?:{_NAME})){{0,2}})",
)
_PERSON_OF = re.compile(
    rf"(?i:{_TITLE_WORDS})\s+(?P<name>(?:{_NAME})(?:\s+(?:{_NAME})){{1,2}})\s+of\s+(?:the\s+)?$",
)
_RU_TITLE_BEFORE = re.compile(
    r"(?:президент|премьер|министр|глава|канцлер|лидер|спикер|председател|посол|"
    r"представител|советник|пресс-секретар|генсек|секретар|руководител|депутат|прем\W?єр|"
    r"міністр|голов|речник|посл)\w*\s+(?:[\w-]+\s+){0,4}$",
    re.IGNORECASE,
)
_RU_PERSON_AFTER = re.compile(
    r"^[\s,]*(?:[\w-]+\s+){0,4}?"
    r"(?P<name>[\u0410-\u042f\u0401][\u0430-\u044f\u0451-]+"
    r"(?:\s+[\u0410-\u042f\u0401][\u0430-\u044f\u0451-]+){1,2})"
)
_FORMER_BEFORE = re.compile(
    r"\b(?:former|ex-|retired|retd|бывш\w*|колишн\w*|ehemalig\w*|ancien\w*|był\w*|"
    r"före detta)\W+(?:\S+\s+){0,4}$",
    re.IGNORECASE,
)
# Words that close no person's name: an institution after a state ("Russia's Foreign Ministry").
_NOT_A_NAME = re.compile(
    r"\b(?:article|ministry|council|office|forces|army|government|parliament|embassy|agency|service|"
    r"committee|kremlin|administration|navy|defence|defense|security|foreign|state|president|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|"
    r"june|july|august|september|october|november|december|министерств|мид|совет|правительств|"
    r"парламент|армия|войск)\b|"
    # a noun of the guarantee or protection itself, capitalised in German: "der Ukraine
    # Sicherheitsgarantien", "Litauen Schutz"
    r"\w*(?:garanti|sicherheit|säkerhet|schutz|beistand)\w*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Person:
    """A person an article names as speaking for a state or organisation: the person's name as
    introduced, and the state's name and where the introduction writes it."""

    name: str
    state: str
    start: int


def _surname_pattern(name: str) -> re.Pattern[str]:
    """A later mention of the person: the surname, in any case ending where it declines."""
    surname = name.split()[-1]
    if surname.isascii():
        return re.compile(rf"\b{re.escape(surname)}\b(?:['\u2019]s)?")
    stem = surname[: max(4, len(surname) - 2)]
    return re.compile(rf"(?<!\w){re.escape(stem)}\w{{0,4}}(?!\w)")


def persons(sentence_chunks: list[Chunk]) -> dict[str, Person]:
    """The persons an article introduces with the state they speak for, by surname (the first
    introduction wins); former office holders are left out."""
    found: dict[str, Person] = {}
    for sentence in sentence_chunks:
        text = sentence.text
        # Every naming of a state, however written: "украинской делегации, советник Офиса
        # президента Украины Михаил Подоляк" introduces him by the second.
        for start, end, _ in actor_spans(text):
            name = text[start:end]
            before = text[max(0, start - 60) : start]
            after = text[end : end + 80]
            match = _PERSON_AFTER.match(after) or _PERSON_OF.search(before)
            if match is None and _RU_TITLE_BEFORE.search(before):
                match = _RU_PERSON_AFTER.match(after)
            if match is None:
                continue
            person = re.sub(r"['\u2019]s$", "", match.group("name"))
            if _NOT_A_NAME.search(person) or actor_mentions(person):
                continue
            if _FORMER_BEFORE.search(before) or _FORMER_BEFORE.search(after[: match.start("name")]):
                continue
            if person.isascii() and len(person.split()) == 1 and not _PERSON_AFTER.match(after):
                continue
            found.setdefault(person.split()[-1], Person(person, name, sentence.start + start))
    return found


# A person or state who says what the guarantees must be: "Zelensky says those security
# guarantees would have to be in place", "'We must have agreements...', said Batrynca".
_SPEECH = re.compile(
    r"\b(?:say|says|said|saying|told|tells|added|stressed|insisted|argued|wrote|explained|"
    r"заяв\w*|сказал\w*|подчеркну\w*|отмети\w*|считает|сообщил\w*|пояснил\w*|"
    r"sagte|erklärte|a déclaré|déclare|powiedział\w*|sade|"
    # in Ukrainian, French, Italian, Spanish and Swedish: "сказав", "a dit", "ha detto",
    # "ha dichiarato", "dijo", "afirmó", "declaró", "sa"
    r"сказав\w*|a dit|ha detto|ha dichiarato|ha affermato|dijo|afirmó|declaró|sa)\b",
    re.IGNORECASE,
)
_REQUIREMENT = re.compile(
    r"\bmust\b|\bneeds?\b|would have to|will have to|\bshould\b|\bwants?\b|\binsist|"
    r"должн|нужн|необходим|треб|повинн|потрібн|мають|мусить|мусять|\bслід\b|muss|müssen|"
    r"doit|doivent|musi|måste|"
    # Italian and Spanish: "deve", "devono", "debe", "deben"
    r"\bdev(?:e|ono)\b|\bdeb(?:e|en|ería|erían)\b|"
    # German subjunctives and needing in other languages: "müssten", "sollte", "braucht",
    # "a besoin", "potrzebuje", "behöver", "necesita", "ha bisogno", "потребує"
    r"\bmüsst\w*|\bsollt\w*|\bbraucht\b|\bbesoin\b|\bpotrzebuj\w*|\bbehöver\b|"
    r"\bnecesit\w*|\bbisogn\w*|потребу\w*",
    re.IGNORECASE,
)
# "Our" security, territory or sovereignty: "защиты нашей территории", "our security".
_OUR_SECURITY = re.compile(
    r"\b(?:our|наш\w*|unser\w*|notre|nos|nasz\w*|vår\w*|наш)\s+(?:\w+\s+)?"
    r"(?:security|territor\w*|sovereignty|безопасност\w*|территори\w*|суверенитет\w*|"
    r"безпек\w*|територі\w*|sicherheit|territorium|sécurité|territoire|souveraineté|"
    r"bezpiecze\w*|terytori\w*|säkerhet|territorium)",
    re.IGNORECASE,
)
_WE = re.compile(r"\b(?:we|our|us|мы|нам|наш\w*|ми|нас|wir|nous|my|vi)\b", re.IGNORECASE)


_QUOTE_OPEN = re.compile(r"\s*[\"\u201c\u00ab\u201e]")
_QUOTE_CLOSE = re.compile(r"[\"\u201d\u00bb\u201c\u00ab]|\s[\u2014\u2013-]\s|,\s*[\u2014\u2013]")


def _speaker(sentence: str, people: dict[str, Person]) -> tuple[str, int] | None:
    """Who a sentence quotes: the person or state next to its verb of speech (name, offset)."""
    speech = _SPEECH.search(sentence)
    if speech is None:
        return None
    named = _named_here(sentence, people)
    # Its subject before it ("Zelensky said the US must ..."), else one after it ("..., said
    # Zelensky"), nearest first.
    before = [
        (n, at)
        for n, at in named
        if 0 <= speech.start() - (at + len(n)) <= 40
        # not a name inside the quotation the verb closes ("... в Совете Безопасности», —
        # подчеркнул Влад Батрынча")
        and not _QUOTE_CLOSE.search(sentence[at + len(n) : speech.start()])
    ]
    after = [(n, at) for n, at in named if 0 <= at - speech.end() <= 40]
    if before:
        return max(before, key=lambda m: m[1])
    return min(after, key=lambda m: m[1]) if after else None


def _named_here(sentence: str, people: dict[str, Person]) -> list[tuple[str, int]]:
    """States, organisations and known persons named in a sentence: (name, offset)."""
    named = [(name, start) for name, start, _ in _mentions(sentence)]
    for surname in people:
        named += [(surname, m.start()) for m in _surname_pattern(surname).finditer(sentence)]
    return named


_DETERMINER_BEFORE = re.compile(r"\b(?:a|an|another|the|this|that|its|his|her|their)\s+$", re.I)


def _proposer_mention(sentence: str, people: dict[str, Person]) -> tuple[str, int] | None:
    """The subject of the first proposing or demanding verb of a sentence: the state,
    organisation or person named last before it, passing over those named as its object or
    recipient ("Ukrainian negotiators handed Russia a proposal") and those a former office
    holder's title names ("former NATO Secretary General"). (name, offset)."""
    verb = _PROPOSING.search(sentence)
    if verb is None:
        return None
    if re.match(r"\w*\s+by\b", sentence[verb.start() :]):
        # A passive ("an agreement proposed by Riyadh"): the one after "by", read as an owner.
        return None
    named_before = [m for m in _named_here(sentence[: verb.start()], people)]
    if _THEIR_BEFORE.search(sentence[max(0, verb.start() - 12) : verb.start()]):
        # "in light of its demands": whose they are is the name said last before them
        return max(named_before, key=lambda m: m[1]) if named_before else None
    named = [
        (name, start)
        for name, start in named_before
        if not _OBJECT_BEFORE.search(sentence[max(0, start - 30) : start])
        and not _FORMER_BEFORE.search(sentence[max(0, start - 50) : start])
        # "another US demand": the owner of something else the sentence names
        and not (
            _DETERMINER_BEFORE.search(sentence[max(0, start - 12) : start])
            and verb.start() - (start + len(name)) <= 3
        )
    ]
    return max(named, key=lambda mention: mention[1]) if named else None


_OCCUPIED = re.compile(r"occupied|оккупир", re.IGNORECASE)
_OF_A_PLACE = re.compile(r"\s+(?:of|in)\s+(?:the\s+)?", re.IGNORECASE)

# A treaty on security guarantees: "a treaty on security guarantees", "the guarantee treaty",
# "Договор о гарантиях безопасности", "umowa o gwarancjach bezpieczeństwa".
_GUARANTEE_TREATY = re.compile(
    r"(?:treaty|agreement|pact|accord|memorandum|договор\w*|соглашени\w*|меморандум\w*|"
    r"договір\w*|угод\w*|vertrag\w*|traité|traktat\w*|umow\w*|avtal\w*)\s+"
    r"(?:\S+\s+){0,2}?(?:on|of|о|об|про|über|sur|sobre|o|om)\s+(?:\S+\s+){0,2}?"
    rf"(?:{_GUARANTEE_STEM})|"
    rf"(?:{_GUARANTEE_STEM})\w*\s+(?:treaty|pact|agreement)",
    re.IGNORECASE,
)
# Its signatories: "the signatories of the treaty", "страны-подписанты договора", "parties to
# the agreement".
_SIGNATORY = re.compile(
    r"signator|подписант|підписант|sygnatariusz|signatar|signataire|undertecknar|"
    r"\bparties to the (?:treaty|agreement|pact)|участник\w* договора|сторон\w* договора",
    re.IGNORECASE,
)


def names_guarantee_treaty(text: str) -> bool:
    """Whether an article names a treaty on security guarantees, whose signatories are then
    its guarantors wherever it names them ("the signatories of the multilateral treaty")."""
    return bool(_GUARANTEE_TREATY.search(text))


def is_guarantee_sentence(sentence: str, treaty: bool = False) -> bool:
    """Whether a sentence speaks of security guarantees, or of a commitment to defend that is
    one in all but the word, as something given or proposed; in an article that names a
    treaty on security guarantees (``treaty``), of that treaty's signatories too. Troops sent
    or deployed are a commitment only as something to be done ("would send troops", "ready
    to deploy"), not as a report of what was done ("deployed troops to Syria in 2019"); and
    protecting data, users or rights is no commitment to defend a state."""
    if treaty and _SIGNATORY.search(sentence) and not _NEGATED.search(sentence):
        return True
    if _NEGATED.search(sentence) or _OTHER_SAFETY.search(sentence):
        return False
    if _GUARANTEE_WORD.search(sentence) and _SECURITY_SENSE.search(sentence):
        return True
    commitment = _COMMITMENT.search(sentence)
    if commitment is None or _PROTECTS_OTHER.search(sentence):
        return False
    return not _DEPLOYMENT.fullmatch(commitment.group(0)) or bool(_TO_BE_DONE.search(sentence))


# Protecting what is not a state: "pledged to protect users' data", "defend workers' rights".
_PROTECTS_OTHER = re.compile(
    r"\b(?:protect|defend|safeguard)\w*\s+(?:\S+\s+){0,2}?(?:users?|data|privacy|rights|"
    r"consumers?|customers?|workers?|children|jobs|environment|interests|investments?|"
    r"information|networks?|systems?|pensions?|savings|deposits?)\b",
    re.IGNORECASE,
)
# The commitment of troops sent, deployed or stationed (the branch of ``_COMMITMENT``), and the
# words that make it something to be done: a modal, a future, a readiness, a plan or offer.
_DEPLOYMENT = re.compile(
    r"(?:send(?:s|ing)?|sent|deploy\w*|station(?:s|ed|ing)?|plac(?:e|es|ed|ing)|put(?:s|ting)?)"
    r"\s+(?:\S+\s+){0,3}?(?:troops|forces|soldiers|contingents?|peacekeepers)|"
    # in Russian and Ukrainian: "направила войска", "ввела війська"
    r"\b(?:ввест|ввод|размест|направ|отправ|разверн|развертыв|розмі?ст)\w* (?:\S+ ){0,4}?"
    r"(?:войск|військ|контингент)",
    re.IGNORECASE,
)
_TO_BE_DONE = re.compile(
    r"\b(?:will|would|could|might|may|shall|should|must|ready|willing|prepared|plan\w*|"
    r"propos\w*|offer\w*|pledg\w*|commit\w*|promis\w*|intend\w*|consider\w*|discuss\w*|"
    r"to (?:send|deploy|station|place|put)|if|once|after|until)\b|"
    r"готов|буд[уе]т|могут|может|планир|предлаг|предлож|намер|обсужда|если|после|"
    r"будуть|можуть|пропон|якщо|після|"
    r"\b(?:wird|würde|bereit|soll|werden|sera|serait|prêt|pourrait|będzie|gotow|kommer att|skulle)",
    re.IGNORECASE,
)


def is_terms_sentence(sentence: str, proposal: bool = False) -> bool:
    """Whether a sentence states a term a party would be bound to (neutrality, no foreign bases,
    not joining an alliance, a referendum, a ceasefire first, another's consent) as a commitment
    or a condition, not as a report of the war; in a sentence about a ``proposal`` of security
    guarantees, the terms it proposes ("a proposal for a neutral status") are enough."""
    return bool(
        _TERMS.search(sentence) and (_BOUND.search(sentence) or (proposal and proposes(sentence)))
    )


def rules_findings(text: str) -> Findings:
    """What code finds with no model, located in ``text`` (a copy the caller may change: a
    strategy reads the same article's findings when it plans and again when it concludes).

    In each paragraph that speaks of guarantees or security (or of a commitment to defend):
    every state or organisation named in a sentence about security guarantees is a guarantor
    unless it is named there as the one guaranteed, the attacker, the other side of talks, a
    model or a place (``role``); the one whose proposal, plan or demands they are ("Ukraine's
    proposal", "Russia wants guarantees") the proposer; durations written as deadlines are
    response times; territories named in a sentence that speaks of an exclusion are excluded
    territories; a sentence about guarantees with a condition word ("if", "provided", "only",
    "при условии") is a condition.

    Where the article holds a proposal by those findings, two more kinds of value are taken
    from any paragraph: the owner of a proposal or plan named anywhere ("the US draft plan" in a
    headline), and sentences that state the terms a party would be bound to (``is_terms_sentence``)
    as conditions. Neither alone makes an article hold a proposal.
    """
    found = _rules_findings(text)
    return Findings(
        {name: list(values) for name, values in found.values.items()}, list(found.dropped)
    )


# Spaces other than the plain one (the no-break space of web copy, "в\u00a0течение 24\u00a0часов"):
# the rules read a copy with plain spaces, of the same length, so offsets stay the article's.
_SPACES = str.maketrans(
    dict.fromkeys(
        "\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "
    )
)


def proposer_of(
    sentence: str, people: dict[str, Person], speaker: tuple[str, int] | None
) -> tuple[str, int, str | None] | None:
    """The rules' proposer in a sentence about guarantees: the subject of its proposing or
    demanding verb (``_proposer_mention``), else, where it says what the guarantees must be, the
    one it quotes (``_speaker``; a first-person demand is the paragraph's ``speaker``). A
    person stands for the state the article introduced them with. (state or organisation as
    written, its offset in the sentence or, for a person, -1 with the person's name)."""
    mention = _proposer_mention(sentence, people)
    if mention is None and _REQUIREMENT.search(sentence):
        mention = _speaker(sentence, people)
        if mention is None and speaker is not None and _WE.search(sentence):
            mention = speaker
    if mention is None and speaker is not None and _OUR_SECURITY.search(sentence):
        # The one quoted speaks of guarantees of "our" security or territory: their state's.
        mention = speaker
    if mention is None:
        return None
    name, start = mention
    person = people.get(name)
    if person is not None:
        return person.state, -1, person.name
    return name, start, None


@lru_cache(maxsize=64)
def _rules_findings(original: str) -> Findings:
    text = original.translate(_SPACES)
    findings = Findings()
    extra = Findings()

    def at(start: int, value: str) -> Found | None:
        """``value``, written at ``start`` of the article's copy, located in the article."""
        return found_in(
            original[start : start + len(value)], Chunk(start, original[start : start + len(value)])
        )

    def add(field_name: str, values: list[str], sentence: Chunk, into: Findings) -> None:
        for value in values:
            offset = sentence.text.find(value)
            found = at(sentence.start + offset, value) if offset >= 0 else None
            if found is not None:
                into.add(field_name, found)

    def add_actor(field_name: str, name: str, offset: int, sentence: Chunk, into: Findings) -> None:
        """A state or organisation named at ``offset`` of a sentence, or a person there, who
        stands for the state the article introduced them with."""
        person = people.get(name)
        if person is not None:
            found = at(person.start, person.state)
            if found is not None:
                found.person = person.name
        else:
            found = at(sentence.start + offset, name)
        if found is not None:
            into.add(field_name, found)

    def add_condition(term: str | None, sentence: Chunk, into: Findings) -> None:
        """A condition: its term, with the whole sentence as its evidence."""
        if not term:
            return
        offset = sentence.text.find(term)
        found = at(sentence.start, sentence.text)
        if found is not None and offset >= 0:
            value = original[sentence.start + offset : sentence.start + offset + len(term)]
            into.add("conditions", Found(value, found.evidence))

    chunks = [(p, sentences(p)) for p in paragraphs(text)]
    people = persons([s for _, group in chunks for s in group])
    treaty = names_guarantee_treaty(text)
    quoting: tuple[str, int] | None = None  # who the paragraph before introduced as speaking
    for paragraph, group in chunks:
        about = about_guarantees(paragraph.text, treaty)
        quoted = next((who for s in group if (who := _speaker(s.text, people)) is not None), None)
        # A quotation introduced by the paragraph before ("Here is what X said:") is X's.
        if quoting is not None and _QUOTE_OPEN.match(paragraph.text):
            quoted = quoted or quoting
        else:
            quoting = None
        if paragraph.text.rstrip().endswith(":"):
            quoting = quoted
        for sentence in group:
            # Outside the paragraphs about guarantees and the headline, a plan's owner, not a
            # demand's ("Russia's maximalist demands" are no proposal of guarantees).
            owners = proposal_owners(sentence.text, demands=about or paragraph is chunks[0][0])
            add("proposer", owners, sentence, findings if about else extra)
            guarantee = about and is_guarantee_sentence(sentence.text, treaty)
            for name, offset in presenters(sentence.text, people):
                add_actor("proposer", name, offset, sentence, findings if guarantee else extra)
            mark = _CONDITION_MARK.search(sentence.text) if guarantee else None
            if (
                mark is None
                and is_terms_sentence(sentence.text, guarantee)
                and (about or _PROPOSAL_CUE.search(sentence.text))
            ):
                add_condition(condition_term(sentence.text), sentence, extra)
            if not about:
                continue
            add(
                "response_time",
                response_deadlines(sentence.text, guarantee),
                sentence,
                findings,
            )
            territories = territory_mentions(sentence.text)
            places = [t for t in territories if not _OCCUPIED.match(t)]
            add("excluded_territories", places, sentence, findings)
            if territories and not places:
                # A scope left out ("would not cover the occupied territories"), by its words;
                # beside places it describes them ("Crimea and Donbass, two regions occupied by
                # Russia").
                for start, end in scope_spans(sentence.text):
                    place = _OF_A_PLACE.match(sentence.text, end)
                    if place is not None and _TERRITORY_MENTION.match(sentence.text, place.end()):
                        continue  # "the occupied parts of Donbas" is Donbas
                    found = at(sentence.start + start, sentence.text[start:end])
                    if found is not None:
                        findings.add("excluded_territories", found)
            if not guarantee:
                continue
            add("beneficiary", beneficiary_mentions(sentence.text), sentence, findings)
            add("guarantors", guarantee_mentions(sentence.text), sentence, findings)
            proposer = proposer_of(sentence.text, people, quoted)
            if proposer is not None:
                name, offset, person = proposer
                if person is None:
                    found = at(sentence.start + offset, name)
                else:
                    introduced = people[person.split()[-1]]
                    found = at(introduced.start, name)
                    if found is not None:
                        found.person = person
                if found is not None:
                    findings.add("proposer", found)
                    if _REQUESTING.search(sentence.text) or _OWN_SECURITY.search(sentence.text):
                        findings.add("beneficiary", found)
            if mark is not None:
                add_condition(condition_term(sentence.text, mark), sentence, findings)
    if any(findings.of(name) for name in ("guarantors", "proposer", "conditions")):
        for name, found_values in extra.values.items():
            for item in found_values:
                findings.add(name, item)
        for name in findings.values:
            findings.values[name].sort(key=lambda item: item.evidence.start)
    return findings


def about_guarantees(text: str, treaty: bool = False) -> bool:
    """Whether a paragraph speaks of guarantees or security at all (where the rules look), or,
    in an article that names a treaty on security guarantees (``treaty``), of its signatories."""
    return bool(_GUARANTEE.search(text) or (treaty and _SIGNATORY.search(text)))


def proposes(text: str) -> bool:
    """Whether a sentence has a proposing or demanding word ("proposed", "offer", "demands")."""
    return bool(_PROPOSING.search(text))


# What the learned guarantor model (``extractor.core.guarantor_model``) reads of a sentence: the
# commitment wordings, the guarantee words and the names with their places.
COMMITMENT = _COMMITMENT
GUARANTEE_CUE = _GUARANTEE_WORD
mentions = _mentions
PLAIN_SPACES = _SPACES
