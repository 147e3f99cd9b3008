"""The one cache scheme (pvae_lib.cache): keys, digests, data fingerprints."""
import numpy as np
import pytest

from pvae_lib.cache import canonical, data_fingerprint, is_current, key_digest


def test_a_key_equals_itself_read_back_from_json():
    key = {"section": {"units": (64, 64, 16), "lr": 1e-3}, "seed": 2025}
    stored = canonical(key)
    assert stored["section"]["units"] == [64, 64, 16]
    assert is_current(stored, key)
    assert key_digest(stored) == key_digest(key)


def test_any_change_of_a_key_changes_its_digest_and_currency():
    key = {"section": {"epochs": 200, "lr": 1e-3}, "seed": 2025, "data": "abc"}
    for changed in ({**key, "seed": 2026}, {**key, "section": {"epochs": 201, "lr": 1e-3}},
                    {**key, "data": "abd"}, {k: v for k, v in key.items() if k != "data"}):
        assert key_digest(changed) != key_digest(key)
        assert not is_current(changed, key)
    assert not is_current(None, key) and not is_current("not a key", key)


def test_digest_length_and_bad_keys():
    key = {"a": 1}
    assert len(key_digest(key)) == 16 and len(key_digest(key, 12)) == 12
    assert key_digest(key, 12) == key_digest(key)[:12]
    with pytest.raises(ValueError, match="length"):
        key_digest(key, 0)
    with pytest.raises(TypeError):
        key_digest({"a": np.zeros(3)})


def test_fingerprint_sees_every_pixel_and_label_but_not_the_dtype():
    rng = np.random.default_rng(0)
    images = rng.random((4, 8, 8)) < 0.5
    labels = rng.random(4)
    fp = data_fingerprint(images, labels)
    assert fp == data_fingerprint(images.astype(np.uint8), list(labels))
    assert data_fingerprint(images, np.arange(4.0)) == data_fingerprint(images, np.arange(4))
    flipped = images.copy()
    flipped[2, 3, 5] = ~flipped[2, 3, 5]
    assert data_fingerprint(flipped, labels) != fp
    assert data_fingerprint(images, labels + 1e-12) != fp
    assert data_fingerprint(images) != fp
