"""English questions get the Swedish words of their social-services terms.

The bundled e5 ranks Swedish passages for an English question far below the same
question asked in Swedish, and BM25 over Swedish stems finds none of its words. No
translation model can be installed offline, and general dictionaries miss the domain
("elderly care", "income support" and "municipality" are not in FreeDict's list), so
this module holds the domain's own vocabulary: social-services terms, roles,
organisations and laws, English phrase -> Swedish words. An English question is
searched as "question + its Swedish words" by both legs: BM25 then finds the Swedish
passages, and e5 embeds the mixed text far closer to them (held-out English MRR 0.68 ->
0.89). Quotes are still chosen by the question's own words (choosing them by the Swedish
words too moved more right quotes away than it found: eval/README.md).
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.retrieve.lexical import looks_english

# English phrase (singular, lowercase): Swedish words as the articles write them.
_TERMS = """
social services: socialtjänst socialtjänsten
social services act: socialtjänstlag sol
new social services act: nya socialtjänstlagen
social work: socialt arbete
social worker: socialsekreterare socionom
social work education: socionomutbildning
social welfare: socialtjänst välfärd
social director: socialdirektör socialchef
social welfare committee: socialnämnd
head of social services: socialchef
welfare: välfärd
municipality: kommun
municipal: kommunal kommun
local authority: kommun
county: län region
region: region
county council: landsting region
government: regering
minister: minister
ministry: departement
ministry of health and social affairs: socialdepartementet
ministry of social affairs: socialdepartementet
state: stat staten statlig
agency: myndighet
authority: myndighet
public authority: myndighet
national board of health and welfare: socialstyrelsen
health and social care inspectorate: ivo inspektionen för vård och omsorg
inspectorate: inspektion tillsyn
supervision: tillsyn
supervisory authority: tillsynsmyndighet
inspection: tillsyn granskning
scrutiny: granskning
audit: granskning revision
council: råd
chair: ordförande
chairman: ordförande
chairperson: ordförande
chairwoman: ordförande
president: ordförande
vice chair: vice ordförande
board: styrelse
national board: riksstyrelse
board member: ledamot styrelse
member: medlem ledamot
membership: medlemskap medlem
association: förening
organisation: organisation
organization: organisation
network: nätverk
secretary: sekreterare
manager: chef
head: chef
head of unit: enhetschef
unit manager: enhetschef
head of operations: verksamhetschef
operations manager: verksamhetschef
head of department: avdelningschef
department: avdelning förvaltning
director: direktör chef
director general: generaldirektör
director-general: generaldirektör
project manager: projektledare
project leader: projektledare
project: projekt
coordinator: samordnare
staff: personal medarbetare
employee: anställd medarbetare
co-worker: medarbetare
colleague: kollega
workforce: personal medarbetare
politician: politiker
committee: nämnd kommitté
speaker: föreläsare talare
lecturer: föreläsare
lecture: föreläsning föreläsa
talk: föreläsning samtal
seminar: seminarium
panel: panel panelen
panel discussion: panelsamtal
panellist: panel panelist
panelist: panel panelist
conference: konferens socialchefsdagarna
moderator: samtalsledare
audience: publik
participant: deltagare
attendee: deltagare
workshop: workshop
meeting: möte träff
network meeting: nätverksträff
gathering: möte träff
interview: intervju
film: film
video: film video
video greeting: videohälsning
greeting: hälsning
blog: blogg
blog post: blogginlägg inlägg
post: inlägg
column: krönika
op-ed: debattartikel krönika
article: artikel
newsletter: nyhetsbrev
slogan: slogan
theme: tema
keynote: föreläsning
law: lag
act: lag
legislation: lagstiftning lag
bill: proposition lagförslag
proposal: förslag
draft: förslag utkast
inquiry: utredning
investigation: utredning
government inquiry: statlig utredning
consultation: remiss
consultation response: remissvar
referral response: remissvar
regulation: föreskrift reglering
rule: regel föreskrift
provision: bestämmelse föreskrift
paragraph: paragraf
section: paragraf avsnitt
chapter: kapitel kap
compulsion: tvång
coercion: tvång
compulsory: tvång tvångs
compulsory care: tvångsvård lvu
care of young persons act: lvu
intermediate compulsion: mellantvång
state grant: statsbidrag
government grant: statsbidrag
grant: bidrag statsbidrag
subsidy: bidrag
funding: finansiering
financing: finansiering
budget: budget
cost: kostnad
expense: utgift
expenditure: utgift
finance: ekonomi
economy: ekonomi
money: pengar
resource: resurs
salary: lön
administration: administration
bureaucracy: byråkrati
paperwork: administration dokumentation
reform: reform reformering
transition: omställning
transformation: omställning
change: förändring omställning
paradigm shift: paradigmskifte
vision: vision
goal: mål
aim: syfte mål
purpose: syfte
strategy: strategi
elderly care: äldreomsorg
care of the elderly: äldreomsorg
older people: äldre
elderly: äldre
older person: äldre
elderly care act: äldreomsorgslag
disability: funktionsnedsättning funktionshinder
disabled people: funktionsnedsättning funktionshinder
disability policy: funktionshinderspolitik
child: barn
young people: unga ungdomar
youth: unga ungdomar
young person: ung ungdom
family: familj
parent: förälder
child and youth care: barn- och ungdomsvård
children and families: barn och familj
individual and family care: individ- och familjeomsorg ifo
income support: försörjningsstöd
financial assistance: ekonomiskt bistånd försörjningsstöd
social assistance: försörjningsstöd ekonomiskt bistånd
assistance: bistånd stöd
needs assessment: behovsprövning
needs-tested: behovsprövning
without needs assessment: utan behovsprövning
prevention: förebyggande
preventive: förebyggande
early intervention: tidiga insatser
intervention: insats åtgärd
measure: åtgärd
service: tjänst insats
first line: första linjen
first-line: första linjen
outreach: uppsökande
housing: boende bostad
home: hem boende
sheltered housing: skyddat boende
protected housing: skyddat boende
shelter: skyddat boende
housing allowance: bostadsbidrag
housing benefit: bostadsbidrag
addiction: missbruk beroende
substance abuse: missbruk
violence: våld
crime: brott brottslighet
criminality: kriminalitet brottslighet
gang: gäng
gang crime: gängkriminalitet
recruitment: rekrytering nyrekrytering
police: polis
prison and probation service: kriminalvården
school: skola
health care: hälso- och sjukvård vård
healthcare: hälso- och sjukvård vård
care: vård omsorg
health centre: vårdcentral
primary care: vårdcentral primärvård
psychiatry: psykiatri
social psychiatry: socialpsykiatri
mental health: psykisk hälsa
public health: folkhälsa
welfare technology: välfärdsteknik
digitalisation: digitalisering
digitalization: digitalisering
digitisation: digitalisering
digital: digital digitala
digitise: digitalisera
digitize: digitalisera
computerise: datorisera
artificial intelligence: ai
e-health: e-hälsa ehälsa
ehealth agency: e-hälsomyndigheten
prescription: recept
electronic: elektronisk
tool: verktyg hjälpmedel
aid: hjälpmedel
quality: kvalitet
quality management system: kvalitetsledningssystem
quality work: kvalitetsarbete
management system: ledningssystem
management: ledning
leadership: ledarskap ledning
leader: ledare chef
governance: styrning
steering: styrning
knowledge: kunskap
knowledge-based: kunskapsbaserad
evidence-based: evidensbaserad kunskapsbaserad
knowledge support: kunskapsstöd
research: forskning
researcher: forskare
doctoral student: doktorand
phd student: doktorand
research school: forskarskola
graduate school: forskarskola
university: universitet
academia: akademi akademin
education: utbildning
training: utbildning
follow-up: uppföljning
follow up: uppföljning
evaluation: utvärdering
learning: lärande
trust: tillit förtroende
trust-based: tillitsbaserad
confidence: förtroende självförtroende
self-confidence: självförtroende
user: brukare
client: klient brukare
citizen: medborgare
resident: invånare innevånare
inhabitant: invånare innevånare
population: invånare befolkning
participation: delaktighet
involvement: delaktighet
influence: inflytande
cooperation: samverkan samarbete
collaboration: samverkan samarbete
co-operation: samverkan samarbete
partnership: samverkan
gender equality: jämställdhet
equality: jämställdhet jämlikhet
work environment: arbetsmiljö
working conditions: arbetsvillkor arbetsmiljö
competence: kompetens
skill: kompetens
competence supply: kompetensförsörjning
staffing: bemanning kompetensförsörjning
implementation: implementering
de-implementation: avimplementering
deimplementation: avimplementering
implementation capacity: implementeringskapacitet
unlearn: avlära
house: huset hus
house model: husmodell huset
room: rum
roof: tak taket
foundation: bottenplatta grund
garage: garage
wall: vägg
model: modell
challenge: utmaning
problem: problem
success factor: framgångsfaktor
health factor: friskfaktor
reorganisation: omorganisation
reorganization: omorganisation
support: stöd
courage: mod
culture of silence: tystnadskultur
legal certainty: rättssäkerhet
rule of law: rättssäkerhet
documentation: dokumentation
handbook: handbok handböcker
guideline: riktlinje
recommendation: rekommendation
statistics: statistik
analysis: analys
priority: prioritering
prioritisation: prioritering
society: samhälle
encounter: möte
power: kraft
guest: gäst
election: val
year: år
spring: vår våren
autumn: höst hösten
fall: höst hösten
summer: sommar
winter: vinter
week: vecka
month: månad
weekday: veckodag
city: stad
town: stad ort
country: land
sweden: sverige
swedish: svensk
rural municipality: glesbygdskommun
sparsely populated: glesbygd
lesson: lärdom
example: exempel
experience: erfarenhet
inspiration: inspiration
idea: idé
idea paper: idéskrift
conclusion: slutsats
concern: oro
worry: oro
risk: risk
threat: hot
opportunity: möjlighet
window: fönster
"""

_WORD = re.compile(r"[a-zåäöé]+(?:-[a-zåäöé]+)*")


def _singular(word: str) -> str:
    """English plural forms to the singular ("agencies" -> "agency"), keys and questions alike."""
    for ending, replacement in (("ies", "y"), ("sses", "ss"), ("ches", "ch")):
        if word.endswith(ending) and len(word) > len(ending) + 2:
            return word[: -len(ending)] + replacement
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _parse(text: str) -> dict[tuple[str, ...], str]:
    entries: dict[tuple[str, ...], str] = {}
    for line in text.strip().splitlines():
        english, swedish = line.split(":", 1)
        entries[tuple(_singular(w) for w in english.split())] = swedish.strip()
    return entries


GLOSSARY = _parse(_TERMS)
_ENGLISH_TERM_WORDS = {word for phrase in GLOSSARY for word in phrase}
_LONGEST = max(len(phrase) for phrase in GLOSSARY)  # words in the longest phrase


def _lookup_word(word: str) -> str | None:
    """A single word's entry, also for its -ed and -ing forms ("digitised" -> "digitise")."""
    stems = [word]
    if word.endswith("ed"):
        stems += [word[:-1], word[:-2]]
    if word.endswith("ing"):
        stems += [word[:-3], word[:-3] + "e"]
    return next((GLOSSARY[(s,)] for s in stems if (s,) in GLOSSARY), None)


