"""One name per property across the layers: the registry of pvae_lib.data.properties."""
import numpy as np
import pandas as pd
import pytest

from pvae_lib.data.properties import PERMEABILITY_COLUMNS, POROSITY, PROPERTIES, property_values


def test_registry_maps_names_to_the_authors_columns():
    assert [p.column for p in PROPERTIES.values()] == [POROSITY, *PERMEABILITY_COLUMNS]
    assert list(PROPERTIES) == ["n", "k11", "k22", "k33"]
    assert PROPERTIES["k11"].label == "$K_{11}$ (l.u.²)" and PROPERTIES["n"].label == "$n^F$"


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
