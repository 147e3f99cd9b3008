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


def test_datasets_share_the_vocabulary(tmp_path):
    """Synthetic, foam and on-disk datasets: ``properties`` is the table, ``values(names)`` the array."""
    import dataclasses

    from pvae_lib.data.datasets import SyntheticDataset
    from pvae_lib.data.foam_dataset import FoamDataset

    table = pd.DataFrame({"case": [0, 1], POROSITY: [0.25, 0.5], "strain": [0.0, 0.5],
                          **{c: [1.0, 2.0] for c in PERMEABILITY_COLUMNS}})
    foam = FoamDataset(images=np.zeros((2, 4, 4, 4), bool), properties=table, volumes=[])
    assert foam.values().shape == (2, 4) and foam.values(["n"])[:, 0].tolist() == [0.25, 0.5]
    assert {f.name for f in dataclasses.fields(SyntheticDataset)} >= {"properties"}
    assert SyntheticDataset.NAMES == ("n", "k11") and FoamDataset.NAMES == ("n", "k11", "k22", "k33")
