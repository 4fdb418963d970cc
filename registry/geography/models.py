"""Local authorities (children's services authorities, upper tier)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from registry.extensions import db


class LocalAuthority(db.Model):
    """One of the 153 children's services authorities in England."""

    __tablename__ = 'local_authorities'

    #: ONS code, for example ``E09000033`` (Westminster).
    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    #: DfE three-digit code, for example ``213``.
    dfe_code: Mapped[str] = mapped_column(String(3), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(String(9), nullable=False, index=True)
    region_name: Mapped[str] = mapped_column(String(60), nullable=False)
    #: Ofsted's spelling, used to match Ofsted's register.
    ofsted_name: Mapped[str] = mapped_column(String(120), nullable=False)

    def __repr__(self) -> str:
        return f'<LocalAuthority {self.code} {self.name}>'
