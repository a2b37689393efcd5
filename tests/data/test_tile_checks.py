"""The tile suite passes good tiles and names the tiles that break a rule."""


from sunspotter.dataset import tiles
from sunspotter.checks.tiles import check_tiles


def _broken_copy(good_tiles, tmp_path, change):
    import shutil

    copy = tmp_path / "tiles"
    shutil.copytree(good_tiles, copy)
    index = tiles.read_index(copy)
    change(index)
    index.to_parquet(copy / tiles.INDEX_NAME, index=False)
    return copy


def test_good_tiles_pass(good_tiles):
    outcome, rules, table = check_tiles(good_tiles, 0.0, 1.0)
    assert outcome.success, outcome.message()
    assert outcome.rows == len(tiles.read_index(good_tiles)) and rules >= 10


def test_label_that_disagrees_with_mask_is_named(good_tiles, tmp_path):
    def flip(index):
        index.loc[3, "label"] = 1 - index.loc[3, "label"]
    broken = _broken_copy(good_tiles, tmp_path, flip)
    outcome, _, _ = check_tiles(broken, 0.0, 1.0)
    bad_id = tiles.read_index(broken).loc[3, "tile_id"]
    failure = next(f for f in outcome.failures if f["rule"].startswith("label == any sunspot pixel"))
    assert failure["unexpected"] == [bad_id]


def test_date_in_two_splits_is_caught(good_tiles, tmp_path):
    def leak(index):
        first = index["observation"] == index["observation"].iloc[0]
        index.loc[first[first].index[:1], "split"] = "test" if index.loc[0, "split"] != "test" else "train"
    outcome, _, _ = check_tiles(_broken_copy(good_tiles, tmp_path, leak), 0.0, 1.0)
    assert any(f["rule"] == "no observation date is in two splits" for f in outcome.failures), outcome.message()


def test_class_balance_bounds_are_enforced(good_tiles):
    outcome, _, _ = check_tiles(good_tiles, 0.9, 1.0)
    assert not outcome.success
    assert "training tiles with a sunspot are 90%-100% of all" in outcome.message()
