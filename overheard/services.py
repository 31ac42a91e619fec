"""Service functions the CLI, API and Celery tasks share: one function per user-visible action."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from enrichers.crm_io import CrmImport, RowError, import_csv, import_hubspot
from enrichers.model import Company, CompanyClass
from storage.contacts import SqlContactDirectory, save_company, save_consent, save_contact
from storage.gdpr import ErasureReport, erase_contact, export_contact


def import_contacts(engine: Engine, path: Path) -> CrmImport:
    """Import a contacts CSV or HubSpot JSON export: valid contacts are written whole in one transaction,
    bad rows come back as errors naming row and column."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix.lower() == ".json":
        parsed = import_hubspot(json.loads(path.read_text(encoding="utf-8")))
    else:
        with engine.begin() as connection:
            known = SqlContactDirectory(connection).companies()
        parsed = import_csv(path, known)
    with engine.begin() as connection:
        for company in parsed.companies:
            save_company(connection, company)
        for contact in parsed.contacts:
            save_contact(connection, contact)
        for consent in parsed.consents:
            save_consent(connection, consent)
    return parsed


@dataclass(frozen=True)
class CompanyImport:
    companies: tuple[Company, ...]
    errors: tuple[RowError, ...]


def import_companies(engine: Engine, path: Path) -> CompanyImport:
    """Companies CSV (company_id,name,domain,classification,competitor_of); bad rows are reported, not written."""
    companies: list[Company] = []
    errors: list[RowError] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row_number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                classification = CompanyClass((row.get("classification") or "other").strip())
            except ValueError:
                allowed = ", ".join(c.value for c in CompanyClass)
                errors.append(
                    RowError(row_number, "classification", f"{row.get('classification')!r} is not one of {allowed}")
                )
                continue
            if not (row.get("company_id") or "").strip() or not (row.get("name") or "").strip():
                column = "company_id" if not (row.get("company_id") or "").strip() else "name"
                errors.append(RowError(row_number, column, "is required"))
                continue
            companies.append(
                Company(
                    id=row["company_id"].strip(),
                    name=row["name"].strip(),
                    domain=(row.get("domain") or "").strip().lower() or None,
                    classification=classification,
                    competitor_of=(row.get("competitor_of") or "").strip() or None,
                )
            )
    with engine.begin() as connection:
        for company in companies:
            save_company(connection, company)
    return CompanyImport(tuple(companies), tuple(errors))


def gdpr_export(engine: Engine, contact_id: str, actor: str) -> dict[str, Any]:
    with engine.begin() as connection:
        return export_contact(connection, contact_id, actor=actor)


def gdpr_erase(engine: Engine, contact_id: str, actor: str) -> ErasureReport:
    with engine.begin() as connection:
        return erase_contact(connection, contact_id, actor=actor)
