"""Which Unix accounts the classroom hub may start a server as (CLASSROOM_UNIX_USERS=1): only
the class's own students, never root or a system account. classroom/jupyterhub_config.py uses
it at start-up (a configuration that would allow more stops the hub with a message) and again
before every spawn (a name that reached the hub some other way, e.g. the admin API, is refused).

The class is CLASSROOM_STUDENTS (names; an account is made on a student's first start if it
does not exist) and/or CLASSROOM_GROUP (a dedicated Unix group: its members, who must exist).
"""

from __future__ import annotations

import grp
import pwd
import re
from pathlib import Path

# useradd's default NAME_REGEX (Debian/Ubuntu), without the trailing "$" of machine accounts,
# and in the lower case JupyterHub gives user names.
NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}\Z")
LOGIN_DEFS = Path("/etc/login.defs")


class ClassroomConfigError(ValueError):
    """The classroom configuration would let the hub start servers as accounts that are not
    the class's students."""


def login_defs_range(kind: str, login_defs: Path = LOGIN_DEFS) -> tuple[int, int]:
    """(least, most) uid ("UID") or gid ("GID") of regular accounts: login.defs' UID_MIN and
    UID_MAX (GID_...), 1000 and 60000 when it does not say; never below 1000. Everything
    outside is root or a system account (daemon, www-data, nobody = 65534, ...)."""
    values = {f"{kind}_MIN": 1000, f"{kind}_MAX": 60000}
    try:
        lines = login_defs.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        field = line.split()
        if len(field) >= 2 and field[0] in values and field[1].isdigit():
            values[field[0]] = int(field[1])
    return max(1000, values[f"{kind}_MIN"]), values[f"{kind}_MAX"]


def account_problem(name: str, uids: tuple[int, int]) -> str | None:
    """Why the hub must never start a server as Unix user `name`, or None. A name with no
    account yet is fine (the hub makes one, with a uid in the regular range)."""
    if not NAME.match(name):
        return "is not a valid Unix user name (lower-case letters, digits, '_' and '-')"
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return None
    if uid == 0:
        return "is the superuser's account (uid 0)"
    if not uids[0] <= uid <= uids[1]:
        return (f"is a system account (uid {uid}; students' accounts have uids {uids[0]}-{uids[1]}"
                f", from {LOGIN_DEFS})")
    return None


def group_members(group: str, gids: tuple[int, int]) -> set[str]:
    """Members of a dedicated Unix group (listed in it, or with it as their primary group)."""
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        raise ClassroomConfigError(
            f"CLASSROOM_GROUP={group}: there is no such Unix group. Make one for the class "
            f"(groupadd {group}; usermod -aG {group} STUDENT) or list the students in "
            "CLASSROOM_STUDENTS.") from None
    if not gids[0] <= entry.gr_gid <= gids[1]:
        raise ClassroomConfigError(
            f"CLASSROOM_GROUP={group} is a system group (gid {entry.gr_gid}; groups made for "
            f"people have gids {gids[0]}-{gids[1]}). Use a group made for the class only.")
    members = set(entry.gr_mem) | {p.pw_name for p in pwd.getpwall() if p.pw_gid == entry.gr_gid}
    if not members:
        raise ClassroomConfigError(f"CLASSROOM_GROUP={group} has no members: add the students "
                                   f"(usermod -aG {group} STUDENT).")
    return members


def class_members(students: list[str], group: str | None, uids: tuple[int, int],
                  gids: tuple[int, int]) -> set[str]:
    """The user names the hub may start servers as; ClassroomConfigError if the configuration
    names no class, or names root, a system account or a name that is not a user name."""
    if not students and not group:
        raise ClassroomConfigError(
            "CLASSROOM_UNIX_USERS=1 starts each student's server as their own Unix account, so "
            "the hub must know who the students are: set CLASSROOM_STUDENTS=name1,name2,... "
            "(accounts are made on a student's first start) or CLASSROOM_GROUP=GROUP (the "
            "members of a Unix group made for the class). Without either, anyone with the "
            "password could start a server as any account.")
    members = set(students) | (group_members(group, gids) if group else set())
    refused = [f"{name} {problem}" for name in sorted(members)
               if (problem := account_problem(name, uids))]
    if refused:
        source = "CLASSROOM_STUDENTS" + (f" / CLASSROOM_GROUP={group}" if group else "")
        raise ClassroomConfigError(f"{source}: refused: " + "; ".join(refused) + ". The hub "
                                   "starts servers only as students' own accounts.")
    return members
