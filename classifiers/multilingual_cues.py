"""Cue phrases per language and intent, quoted in the reasons of the multilingual path.

They do not change a verdict (the heads decide); they show a person which words in a post point where the
verdict points. Matched on word starts, lower-cased ("erstatt" finds "Erstattung" and "erstatten").
"""

from __future__ import annotations

import re
from functools import lru_cache

from classifiers.verdict import Intent

CUES: dict[str, dict[Intent, tuple[str, ...]]] = {
    "de": {
        Intent.complaint: (
            "kaputt",
            "erstatt",
            "abgebucht",
            "keine antwort",
            "nicht erreichbar",
            "unverschämt",
            "frechheit",
            "reklam",
            "beschädigt",
            "warte seit",
        ),
        Intent.purchase_intent: (
            "kaufen",
            "bestellen",
            "was kostet",
            "angebot",
            "lohnt sich",
            "wechseln",
            "mengenrabatt",
        ),
        Intent.question: ("wie kann ich", "wo finde", "weiß jemand", "wie lange", "kündig"),
        Intent.praise: ("danke", "super", "empfehl", "begeistert", "top", "lob"),
    },
    "nl": {
        Intent.complaint: (
            "kapot",
            "terugbetal",
            "afgeschreven",
            "geen reactie",
            "onbereikbaar",
            "schandalig",
            "beschadigd",
            "wacht al",
        ),
        Intent.purchase_intent: ("kopen", "bestellen", "wat kost", "aanbieding", "overstappen", "offerte"),
        Intent.question: ("hoe kan ik", "waar vind", "weet iemand", "hoe lang", "opzeg"),
        Intent.praise: ("bedankt", "top", "aanrader", "geweldig", "tevreden", "compliment"),
    },
    "fr": {
        Intent.complaint: (
            "en panne",
            "rembours",
            "prélevé",
            "aucune réponse",
            "injoignable",
            "inadmissible",
            "abîmé",
            "honteux",
        ),
        Intent.purchase_intent: ("acheter", "commander", "combien coûte", "devis", "ça vaut le coup", "remise"),
        Intent.question: ("comment", "où je trouve", "quelqu'un sait", "combien de temps", "résilier"),
        Intent.praise: ("merci", "génial", "je recommande", "au top", "bravo", "ravi"),
    },
    "es": {
        Intent.complaint: (
            "estropeó",
            "reembolso",
            "cobrado",
            "no contesta",
            "vergüenza",
            "inaceptable",
            "roto",
            "llevo",
        ),
        Intent.purchase_intent: ("comprar", "pedir", "cuánto cuesta", "presupuesto", "merece la pena", "descuento"),
        Intent.question: ("cómo puedo", "dónde encuentro", "alguien sabe", "cuánto tarda", "darse de baja"),
        Intent.praise: ("gracias", "genial", "lo recomiendo", "encantad", "de diez", "maravilla"),
    },
    "it": {
        Intent.complaint: (
            "rotto",
            "rimborso",
            "addebitato",
            "nessuna risposta",
            "irraggiungibile",
            "vergogna",
            "danneggiato",
            "inaccettabile",
        ),
        Intent.purchase_intent: ("comprare", "ordinare", "quanto costa", "preventivo", "ne vale la pena", "sconto"),
        Intent.question: ("come posso", "dove trovo", "qualcuno sa", "quanto ci mette", "disdire"),
        Intent.praise: ("grazie", "fantastico", "lo consiglio", "bravi", "complimenti", "meraviglia"),
    },
    "pt": {
        Intent.complaint: (
            "avariou",
            "reembolso",
            "cobrou",
            "nenhuma resposta",
            "vergonha",
            "inaceitável",
            "danificad",
            "péssimo",
        ),
        Intent.purchase_intent: ("comprar", "encomendar", "quanto custa", "orçamento", "vale a pena", "desconto"),
        Intent.question: ("como posso", "onde encontro", "alguém sabe", "quanto tempo", "cancelar"),
        Intent.praise: ("obrigad", "fantástico", "recomendo", "parabéns", "maravilha", "ótimo"),
    },
    "fi": {
        Intent.complaint: ("rikki", "hajosi", "hyvity", "veloitti", "ei vastaa", "törkeä", "huijaus", "odottanut"),
        Intent.purchase_intent: ("ostaa", "ostamista", "tilata", "paljonko", "tarjous", "kannattaako"),
        Intent.question: ("miten", "mistä löydän", "tietääkö joku", "kauanko", "voinko"),
        Intent.praise: ("kiitos", "mahtava", "suosittelen", "huippu", "loistava", "tyytyväinen"),
    },
    "sv": {
        Intent.complaint: (
            "sönder",
            "återbetal",
            "dragit",
            "inget svar",
            "omöjlig att nå",
            "skandal",
            "trasig",
            "väntat",
        ),
        Intent.purchase_intent: ("köpa", "beställa", "vad kostar", "offert", "värt det", "rabatt"),
        Intent.question: ("hur kan jag", "var hittar", "vet någon", "hur lång tid", "säga upp"),
        Intent.praise: ("tack", "fantastisk", "rekommenderas", "grym", "nöjd", "toppen"),
    },
}


@lru_cache(maxsize=16)
def _patterns(language: str) -> dict[Intent, re.Pattern[str]]:
    return {
        intent: re.compile(r"(?<!\w)(" + "|".join(re.escape(c) for c in cues) + r")\w*", re.IGNORECASE)
        for intent, cues in CUES.get(language, {}).items()
    }


def find_cues(text: str, language: str | None) -> dict[Intent, list[str]]:
    """Per intent, the cue phrases of ``language`` found in ``text`` as written there (at most 3 each)."""
    found: dict[Intent, list[str]] = {}
    for intent, pattern in _patterns(language or "").items():
        hits = list(dict.fromkeys(m.group(0) for m in pattern.finditer(text)))[:3]
        if hits:
            found[intent] = hits
    return found
