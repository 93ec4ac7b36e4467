"""Lexical search: a Chinese- and English-aware tokenizer, chunk-level BM25 (bm25s)
and a document-level scorer that counts a query term as matched when the
document holds the term or one of its translations."""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import bm25s
import jieba
import numpy as np
import simplemma
from pypinyin import lazy_pinyin
from wordfreq import zipf_frequency

from bot.kb.jsonfile import read_json, write_json

jieba.setLogLevel(logging.WARNING)
_UNTAUGHT: list[str] = []  # the corpus's terms added since the segmenter last cut
_TEACHING = threading.Lock()

_HAN_RANGES = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs, extension A and compatibility
HAN_CHAR = re.compile(rf"[{_HAN_RANGES}]")
HAN_RUN = re.compile(rf"[{_HAN_RANGES}]+")
_COMPOUND = re.compile(r"[-_]")
_TOKEN = re.compile(rf"[{_HAN_RANGES}]+|[A-Za-z][A-Za-z0-9_+#'-]*|\d+(?:\.\d+)?")
EN_STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does doing for from had has have how i if in into is
    it its me my of on or our ours should so than that the their them then there these they this those to us
    was we were what when where which who whom why will with would you your any some give tell about show
    please just also get got want need needs make makes much many very really still there here other others
    more most such only own same too can't don't does't isn't aren't wasn't what's how's let let's s t""".split()
)
ZH_STOPWORDS = frozenset(
    """的 了 和 是 在 有 我 我们 你 你们 他 他们 她 它 这 那 就 也 都 要 会 吗 呢 吧 啊 呀 与 及 或 对 把 被 让 给
    一个 一家 一下 什么 怎么 怎么样 如何 哪些 哪个 为什么 可以 能 能否 是否 请 有没有 没有 有个 这么 那么 这个 那个
    还是 还有 应该 需要 一些 之类 时候 的话 里 上 下 中 等 个 得 地 着 过 吗 么 哪 谁 多少""".split()
)
COMMON_ZIPF = 6.5  # a word this frequent (zipf scale) says nothing about the topic
MIN_RESPELLED = 5  # shorter words are too often one letter from another real word
KNOWN_WORD_ZIPF = 2.0  # a word this frequent is a word of the language, not a typo
BM25_DIR = "bm25"
INFO_FILE = "lexical.json"
DOC_TERMS_FILE = "doc_terms.npz"
TOKENS_FILE = "tokens.json"  # each passage's tokens, for the next ingest (answering never reads it)
# Bump when `tokenize` splits or stems differently: the next ingest tokenizes every passage again
# (and publishes even when no source changed), without embedding anything again.
TOKENIZER_VERSION = "1"


def is_han(text: str) -> bool:
    return bool(HAN_CHAR.search(text))


def _stem(word: str) -> str:
    # A light English stemmer: enough to match "stores"/"store", "costs"/"cost".
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith(("ss", "us", "is")):
            return word[: -len(suffix)] + keep
    return word


def tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        piece = match.group(0)
        if is_han(piece):
            tokens.extend(w for w in segmenter().lcut_for_search(piece) if w not in ZH_STOPWORDS)
        else:
            word = piece.lower().strip("'-").removesuffix("'s")  # "Redline's" is "redline"
            if word and word not in EN_STOPWORDS:
                tokens.append(_stem(word))
                if _COMPOUND.search(word):
                    # "go-live" also matches "go live" and "live"; a slug ("fast_food") its words.
                    tokens.extend(word_parts(word))
    return tokens


# A plural phrasal compound ("check-ins", "follow-ups") ends in a particle plus "s": as a word of
# its own, "ins" or "ups" would read as a rare term no source uses.
_PLURAL_PARTICLES = frozenset("ins ons ups offs outs downs backs".split())


def word_parts(word: str) -> list[str]:
    """The words of a compound ("go-live", a slug "fast_food") as search tokens."""
    return [
        _stem(part)
        for part in _COMPOUND.split(word)
        if part and part not in EN_STOPWORDS and part not in _PLURAL_PARTICLES
    ]


