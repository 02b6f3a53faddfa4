"""The cluster fixture's default-config link: a killed session's link is replaced, a real config is kept.

These run without SLURM or root: the default path is a temp file here.
"""

from __future__ import annotations

import os

import pytest
from _pytest.outcomes import Failed

TEST_CLUSTER = "vipanttest"  # conftest's cluster name, which marks a config as the tests' own


def _conf(path, cluster: str):
    path.write_text(f"ClusterName={cluster}\nSlurmctldPort=1\n")
    return path


def test_link_left_by_a_killed_session_is_replaced_and_removed_at_exit(tmp_path, conf_link):
    default = tmp_path / "etc" / "slurm.conf"
    default.parent.mkdir()
    stale = _conf(tmp_path / "old.conf", TEST_CLUSTER)  # still resolves: pytest keeps old temp dirs
    default.symlink_to(stale)
    new = _conf(tmp_path / "new.conf", TEST_CLUSTER)
    with conf_link(new, default):
        assert os.readlink(default) == str(new)
    assert not default.exists() and not default.is_symlink()


def test_dangling_link_is_replaced(tmp_path, conf_link):
    default = tmp_path / "slurm.conf"
    default.symlink_to(tmp_path / "gone" / "slurm.conf")
    new = _conf(tmp_path / "new.conf", TEST_CLUSTER)
    with conf_link(new, default):
        assert default.read_text() == new.read_text()


@pytest.mark.parametrize("as_link", [False, True])
def test_a_real_clusters_config_is_never_touched(tmp_path, as_link, conf_link):
    default = tmp_path / "slurm.conf"
    real = _conf(tmp_path / "site.conf", "production")
    if as_link:
        default.symlink_to(real)
    else:
        default.write_text(real.read_text())
    before = default.read_text()
    with pytest.raises(Failed, match="exists"):
        with conf_link(_conf(tmp_path / "new.conf", TEST_CLUSTER), default):
            pass
    assert default.read_text() == before and default.is_symlink() == as_link