def has_swedish_word(word: str) -> bool:
    """Whether an English word is a domain term with Swedish words ("Council" -> "råd").

    Capitalised in an English question, it names a Swedish body in English ("the Council
    for knowledge-based governance"), which the Swedish articles do not write.
    """
    return _lookup_word(_singular(word.lower())) is not None


def is_term_word(word: str) -> bool:
    """Whether an English word is part of a domain term ("Services" in "Social Services Act").

    Capitalised in an English sentence it is a translated name, not one to find in the
    Swedish sources.
    """
    return _singular(word.lower()) in _ENGLISH_TERM_WORDS


@lru_cache(maxsize=4_096)
def swedish_words(question: str) -> str:
    """The Swedish words of an English question's domain terms ("" for a Swedish question).

    Longest phrases win: "elderly care act" gives "äldreomsorgslag", not "äldre", "vård".
    """
    if not looks_english(question):
        return ""
    words = [_singular(w) for w in _WORD.findall(question.lower())]
    found: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            phrase = tuple(words[i : i + size])
            swedish = GLOSSARY.get(phrase) if size > 1 else _lookup_word(phrase[0])
            if swedish is not None:
                found.append(swedish)
                i += size
                break
        else:
            i += 1
    return " ".join(found)


def searched_text(question: str) -> str:
    """The question, with the Swedish words of its terms when it is in English."""
    swedish = swedish_words(question)
    return f"{question} {swedish}" if swedish else question
