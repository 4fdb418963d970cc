"""The anonymous demand log and the pre-aggregated tables the market pages read.

The log holds no user and no child: an authority, an age band, needs, a provision type, the distance asked and how
many settings met every requirement. The aggregates are rebuilt (or, for demand, extended) by
:func:`market.refresh.refresh_all`; the register snapshots are written at every Ofsted import.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, utcnow
from registry.extensions import db


class DemandLog(db.Model):
    """One finder search or referral, anonymously: what was asked for, and whether anything met it all."""

    __tablename__ = 'market_demand_log'

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The day only (no time): enough for statistics, less to link back to a child.
    logged_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: ``search`` (the placement finder) or ``referral``.
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    authority_code: Mapped[str] = mapped_column(ForeignKey('local_authorities.code'), nullable=False)
    age_band: Mapped[str] = mapped_column(String(8), nullable=False)
    #: A provision type's value, ``any`` when none was chosen, ``several`` when more than one.
    provision_type: Mapped[str] = mapped_column(String(40), nullable=False)
    #: Need keys, sorted and comma-separated (``autism,self-harm``); empty when none were asked for.
    needs: Mapped[str] = mapped_column(String(600), default='', nullable=False)
    max_distance_miles: Mapped[int | None] = mapped_column(Integer)
    #: Settings meeting every hard requirement; None when it could not be told (a referral sent without reasons).
    matches: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f'<DemandLog {self.id} {self.kind} {self.authority_code}>'


class DemandFigure(db.Model):
    """Searches (or referrals) and how many had no match meeting every requirement, by authority, type and need.

    ``need`` is empty on the row that counts each search once; a search asking for two needs also counts once
    on each of those needs' rows. Rows with an empty ``authority_code`` are totals, rebuilt at each refresh: a
    region's (``region`` set) and England's (``region`` empty), so no page adds up authorities as it is drawn.
    """

    __tablename__ = 'market_demand'
    __table_args__ = (
        UniqueConstraint('authority_code', 'region', 'kind', 'provision_type', 'need', name='uq_market_demand_key'),
        Index('ix_market_demand_region', 'region', 'authority_code'),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_code: Mapped[str] = mapped_column(String(9), nullable=False)
    region: Mapped[str] = mapped_column(String(60), nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    provision_type: Mapped[str] = mapped_column(String(40), nullable=False)
    need: Mapped[str] = mapped_column(String(40), nullable=False)
    searches: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Searches where it is known how many settings met every requirement (a referral may not say).
    assessed: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Of those, searches where no setting met every requirement.
    unmet: Mapped[int] = mapped_column(Integer, nullable=False)

    def __repr__(self) -> str:
        return f'<DemandFigure {self.authority_code} {self.kind} {self.provision_type} {self.need!r}>'


class PriceFigure(db.Model):
    """Weekly price quartiles (pence) for one cell; the quartiles are None when the cell is suppressed."""

    __tablename__ = 'market_prices'
    __table_args__ = (
        Index('ix_market_prices_area', 'area_kind', 'area', 'source', 'provision_type'),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``placement`` (agreed prices) or ``offer`` (prices offered).
    source: Mapped[str] = mapped_column(String(10), nullable=False)
    #: ``all`` or a quarter of the start (placements) or offer date: ``2026-Q3``.
    period: Mapped[str] = mapped_column(String(7), nullable=False)
    provision_type: Mapped[str] = mapped_column(String(40), nullable=False)
    #: ``national``, ``region`` (the home authority's) or ``authority`` (the home authority).
    area_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    area: Mapped[str] = mapped_column(String(60), nullable=False)
    need: Mapped[str] = mapped_column(String(40), nullable=False)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    providers: Mapped[int] = mapped_column(Integer, nullable=False)
    p25: Mapped[int | None] = mapped_column(Integer)
    median: Mapped[int | None] = mapped_column(Integer)
    p75: Mapped[int | None] = mapped_column(Integer)

    @property
    def suppressed(self) -> bool:
        return self.median is None

    def __repr__(self) -> str:
        return f'<PriceFigure {self.source} {self.area_kind}:{self.area} {self.provision_type} {self.period}>'


class FlowFigure(db.Model):
    """Placements from one home authority into one host authority, of one type.

    Totals sit beside them, rebuilt at each refresh: a pair of authorities over all types has an empty
    ``provision_type``; a region's (``home_region`` set) and England's (empty) have an empty ``home_authority_code``
    and ``same`` or ``other`` as ``host_authority_code`` (placed in the home authority, or outside it).
    """

    __tablename__ = 'market_flows'
    __table_args__ = (
        Index('ix_market_flows_home', 'home_authority_code', 'provision_type'),
        Index('ix_market_flows_host', 'host_authority_code', 'provision_type'),
        Index('ix_market_flows_region', 'home_region', 'home_authority_code'),
        Index('ix_market_flows_type_placements', 'provision_type', 'placements'),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    home_authority_code: Mapped[str] = mapped_column(String(9), nullable=False)
    home_region: Mapped[str] = mapped_column(String(60), nullable=False)
    host_authority_code: Mapped[str] = mapped_column(String(9), nullable=False)
    provision_type: Mapped[str] = mapped_column(String(40), nullable=False)
    placements: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Placements whose distance is known, and of those, how many were more than 20 miles from home.
    with_distance: Mapped[int] = mapped_column(Integer, nullable=False)
    beyond_20_miles: Mapped[int] = mapped_column(Integer, nullable=False)
    total_miles: Mapped[float] = mapped_column(Float, nullable=False)

    def __repr__(self) -> str:
        return f'<FlowFigure {self.home_authority_code}->{self.host_authority_code} {self.placements}>'


class RegisterSnapshot(db.Model):
    """Active registrations in one Ofsted release, by provision type and authority."""

    __tablename__ = 'market_register_snapshots'
    __table_args__ = (
        UniqueConstraint('as_at', 'provision_type', 'authority_code', name='uq_market_register_snapshots_key'),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    as_at: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    provision_type: Mapped[str] = mapped_column(String(40), nullable=False)
    #: Empty for registrations Ofsted places outside England's 153 authorities.
    authority_code: Mapped[str] = mapped_column(String(9), nullable=False)
    region: Mapped[str] = mapped_column(String(60), nullable=False)
    homes: Mapped[int] = mapped_column(Integer, nullable=False)
    places: Mapped[int] = mapped_column(Integer, nullable=False)

    def __repr__(self) -> str:
        return f'<RegisterSnapshot {self.as_at} {self.provision_type} {self.authority_code}>'


class OwnershipFigure(db.Model):
    """Concentration of registered places among owners in one release, nationally or in one region."""

    __tablename__ = 'market_ownership'
    __table_args__ = (UniqueConstraint('as_at', 'area_kind', 'area', name='uq_market_ownership_key'),)

    id: Mapped[int] = mapped_column(primary_key=True)
    as_at: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    area_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    area: Mapped[str] = mapped_column(String(60), nullable=False)
    owners: Mapped[int] = mapped_column(Integer, nullable=False)
    places: Mapped[int] = mapped_column(Integer, nullable=False)
    top10_places: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Herfindahl–Hirschman index over owners' shares of places, in percent squared (0 to 10,000).
    hhi: Mapped[float] = mapped_column(Float, nullable=False)

    @property
    def top10_share(self) -> float:
        return 100 * self.top10_places / self.places if self.places else 0.0

    def __repr__(self) -> str:
        return f'<OwnershipFigure {self.as_at} {self.area_kind}:{self.area} hhi={self.hhi:.0f}>'


class RefreshState(db.Model):
    """When each aggregate was last rebuilt, and (for demand) the last log row counted."""

    __tablename__ = 'market_refresh_state'

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    def __repr__(self) -> str:
        return f'<RefreshState {self.name} {self.last_id}>'
