"""The Ceph release chooser and root builder refuse what they cannot do, in words, and never leave a
half-built root that a later run would trust (scripts/stack/ceph-root.sh, scripts/stack/ceph.sh)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support import ROOT

SCRIPTS = ROOT / "scripts" / "stack"
# Nothing listens on the discard port: every download from this "mirror" fails at once.
DEAD_MIRROR = "http://127.0.0.1:9/debian"


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=120, env={**os.environ, **env}, check=False
    )


def test_an_unsupported_release_is_named_with_the_ones_that_are(tmp_path: Path) -> None:
    for command in ([SCRIPTS / "ceph-root.sh", "check", "17"], [SCRIPTS / "ceph.sh", "start"]):
        done = _run(*command, LATCHKEY_CEPH="17", CEPH_DIR=str(tmp_path / "ceph"), CEPH_MON_PORT="1", CEPH_RGW_PORT="2")
        assert done.returncode == 1
        assert "LATCHKEY_CEPH='17' is not a supported Ceph release: choose 16" in done.stderr
    assert not (tmp_path / "ceph").exists() and not (tmp_path / "ceph.release").exists()


def test_a_download_that_fails_leaves_no_root_behind(tmp_path: Path) -> None:
    done = _run(
        SCRIPTS / "ceph-root.sh", "ensure", "18", LATCHKEY_CEPH_ROOTS=str(tmp_path), LATCHKEY_DEBIAN_MIRROR=DEAD_MIRROR
    )
    assert done.returncode == 1
    assert "debootstrap of Debian trixie failed" in done.stderr and "nothing was kept" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["ceph-18.build.log"]


def test_a_half_built_root_is_never_trusted(tmp_path: Path) -> None:
    # A root whose build stopped before its last step has no version marker: it is built again.
    (tmp_path / "ceph-20" / "usr" / "bin").mkdir(parents=True)
    (tmp_path / "ceph-20" / "usr" / "bin" / "radosgw").write_text("")
    done = _run(
        SCRIPTS / "ceph-root.sh", "ensure", "20", LATCHKEY_CEPH_ROOTS=str(tmp_path), LATCHKEY_DEBIAN_MIRROR=DEAD_MIRROR
    )
    assert done.returncode == 1
    assert "building the Ceph 20 root from Debian forky" in done.stderr
    assert "debootstrap of Debian forky failed" in done.stderr
    assert _run(SCRIPTS / "ceph-root.sh", "version", "20", LATCHKEY_CEPH_ROOTS=str(tmp_path)).returncode != 0
