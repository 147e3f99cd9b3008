"""One name per property across the layers: the registry of pvae_lib.data.properties."""
import numpy as np
import pandas as pd
import pytest

from pvae_lib.data.properties import (OFF_DIAGONAL_COLUMNS, PERMEABILITY_COLUMNS, POROSITY, PROPERTIES,
                                     property_values, validate_properties)


def test_registry_maps_names_to_the_authors_columns():
    assert [p.column for p in PROPERTIES.values()] == [POROSITY, *PERMEABILITY_COLUMNS, *OFF_DIAGONAL_COLUMNS]
    assert list(PROPERTIES) == ["n", "k11", "k22", "k33", "k12", "k13", "k23"]
    assert PROPERTIES["k11"].label == "$K_{11}$ (l.u.²)" and PROPERTIES["n"].label == "$n^F$"


def test_off_diagonal_columns_may_be_negative_but_not_missing_values():
    table = pd.DataFrame({"case": [0, 1], POROSITY: [0.3, 0.4], "Permeability_x": [0.1, 0.2],
                          "Permeability_xy": [-0.01, 0.02]})
    assert validate_properties(table)["Permeability_xy"].tolist() == [-0.01, 0.02]
    table.loc[1, "Permeability_xy"] = np.nan
    with pytest.raises(ValueError, match="Permeability_xy"):
        validate_properties(table)
    table.loc[1, "Permeability_xy"] = 0.0
    table.loc[0, "Permeability_x"] = -0.1  # a diagonal permeability is never negative
    with pytest.raises(ValueError, match="negative"):
        validate_properties(table)


def test_property_values_reads_by_name_and_names_what_is_missing():
    table = pd.DataFrame({"case": [0, 1], POROSITY: [0.3, 0.4], "Permeability_x": [0.1, 0.2]})
    np.testing.assert_array_equal(property_values(table), [[0.3, 0.1], [0.4, 0.2]])
    np.testing.assert_array_equal(property_values(table, "k11"), [[0.1], [0.2]])
    with pytest.raises(ValueError, match="Permeability_y"):
        property_values(table, ("n", "k22"))
    with pytest.raises(ValueError, match="unknown properties"):
        property_values(table, ("porosity",))


def test_one_dataset_type_for_synthetic_foam_and_user_data(tmp_path):
    """Synthetic, foam and on-disk datasets are one type: ``properties`` is the table, ``values(names)``
    the array, ``names`` what a model of the data maps to, ``provenance`` how the images were made."""
    from pvae_lib.data import Dataset
    from pvae_lib.data.container import open_dataset, save_dataset
    from pvae_lib.data.datasets import load_synthetic_dataset
    from pvae_lib.data.foam_dataset import load_foam_dataset
    from pvae_lib.data.properties import PATTERN_PROPERTIES, VOLUME_PROPERTIES

    table = pd.DataFrame({"case": [0, 1], POROSITY: [0.25, 0.5], "strain": [0.0, 0.5],
                          **{c: [1.0, 2.0] for c in PERMEABILITY_COLUMNS}})
    foam = Dataset(images=np.zeros((2, 4, 4, 4), bool), properties=table, names=VOLUME_PROPERTIES)
    assert foam.values().shape == (2, 4) and foam.values(["n"])[:, 0].tolist() == [0.25, 0.5]
    assert foam.porosity.tolist() == [0.25, 0.5] and foam.strain.tolist() == [0.0, 0.5]
    assert foam.permeability.shape == (2, 3) and foam.k11.tolist() == [1.0, 2.0]
    # the loaders' return annotations name the one type
    import typing

    for loader in (load_synthetic_dataset, load_foam_dataset, open_dataset):
        assert typing.get_type_hints(loader)["return"] is Dataset, loader.__name__
    # on disk: 2-D patterns map to (n, K11), 3-D samples to a K per axis; unlabelled: a clear error
    save_dataset(tmp_path / "p", np.ones((3, 5, 5), bool), meta={"seed": 7}, extruded_length=5)
    save_dataset(tmp_path / "v", np.ones((3, 5, 5, 5), bool))
    patterns, volumes = open_dataset(tmp_path / "p"), open_dataset(tmp_path / "v")
    assert patterns.names == PATTERN_PROPERTIES and volumes.names == VOLUME_PROPERTIES
    assert patterns.seed == 7 and patterns.provenance["seed"] == 7 and patterns.extruded_length == 5
    assert patterns.sample(0).shape == (5, 5, 5) and volumes.sample(0).shape == (5, 5, 5)
    with pytest.raises(ValueError, match="label it first"):
        patterns.values()
    with pytest.raises(ValueError, match="strain"):
        Dataset(images=np.zeros((1, 2, 2), bool), properties=table.iloc[:1].drop(columns="strain")).strain
