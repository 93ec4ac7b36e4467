"""The corpus glossary: terms that mean the same thing in the business, in either language.

General dictionaries miss a trade's own senses: "franchise" never reaches 加盟, a
"canteen" is not a 食堂 to them, and no dictionary knows that field staff say 涮锅
for 火锅. The people who own the content do know. They keep one file named
`glossary.yaml` in a source folder, one group of equivalent terms per line:

    - [加盟, franchise]
    - [工时, labour hour, man-hour]

Search and answers then treat every term of a group as the same term, ahead of
the dictionaries. The knowledge-gap report names the question words no source
covered, which is where new lines come from.

As search engines do with index-time synonyms, a document that states any term
of a group also holds the group's own token (`≡<n>`). A question term from the
group counts that token among its forms, so the group is one term with one
document frequency: a product name spelled one way in the Chinese documents and
another in the English ones is seen to be in every document, and weighs nothing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated

import yaml
from pydantic import StringConstraints, TypeAdapter, ValidationError
from pydantic.types import conlist
from wordfreq import zipf_frequency

from bot.kb.lexical import add_terms, is_han, lemma_candidates, tokenize, word_parts
from bot.kb.yamlfile import check_bounds, yaml_problem

GLOSSARY_FILE = "glossary.yaml"
GROUP_MARK = "≡"  # no tokenizer emits it: a group's token never collides with a word
MAX_TERM_CHARS = 60

Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TERM_CHARS)]
_GROUPS = TypeAdapter(list[conlist(Term, min_length=2)])  # type: ignore[valid-type]


@dataclass(frozen=True)
class GlossaryProblem:
    line: int
    reason: str


@dataclass(frozen=True)
class Glossary:
    groups: tuple[tuple[str, ...], ...] = ()
    fingerprint: str = ""  # of the files' bytes: a changed glossary means a new index

    def __add__(self, other: Glossary) -> Glossary:
        digest = hashlib.sha256((self.fingerprint + other.fingerprint).encode()).hexdigest()
        return Glossary(self.groups + other.groups, digest)


def parse_glossary(raw: bytes) -> Glossary | list[GlossaryProblem]:
    """A glossary file's groups, or every problem in it with its line."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return [
            GlossaryProblem(raw[: error.start].count(b"\n") + 1, f"not UTF-8 (byte {error.start} cannot be decoded)")
        ]
    loader = yaml.CSafeLoader(text)
    try:
        check_bounds(text)
        # One parse: the nodes give each group its line, the data is built from the same nodes.
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as error:
        line, problem = yaml_problem(error)
        return [GlossaryProblem(line or 1, f"malformed YAML: {problem}")]
    finally:
        loader.dispose()
    if data is None:
        return Glossary(fingerprint=hashlib.sha256(raw).hexdigest())
    if not isinstance(root, yaml.SequenceNode):
        return [GlossaryProblem(1, "a glossary is a list of groups, one per line: - [term, term, ...]")]

    def line_of(location: tuple[int | str, ...]) -> int:
        node: yaml.Node = root
        for part in location:
            if not isinstance(part, int) or not isinstance(node, yaml.SequenceNode) or part >= len(node.value):
                break
            node = node.value[part]
        return node.start_mark.line + 1

    try:
        groups = _GROUPS.validate_python(data)
    except ValidationError as error:
        return [
            GlossaryProblem(line_of(tuple(problem["loc"])), _reason(problem["type"], problem["msg"]))
            for problem in error.errors()
        ]
    problems = []
    for index, group in enumerate(groups):
        seen: set[str] = set()
        for position, term in enumerate(group):
            if term.casefold() in seen:
                problems.append(GlossaryProblem(line_of((index, position)), f"{term!r} appears twice in this group"))
            seen.add(term.casefold())
            if not tokenize(term):
                problems.append(GlossaryProblem(line_of((index, position)), f"{term!r} has no searchable word"))
    if problems:
        return problems
    return Glossary(tuple(tuple(group) for group in groups), hashlib.sha256(raw).hexdigest())


