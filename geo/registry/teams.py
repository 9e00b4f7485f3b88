"""Teams: moves, and status changes that are conditional (``UPDATE ... WHERE status IN
expected``), so that of two dispatchers assigning one team, one wins and the other gets a
:class:`ConflictError` carrying the team's current status."""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from sqlalchemy import Connection, insert, select, update

from geo.core.vocabulary import (
    INCIDENT_CLOSED,
    INCIDENT_DISPATCHED,
    INCIDENT_OPEN,
    TEAM_ASSIGNED,
    TEAM_AVAILABLE,
    TEAM_BUSY,
    TEAM_STATUSES,
)
from geo.errors import ConflictError, NotFoundError, ValidationError
from geo.registry import database as db
from geo.registry.records import RecordsMixin


class TeamsMixin(RecordsMixin):
    def move_team(self, team_id: str, lon: float, lat: float, *, actor: str = "system") -> None:
        """A team's current position (its home base is kept)."""
        self.update("teams", team_id, {"geometry": shapely.Point(lon, lat)}, actor=actor)

    def set_team_status(self, team_id: str, status: str, *, expected: str | Sequence[str],
                        actor: str = "system") -> None:
        """``status`` if the team is still in ``expected`` (one status or several), else
        :class:`ConflictError` with the team's current status as ``current``."""
        with self._write() as conn:
            self._change_status(conn, team_id, status, expected=expected, actor=actor)
            revision = self._bump_revision(conn, "teams")
        self._after_write("teams", revision)

    def assign_team(self, incident_id: str, team_id: str, *, actor: str = "system") -> int:
        """Assign an *available* team to an incident (one transaction: the team's conditional
        status change, the assignment, the incident's status). Returns the assignment id."""
        incidents, assignments = db.incidents, db.assignments
        with self._write() as conn:
            state = conn.execute(select(incidents.c.status)
                                 .where(incidents.c.id == str(incident_id))
                                 .with_for_update()).scalar()
            if state is None:
                raise NotFoundError(f"incidents: no record with id {incident_id!r}")
            if state == INCIDENT_CLOSED:
                raise ConflictError(f"incident {incident_id} is closed", current=state)
            self._change_status(conn, team_id, TEAM_ASSIGNED, expected=TEAM_AVAILABLE,
                                actor=actor)
            now = db.utc_now()
            assignment = conn.execute(insert(assignments).values(
                incident=str(incident_id), team=str(team_id), assigned_at=now,
                assigned_by=actor)).inserted_primary_key[0]
            conn.execute(update(incidents).where(incidents.c.id == str(incident_id),
                                                 incidents.c.status == INCIDENT_OPEN)
                         .values(status=INCIDENT_DISPATCHED, updated_at=now))
            self._audit(conn, actor=actor, action="assign", layer="incidents",
                        record_id=incident_id, old=None,
                        new={"team": team_id, "assignment": assignment})
            revision = self._bump_revision(conn, "teams")
        self._after_write("teams", revision)
        return int(assignment)

    def release_team(self, team_id: str, *, status: str = TEAM_AVAILABLE,
                     actor: str = "system") -> None:
        """End a team's open assignments and set its status (default: available again)."""
        assignments = db.assignments
        with self._write() as conn:
            self._change_status(conn, team_id, status, expected=TEAM_BUSY, actor=actor)
            conn.execute(update(assignments).where(assignments.c.team == str(team_id),
                                                   assignments.c.released_at.is_(None))
                         .values(released_at=db.utc_now()))
            revision = self._bump_revision(conn, "teams")
        self._after_write("teams", revision)

    @staticmethod
    def _open_assignment(conn: Connection, team_id: str) -> dict | None:
        """The team's latest unreleased assignment: who got it, when, for which incident."""
        table = db.assignments
        row = conn.execute(select(table.c.incident, table.c.assigned_by, table.c.assigned_at)
                           .where(table.c.team == str(team_id), table.c.released_at.is_(None))
                           .order_by(table.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        return {"incident": row.incident, "assigned_by": row.assigned_by,
                "assigned_at": row.assigned_at}

    def _change_status(self, conn: Connection, team_id: str, status: str, *,
                       expected: str | Sequence[str], actor: str) -> None:
        wanted = [expected] if isinstance(expected, str) else list(expected)
        for value in [status, *wanted]:
            if value not in TEAM_STATUSES:
                raise ValidationError(f"status: {value!r} is not one of "
                                      f"{', '.join(TEAM_STATUSES)}")
        table = db.teams
        # The status it had, read under a row lock (SQLite's write transaction holds the whole
        # database), so that the audit entry shows it rather than the statuses allowed.
        current = conn.execute(select(table.c.status).where(table.c.id == str(team_id))
                               .with_for_update()).scalar()
        if current is None:
            raise NotFoundError(f"teams: no record with id {team_id!r}")
        result = conn.execute(update(table).where(table.c.id == str(team_id),
                                                  table.c.status.in_(wanted))
                              .values(status=status, updated_at=db.utc_now()))
        if result.rowcount != 1:
            holder = self._open_assignment(conn, team_id)
            held = (f" (on incident {holder['incident']} since {holder['assigned_at']:%H:%M} "
                    f"UTC, by {holder['assigned_by']})") if holder else ""
            raise ConflictError(f"team {team_id} is {current}{held}, not "
                                f"{' or '.join(wanted)}", current=current, holder=holder)
        self._audit(conn, actor=actor, action="status", layer="teams", record_id=team_id,
                    old={"status": current}, new={"status": status})
