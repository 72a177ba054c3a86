"""classroom/accounts.py: which Unix accounts the classroom hub may start servers as (issue 24).
Fast checks of the rules; tests/test_classroom.py checks them with the hub really running."""

from __future__ import annotations

import os
import pwd
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "classroom"))

from accounts import (  # noqa: E402
    ClassroomConfigError, account_problem, class_members, login_defs_range,
)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Unix accounts on Linux")
UIDS = GIDS = (1000, 60000)


def test_login_defs_range_reads_uid_min_and_max_and_never_goes_below_1000(tmp_path):
    defs = tmp_path / "login.defs"
    defs.write_text("# comment\nUID_MIN\t\t 2000\nUID_MAX 50000\nGID_MIN 500\n#UID_MIN 1\n")
    assert login_defs_range("UID", defs) == (2000, 50000)
    assert login_defs_range("GID", defs) == (1000, 60000)  # 500 would let system groups in
    assert login_defs_range("UID", tmp_path / "missing") == (1000, 60000)


@pytest.mark.parametrize("name, says", [
    ("root", "superuser's account (uid 0)"),
    ("daemon", "system account (uid 1;"),
    ("nobody", "system account (uid 65534;"),
    ("Root", "not a valid Unix user name"),
    ("../etc", "not a valid Unix user name"),
    ("a" * 33, "not a valid Unix user name"),
])
def test_root_system_accounts_and_odd_names_are_refused(name, says):
    assert says in (account_problem(name, UIDS) or "")


def test_a_new_name_or_a_regular_account_is_accepted():
    assert account_problem("llmclock-no-such-user", UIDS) is None
    regular = [p for p in pwd.getpwall() if 1000 <= p.pw_uid <= 60000 and p.pw_name.islower()]
    for entry in regular[:3]:
        assert account_problem(entry.pw_name, UIDS) is None, entry


def test_the_class_must_be_named_and_may_hold_no_system_account():
    with pytest.raises(ClassroomConfigError, match="set CLASSROOM_STUDENTS"):
        class_members([], None, UIDS, GIDS)
    with pytest.raises(ClassroomConfigError, match="root is the superuser's account"):
        class_members(["ana", "root"], None, UIDS, GIDS)
    with pytest.raises(ClassroomConfigError, match="system group"):
        class_members([], "root", UIDS, GIDS)
    with pytest.raises(ClassroomConfigError, match="no such Unix group"):
        class_members([], "llmclock-no-such-group", UIDS, GIDS)
    assert class_members(["ana", "ben"], None, UIDS, GIDS) == {"ana", "ben"}


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="Unix only")
def test_a_group_of_regular_accounts_gives_its_members():
    import grp

    groups = [g for g in grp.getgrall() if 1000 <= g.gr_gid <= 60000]
    usable = []
    for group in groups:
        members = set(group.gr_mem) | {
            p.pw_name for p in pwd.getpwall() if p.pw_gid == group.gr_gid}
        if members and all(account_problem(m, UIDS) is None for m in members):
            usable.append((group.gr_name, members))
    if not usable:
        pytest.skip("no group of regular accounts on this machine")
    name, members = usable[0]
    assert class_members([], name, UIDS, GIDS) == members
    assert class_members(["llmclock-extra"], name, UIDS, GIDS) == members | {"llmclock-extra"}
