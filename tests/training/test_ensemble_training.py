"""The GPU ensemble recipe's pieces that decide what the students learn: the compact base, the folds, the target."""

from __future__ import annotations

import numpy as np
import pytest

from training.ensemble import _folds, _log_softmax, compact_vocabulary, out_of_fold_target


def test_the_compact_base_encodes_its_texts_exactly_as_the_base_does() -> None:
    torch = pytest.importorskip("torch")
    from transformers import AutoModel

    from classifiers.encoder import base_model_path, load_tokenizer

    texts = ["@user the app keeps crashing, fix it!!", "zyzzyva quokka 🚀 naïve café"]
    ids = [e.ids for e in load_tokenizer().encode_batch(texts)]
    base = AutoModel.from_pretrained(str(base_model_path()), dtype=torch.float32).eval()
    compact = AutoModel.from_pretrained(str(base_model_path()), dtype=torch.float32).eval()
    remap = compact_vocabulary(compact, ids)

    assert compact.config.vocab_size == len({i for row in ids for i in row} | {0, 100, 101, 102, 103})
    assert remap[0] == 0  # [PAD] stays the padding row
    with torch.inference_mode():
        for row in ids:
            want = base(input_ids=torch.tensor([row])).last_hidden_state
            got = compact(input_ids=torch.from_numpy(remap[row])[None]).last_hidden_state
            assert torch.allclose(want, got, atol=1e-5)


def test_folds_are_stratified_and_the_same_in_every_process() -> None:
    labels = np.array([0] * 103 + [1] * 250 + [2] * 47)
    folds = _folds(labels, 5)

    assert np.array_equal(folds, _folds(labels, 5))
    assert set(folds.tolist()) == {0, 1, 2, 3, 4}
    for label in (0, 1, 2):
        counts = np.bincount(folds[labels == label], minlength=5)
        assert counts.max() - counts.min() <= 1


def test_a_tweets_target_comes_only_from_teachers_that_never_trained_on_it() -> None:
    fallback = np.array([[0.0, 0.0, 5.0]] * 4)
    members = [
        {"held_rows": np.array([0, 1]), "held": np.array([[4.0, 0.0, 0.0], [0.0, 4.0, 0.0]])},
        {"held_rows": np.array([0]), "held": np.array([[0.0, 4.0, 0.0]])},
        {"held_rows": np.array([2]), "held": np.array([[0.0, 0.0, 1.0]])},
    ]
    target, seen = out_of_fold_target(members, fallback)

    assert seen.tolist() == [2, 1, 1, 0]
    expected_0 = (_log_softmax(np.array([[4.0, 0.0, 0.0]])) + _log_softmax(np.array([[0.0, 4.0, 0.0]]))) / 2
    assert np.allclose(target[0], expected_0[0])
    assert np.allclose(target[1], _log_softmax(np.array([[0.0, 4.0, 0.0]]))[0])
    assert np.allclose(target[3], _log_softmax(fallback)[3])  # held out by none: the starting model's view
    assert target[0].argmax() in (0, 1) and target[3].argmax() == 2