def _reason(kind: str, message: str) -> str:
    if kind == "too_short":
        return "a group needs at least two terms that mean the same thing"
    if kind in ("list_type", "string_type"):
        return f"{message.lower()}: write each group as - [term, term, ...]"
    return message


def term_tokens(term: str) -> tuple[str, ...]:
    """A glossary term as search tokens, the one that stands for the whole term first: the term
    itself when it is one token ("加盟商", "no-show"), else its most specific word in general
    language ("labour hour" → labour, "meal subsidy" → subsidy)."""
    tokens = list(dict.fromkeys(tokenize(term)))
    whole = [t for t in tokens if t == term.strip().lower()]
    key = whole[0] if whole else min(tokens, key=lambda t: zipf_frequency(t, "zh" if is_han(t) else "en"))
    return (key, *(t for t in tokens if t != key))


def group_token(index: int) -> str:
    return f"{GROUP_MARK}{index}"


def is_group_token(token: str) -> bool:
    return token.startswith(GROUP_MARK)


class GlossaryIndex:
    """The glossary's groups as search tokens: which groups a text states, and what that adds."""

    def __init__(self, terms: Sequence[Sequence[Sequence[str]]] = ()) -> None:
        self.terms = [[list(term) for term in group] for group in terms]  # group → term → `term_tokens`
        # A compound word is also spelled by its words: "third party logistics" states "third-party logistics".
        self._parts = {
            word: parts
            for group in self.terms
            for term in group
            for word in term
            if "-" in word and len(parts := word_parts(word)) >= 2
        }
        # Each term under the token that must be in a text for the text to state it (its first word,
        # or that word's first part), so that a text is checked against its own candidates only.
        self._candidates: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for index, group in enumerate(self.terms):
            for position, term in enumerate(group):
                for key in {term[0], *self._parts.get(term[0], [])[:1]}:
                    self._candidates[key].append((index, position))

    @classmethod
    def build(cls, groups: Sequence[Sequence[str]]) -> GlossaryIndex:
        add_terms(term for group in groups for term in group)  # "加盟商" stays one word, in sources and questions
        return cls([[term_tokens(term) for term in group] for group in groups])

    def _stated(self, spelled: dict[str, str]) -> Iterable[tuple[int, str]]:
        """(group, text token standing for it) for each group term whose words are all in the text."""
        for index, position in sorted({found for token in spelled for found in self._candidates.get(token, ())}):
            standing = [self._spelling(word, spelled) for word in self.terms[index][position]]
            if all(standing):
                yield index, str(standing[0])

    def _spelling(self, word: str, spelled: dict[str, str]) -> str | None:
        """The text's token for a word of a term, a compound's first word standing for it."""
        if word in spelled:
            return spelled[word]
        parts = self._parts.get(word, [])
        return spelled[parts[0]] if parts and all(part in spelled for part in parts) else None

    def annotate(self, tokens: Iterable[str]) -> list[str]:
        """A document's group tokens: one per group whose term it states."""
        spelled = {token: token for token in tokens}
        return [group_token(index) for index in dict.fromkeys(index for index, _ in self._stated(spelled))]

    def head_group(self, tokens: Sequence[str]) -> int | None:
        """The group of the last term a phrase states: its head ("会员 30 天复购率" is a 复购率)."""
        position = {token: i for i, token in enumerate(tokens)}
        stated = [(position[token], index) for index, token in self._stated({t: t for t in tokens})]
        return max(stated)[1] if stated else None

    def equivalents(self, tokens: Sequence[str]) -> dict[str, list[str]]:
        """Question token → its group's token and the group's terms. A term of several words is
        stated when all its words are, and stands under its key word; an English word may be
        inflected ("reconciling" states "reconcile")."""
        spelled = {form: token for token in tokens for form in lemma_candidates(token)}
        out: dict[str, list[str]] = defaultdict(list)
        for index, token in self._stated(spelled):
            out[token].extend([group_token(index), *(term[0] for term in self.terms[index])])
        return out
