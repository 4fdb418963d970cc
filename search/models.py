"""The SQL engine's own index tables: one row per listed setting, with the columns filters and facets need.

The full-text indexes are dialect-specific and live outside the ORM (created by the migrations): on SQLite the
FTS5 table ``search_fts``, kept in step with ``search_entries`` by triggers, and ``search_fts_instances``, a view of
its vocabulary; on PostgreSQL the generated ``search_vector`` column, copied by a trigger into the narrow table
``search_words`` with the GIN index (see the migration ``c3a8e5f1d2b7`` for why). Distances need no spatial index:
each worker's snapshot filters a box on the eastings and northings, then the exact circle (the R*Trees that did
this in SQL went in ``d4f2b8e6a1c9``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime
from registry.extensions import db


class SearchEntry(db.Model):
    """One listed setting as the SQL engine indexes it."""

    __tablename__ = 'search_entries'
    __table_args__ = (Index('ix_search_entries_easting_northing', 'easting', 'northing'),
                      Index('ix_search_entries_public_easting_northing', 'public_easting', 'public_northing'))

    #: The setting's id.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    organisation_name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: Everything else worth matching: description, type, needs, places.
    body: Mapped[str] = mapped_column(Text, nullable=False)
    provision_type: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    lot: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    judgement: Mapped[str | None] = mapped_column(String(40))
    #: 0 when there is no judgement, so "at least good" is ``judgement_rank >= 3``.
    judgement_rank: Mapped[int] = mapped_column(Integer, nullable=False)
    authority_code: Mapped[str] = mapped_column(String(9), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(9), nullable=False, index=True)
    age_min: Mapped[int] = mapped_column(Integer, nullable=False)
    age_max: Mapped[int] = mapped_column(Integer, nullable=False)
    sex: Mapped[str] = mapped_column(String(10), nullable=False)
    has_vacancy: Mapped[bool] = mapped_column(Boolean, nullable=False)
    easting: Mapped[float] = mapped_column(Float, nullable=False)
    northing: Mapped[float] = mapped_column(Float, nullable=False)
    #: Where public searches place the entry: the authority centroid for confidential types, else exact.
    public_easting: Mapped[float] = mapped_column(Float, nullable=False)
    public_northing: Mapped[float] = mapped_column(Float, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: ``qualified`` | ``not_qualified`` | ``in_house``: only qualified entries are public.
    standing: Mapped[str] = mapped_column(String(20), nullable=False, default='qualified', server_default='qualified')
    #: The whole :class:`search.entries.DirectoryEntry`, as JSON, returned with each hit.
    doc: Mapped[str] = mapped_column(Text, nullable=False)


class SearchEntryNeed(db.Model):
    """A need an indexed setting meets (one row each, for "all of these needs" and the needs facet)."""

    __tablename__ = 'search_entry_needs'

    entry_id: Mapped[int] = mapped_column(ForeignKey('search_entries.id', ondelete='CASCADE'), primary_key=True)
    need: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class SearchEntryAuthority(db.Model):
    """An authority that has accepted the setting's organisation onto its local list for the setting's lot."""

    __tablename__ = 'search_entry_authorities'

    entry_id: Mapped[int] = mapped_column(ForeignKey('search_entries.id', ondelete='CASCADE'), primary_key=True)
    authority_code: Mapped[str] = mapped_column(String(9), primary_key=True, index=True)


class SearchVocabulary(db.Model):
    """A distinct word of the index and how many entries use it: the vocabulary for "did you mean" suggestions
    (:mod:`search.suggest`), kept up to date by each write's difference in words."""

    __tablename__ = 'search_vocabulary'

    term: Mapped[str] = mapped_column(String(60), primary_key=True)
    entries: Mapped[int] = mapped_column(Integer, nullable=False)


class SearchIndexState(db.Model):
    """One row (id 1): changed in the same transaction as every write to the index, so workers know to reload.

    ``token`` is random for each write, so a rolled-back write can never be mistaken for a later committed one.
    """

    __tablename__ = 'search_index_state'

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    token: Mapped[str] = mapped_column(String(32), nullable=False)
    #: Moves whenever ``search_vocabulary`` changes, so snapshots re-read it only then (not on a vacancy update).
    vocabulary_version: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default='0')


class SearchIndexChange(db.Model):
    """An entry written in one version of the index (``entry_id`` None: every entry, after a clear).

    Written with the state row, so a worker whose snapshot is at version v reads only the entries changed since v;
    ``token`` is that version's token, so the worker can tell its version is in this history (not one from before
    a restore or a reset). Writers prune versions older than ``snapshot.KEPT_VERSIONS``.
    """

    __tablename__ = 'search_index_changes'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    token: Mapped[str] = mapped_column(String(32), nullable=False)
    entry_id: Mapped[int | None] = mapped_column(Integer)


class IndexSyncState(db.Model):
    """The index lock and write version: every write to the search index (drain, rebuild, repair) first bumps
    ``version`` in its own transaction and builds its entries after that, so concurrent writers queue here and the
    last to write has read the newest data. Elasticsearch stores ``version`` with each document (external
    versioning), so a late retry of an older write can never overwrite a newer one."""

    __tablename__ = 'index_sync_state'

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