def lemma_candidates(word: str) -> list[str]:
    """The word and plausible base forms, for dictionary look-ups ("reconciling" → "reconcile",
    and irregular ones: "thrown" → "throw"); a Chinese word is its only form."""
    out = [word]
    for suffix, replacements in (("ing", ("", "e")), ("ed", ("", "e")), ("ies", ("y",)), ("es", ("",)), ("s", ("",))):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.extend(word[: -len(suffix)] + r for r in replacements)
    base = lemma(word)
    return out if base in out else [*out, base]


@functools.lru_cache(maxsize=65536)
def lemma(token: str) -> str:
    """An English token's dictionary form ("scanned" → "scan", "receiving" → "receive").
    Search keeps inflections apart: its voices and the abstention policy were calibrated on
    these tokens, and lemmatizing them cost the eval set's recall@1 (0.886 → 0.861). Matching
    a question's terms in a sentence to quote should not."""
    return token if is_han(token) else simplemma.lemmatize(token, lang="en")


def add_terms(terms: Iterable[str]) -> None:
    """Teach the segmenter the corpus's own vocabulary (tags, segments, modules) before it next
    segments: jieba loads its dictionary (most of a second) on the first word taught or cut, which a
    process that never cuts Chinese (an English question, an English document's edit) need not pay."""
    with _TEACHING:
        _UNTAUGHT.extend(term for term in terms if is_han(term) and len(term) >= 2)


def segmenter() -> jieba.Tokenizer:
    """jieba's shared segmenter (its search cuts and part-of-speech tags), taught every term added."""
    if _UNTAUGHT:
        with _TEACHING:
            for term in _UNTAUGHT:
                jieba.add_word(term)
            _UNTAUGHT.clear()
    return jieba.dt


@functools.lru_cache(maxsize=65536)
def sound(word: str) -> str:
    """A Chinese word's sound in pinyin, without tones ("召回" → "zhaohui"): questions repeat their words."""
    return "".join(lazy_pinyin(word))


def _is_name(word: str) -> bool:
    """A Latin word long enough, and rare enough in English, to be a name written in pinyin."""
    return len(word) >= MIN_RESPELLED - 1 and word.isascii() and word.isalpha() and not _known_word(word)


def _known_word(word: str) -> bool:
    return zipf_frequency(word, "en") >= KNOWN_WORD_ZIPF


def one_edit_apart(a: str, b: str) -> bool:
    """Whether one insertion, deletion, substitution or swap of neighbours turns a into b."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    start = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), len(a))
    if len(a) < len(b):
        return a[start:] == b[start + 1 :]
    swapped = start + 1 < len(a) and a[start] == b[start + 1] and a[start + 1] == b[start]
    return a[start + 1 :] == b[start + 1 :] or (swapped and a[start + 2 :] == b[start + 2 :])


class DocTerms:
    """BM25-style document scores where each query concept (a term and its
    translations) counts once, by its best-matching form.

    Held as arrays, saved as they are: loading them costs no Python loop over the corpus's postings,
    which at 100,000 chunks would be seconds of every start-up and hundreds of MB of Python objects."""

    def __init__(
        self,
        doc_ids: list[str],
        vocabulary: list[str],
        arrays: Mapping[str, np.ndarray],
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        """`arrays`, as `from_counts` lays them out: document by document, the offsets of each
        document's terms ("offsets"), those terms as positions in `vocabulary` ("terms") and their
        counts ("tfs"); term by term, the same postings ("starts", "rows", "row_tfs")."""
        self.doc_ids, self.vocabulary = doc_ids, vocabulary
        self._offsets, self._terms, self._tfs = arrays["offsets"], arrays["terms"], arrays["tfs"]
        # Postings (term → documents holding it, with counts) keep a question's scoring to the
        # documents that hold its terms, however many documents the index has.
        self._starts, self._rows, self._row_tfs = arrays["starts"], arrays["rows"], arrays["row_tfs"]
        self._position = {term: i for i, term in enumerate(vocabulary)}
        self.df = dict(zip(vocabulary, np.diff(self._starts).tolist()))
        self._lengths = np.bincount(self._rows, weights=self._row_tfs, minlength=len(doc_ids))
        self.average = float(self._lengths.mean()) if len(self._lengths) else 1.0
        self.k1, self.b = k1, b

    @classmethod
    def from_counts(cls, counts: Mapping[str, Mapping[str, int]]) -> DocTerms:
        """From each document's term counts."""
        vocabulary = sorted({term for terms in counts.values() for term in terms})
        position = {term: i for i, term in enumerate(vocabulary)}
        sizes = [len(terms) for terms in counts.values()]
        terms = np.fromiter((position[t] for held in counts.values() for t in held), np.int32, sum(sizes))
        tfs = np.fromiter((c for held in counts.values() for c in held.values()), np.int32, sum(sizes))
        order = np.argsort(terms, kind="stable")
        arrays = {
            "offsets": np.r_[0, np.cumsum(sizes, dtype=np.int64)],
            "terms": terms,
            "tfs": tfs,
            "starts": np.r_[0, np.cumsum(np.bincount(terms, minlength=len(vocabulary)), dtype=np.int64)],
            "rows": np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)[order],
            "row_tfs": tfs[order],
        }
        return cls(list(counts), vocabulary, arrays)

    def save(self, path: Path) -> None:
        np.savez(
            path,
            offsets=self._offsets,
            terms=self._terms,
            tfs=self._tfs,
            starts=self._starts,
            rows=self._rows,
            row_tfs=self._row_tfs,
        )

    @classmethod
    def load(cls, path: Path, doc_ids: list[str], vocabulary: list[str]) -> DocTerms:
        with np.load(path) as arrays:
            return cls(doc_ids, vocabulary, {key: arrays[key] for key in arrays.files})

    def terms_of(self, doc_id: str) -> dict[str, int]:
        """A document's term counts (none for a document the index does not hold)."""
        row = self._row_of.get(doc_id)
        if row is None:
            return {}
        start, end = self._offsets[row], self._offsets[row + 1]
        vocabulary = self.vocabulary
        return {vocabulary[i]: tf for i, tf in zip(self._terms[start:end].tolist(), self._tfs[start:end].tolist())}

    @functools.cached_property
    def _row_of(self) -> dict[str, int]:
        return {doc_id: row for row, doc_id in enumerate(self.doc_ids)}

    def idf(self, term: str) -> float:
        n, df = len(self.doc_ids), self.df.get(term, 0)
        return math.log((n - df + 0.5) / (df + 0.5) + 1.0)

    def rarity(self, forms: Sequence[str]) -> float:
        """1 for a term no document uses, falling to 0 for one every document uses
        (a product name that is everywhere says nothing about which document answers)."""
        n = len(self.doc_ids) or 1
        return 1.0 - max((self.df.get(form, 0) / n for form in forms), default=0.0)

    def respelling(self, word: str) -> str | None:
        """The corpus word a question word misspells, if it plainly does: an English word that is no
        word of the language and one edit (a letter added, dropped, changed or two swapped) from
        exactly one corpus word ("inventroy", "trainng"); a Chinese word the corpus does not use,
        written with the sound of exactly one corpus word of its length (招回 for 召回); a compound
        written as one word that the corpus hyphenates ("walkthrough", "cutover")."""
        if word in self.df:
            return None
        if word in self._joined:
            return self._joined[word]
        if is_han(word):
            if len(word) < 2:
                return None
            found = [w for w in self._by_sound.get(sound(word), ()) if len(w) == len(word)]
        else:
            if len(word) < MIN_RESPELLED or not word.isalpha() or _known_word(word):
                return None
            found = [w for w in self._by_initial.get(word[0], ()) if one_edit_apart(word, w)]
        return found[0] if len(found) == 1 else None

    @functools.cached_property
    def _joined(self) -> dict[str, str]:
        return {word.replace("-", ""): word for word in self.df if "-" in word}

    @functools.cached_property
    def _by_initial(self) -> dict[str, list[str]]:
        words: dict[str, list[str]] = {}
        for word in self.df:
            if word.isascii() and word.isalpha() and len(word) >= MIN_RESPELLED - 1:
                words.setdefault(word[0], []).append(word)
        return words

    def transliterations(self, word: str) -> list[str]:
        """The corpus words of the other script that write the same name ("美团" and "meituan", "蜀渝"
        and "shuyu"): names keep their sound across languages. An English word counts only when it is
        no word of the language ("long" is 龙 only by accident)."""
        if is_han(word):
            spoken = sound(word) if len(word) >= 2 else ""
            return [spoken] if spoken in self.df and _is_name(spoken) else []
        if not _is_name(word):
            return []
        return list(self._by_sound.get(word, ()))

    @functools.cached_property
    def _by_sound(self) -> dict[str, list[str]]:
        """The corpus's Chinese words by their sound in pinyin, without tones."""
        sounds: dict[str, list[str]] = {}
        for word in self.df:
            if len(word) >= 2 and all(HAN_CHAR.match(ch) for ch in word):
                sounds.setdefault(sound(word), []).append(word)
        return sounds

    def _postings(self, term: str) -> slice:
        """Where a term's postings are in `_rows` and `_row_tfs` (nowhere for a term no document holds)."""
        i = self._position.get(term)
        return slice(self._starts[i], self._starts[i + 1]) if i is not None else slice(0, 0)

    def rows(self, term: str) -> np.ndarray:
        """The documents (as positions in `doc_ids`) that hold a term."""
        return self._rows[self._postings(term)]

    def term_scores(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(documents holding the term, their BM25 score for it)."""
        span = self._postings(term)
        rows, tf = self._rows[span], self._row_tfs[span]
        norm = 1 - self.b + self.b * self._lengths[rows] / self.average
        return rows, self.idf(term) * tf * (self.k1 + 1) / (tf + self.k1 * norm)

    def scores(self, concepts: list[list[str]], admitted: np.ndarray) -> dict[str, float]:
        """Each admitted document's score, where it is above 0: per concept its best form's."""
        total = np.zeros(len(self.doc_ids))
        for forms in concepts:
            best = np.zeros(len(self.doc_ids))
            for form in forms:
                rows, scores = self.term_scores(form)
                best[rows] = np.maximum(best[rows], scores)
            total += best
        return {self.doc_ids[row]: float(total[row]) for row in np.flatnonzero((total > 0) & admitted)}

    def coverage(self, concepts: list[list[str]], weights: Sequence[float], admitted: np.ndarray) -> dict[str, float]:
        """Each admitted document's share of the concepts' weight that it holds in some form, where above 0."""
        covered = np.zeros(len(self.doc_ids))
        for forms, weight in zip(concepts, weights):
            holds = np.zeros(len(self.doc_ids), dtype=bool)
            for form in forms:
                holds[self.rows(form)] = True
            covered += weight * holds
        covered /= sum(weights) or 1.0
        return {self.doc_ids[row]: float(covered[row]) for row in np.flatnonzero((covered > 0) & admitted)}


def _saved(path: Path, terms: Iterable[str]) -> dict[str, Any] | None:
    """A lexical index file, if it was built with these terms."""
    try:
        saved = read_json(path)
    except (OSError, ValueError):
        return None
    same = saved.get("terms") == sorted(set(terms)) and saved.get("tokenizer", "1") == TOKENIZER_VERSION
    return saved if same else None


def _doc_terms(directory: Path, info: Mapping[str, Any]) -> DocTerms:
    if "doc_terms" in info:  # a snapshot written before the counts were saved as arrays
        return DocTerms.from_counts(info["doc_terms"])
    return DocTerms.load(directory / DOC_TERMS_FILE, info["doc_ids"], info["vocabulary"])


def text_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


@functools.lru_cache(maxsize=8192)
def specificity(term: str) -> float:
    """How much a term narrows the topic: 0 for the commonest words, up to 6.5 for unknown ones.
    A token is as common as the commonest word the stemmer turns into it: "alway" is "always"."""
    if is_han(term):
        return max(0.0, COMMON_ZIPF - zipf_frequency(term, "zh"))
    words = [term, *(word for word in (f"{term}s", f"{term[:-1]}ies") if _stem(word) == term)]
    return max(0.0, COMMON_ZIPF - max(zipf_frequency(word, "en") for word in words))


def concept_weights(concepts: Sequence[Sequence[str]], doc_terms: DocTerms) -> list[float]:
    """Each question term's weight: specific in general language, and not in every document."""
    return [specificity(forms[0]) * doc_terms.rarity(forms) for forms in concepts]


class LexicalIndex:
    def __init__(
        self, retriever: bm25s.BM25, size: int, doc_terms: DocTerms, terms: list[str], tokens: dict[str, list[str]]
    ) -> None:
        self._retriever = retriever
        self.size = size
        self.doc_terms = doc_terms
        self.terms = terms
        self._tokens = tokens  # by text_key; empty when loaded for answering

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        doc_ids: Sequence[str],
        terms: Iterable[str] = (),
        annotate: Callable[[list[str]], list[str]] | None = None,
        known: Mapping[str, list[str]] | None = None,
        counted: Mapping[str, Mapping[str, int]] | None = None,
    ) -> LexicalIndex:
        """`terms`: words the segmenter must keep whole. `annotate`: further tokens a passage
        holds for document-level matching (the glossary's group tokens), given its tokens.
        `known`: tokens of texts segmented before with the same terms (`known_tokens`), by text_key.
        `counted`: term counts of documents whose passages and annotations are unchanged (`known_counts`)."""
        terms = sorted(set(terms))
        add_terms(terms)
        known = known or {}
        keys = [text_key(text) for text in texts]
        tokenized = [known[key] if key in known else tokenize(text) for key, text in zip(keys, texts)]
        retriever = bm25s.BM25()
        retriever.index([tokens or [""] for tokens in tokenized], show_progress=False)
        counted = counted or {}
        counts: dict[str, Counter[str]] = {}
        for doc_id, tokens in zip(doc_ids, tokenized):
            if doc_id not in counted:
                counts.setdefault(doc_id, Counter()).update(tokens + (annotate(tokens) if annotate else []))
        doc_terms = DocTerms.from_counts({d: counted[d] if d in counted else counts[d] for d in dict.fromkeys(doc_ids)})
        return cls(retriever, len(texts), doc_terms, terms, dict(zip(keys, tokenized)))

    @staticmethod
    def known_tokens(directory: Path, terms: Iterable[str]) -> dict[str, list[str]]:
        """The passages' tokens a snapshot's lexical index was built from, when it was built
        teaching the segmenter the same terms (else segmenting again could split differently)."""
        saved = _saved(directory / TOKENS_FILE, terms)
        return saved["tokens"] if saved else {}

    @staticmethod
    def known_counts(directory: Path, terms: Iterable[str]) -> DocTerms | None:
        """The document term counts of a snapshot's lexical index built with the same terms.
        They hold the glossary's annotations too: reuse them only under the same glossary."""
        info = _saved(directory / INFO_FILE, terms)
        return _doc_terms(directory, info) if info else None

    def vocabulary(self) -> tuple[set[str], set[str]]:
        """(Chinese words, English words) that occur in the corpus."""
        words = {word for word in self.doc_terms.df if word[0].isalnum()}
        zh = {w for w in words if is_han(w)}
        return zh, words - zh

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._retriever.save(str(directory / BM25_DIR), show_progress=False)
        doc_terms = self.doc_terms
        info = {
            "size": self.size,
            "terms": self.terms,
            "doc_ids": doc_terms.doc_ids,
            "vocabulary": doc_terms.vocabulary,
            "tokenizer": TOKENIZER_VERSION,
        }
        write_json(directory / INFO_FILE, info)
        doc_terms.save(directory / DOC_TERMS_FILE)
        write_json(
            directory / TOKENS_FILE, {"terms": self.terms, "tokenizer": TOKENIZER_VERSION, "tokens": self._tokens}
        )

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        info = read_json(directory / INFO_FILE)
        add_terms(info["terms"])
        retriever = bm25s.BM25.load(str(directory / BM25_DIR), show_progress=False)
        return cls(retriever, int(info["size"]), _doc_terms(directory, info), info["terms"], {})

    def scores(self, query: str) -> np.ndarray:
        tokens = [t for t in tokenize(query) if t in self._retriever.vocab_dict]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens))
